import json

from trustbench.core.leaderboard import Leaderboard, write_leaderboard

from .conftest import demo_record as _record


def test_html_escapes_record_strings(demo_family, tmp_path):
    records = [_record("mean", s, 0.1) for s in range(3)]
    records += [_record("zero", s, 1.0) for s in range(3)]
    records.append(
        _record(
            "<script>alert(1)</script>",
            0,
            0.0,
            status="failed",
            error="<img src=x onerror=alert(1)>",
        )
    )
    board = Leaderboard.build(demo_family, "smoke", records)
    paths = write_leaderboard(board, tmp_path)
    page = next(p for p in paths if p.suffix == ".html").read_text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_json_has_claims_and_intervals(demo_family, tmp_path):
    records = [_record("mean", s, 0.1 + 0.01 * s) for s in range(3)]
    records += [_record("zero", s, 1.0) for s in range(3)]
    board = Leaderboard.build(demo_family, "smoke", records)
    write_leaderboard(board, tmp_path)
    data = json.loads((tmp_path / "smoke" / "demo.json").read_text())
    mean = next(m for m in data["metrics"] if m["method"] == "mean")
    assert mean["ci_low"] <= mean["mean"] <= mean["ci_high"]
    assert data["claims"][0]["verdict"] == "holds"
