import subprocess
import sys

from trustbench.core.cli import main

from .conftest import DEMO, INCOMPLETE


def test_unknown_family_exit_two(capsys):
    assert main(["run", "nosuchfamily"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trustbench: error: unknown family 'nosuchfamily'")
    assert "Traceback" not in err


def test_unknown_method_exit_two(capsys, tmp_path):
    code = main(
        [
            "run",
            "demo",
            "--plugin",
            str(DEMO),
            "--method",
            "median",
            "--store",
            str(tmp_path / "s.sqlite"),
        ]
    )
    assert code == 2
    assert "unknown method 'median'" in capsys.readouterr().err


def test_incomplete_plugin_exit_two(capsys, tmp_path):
    code = main(["run", "demo", "--plugin", str(INCOMPLETE), "--store", str(tmp_path / "s.sqlite")])
    assert code == 2
    assert "does not implement 'estimate'" in capsys.readouterr().err


def test_invalid_param_exit_two(capsys, tmp_path):
    code = main(
        [
            "run",
            "demo",
            "--plugin",
            str(DEMO),
            "--param",
            "mean.shift=abc",
            "--store",
            str(tmp_path / "s.sqlite"),
        ]
    )
    assert code == 2
    assert "invalid value 'abc' for parameter 'shift'" in capsys.readouterr().err


def test_corrupt_store_exit_two(capsys, tmp_path):
    store = tmp_path / "bad.sqlite"
    store.write_bytes(b"garbage" * 200)
    assert main(["show", "--store", str(store)]) == 2
    assert "corrupt" in capsys.readouterr().err


def test_unexpected_verdict_exit_one(tmp_path, capsys):
    # A shift of 3 breaks the claim that the mean is within 0.5 of the truth.
    code = main(
        [
            "run",
            "demo",
            "--plugin",
            str(DEMO),
            "--tier",
            "smoke",
            "--method",
            "mean",
            "--method",
            "zero",
            "--param",
            "mean.shift=3",
            "--workers",
            "1",
            "--store",
            str(tmp_path / "s.sqlite"),
            "--leaderboard-dir",
            str(tmp_path),
        ]
    )
    assert code == 1
    assert "(expected holds)" in capsys.readouterr().out


def test_run_show_export_roundtrip(tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert (
        main(
            [
                "run",
                "demo",
                "--plugin",
                str(DEMO),
                "--tier",
                "smoke",
                "--method",
                "mean",
                "--method",
                "zero",
                "--store",
                store,
                "--leaderboard-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert main(["show", "--store", store, "--metric", "abs_error"]) == 0
    assert "6 record(s)" in capsys.readouterr().out
    for suffix in ("csv", "json", "parquet"):
        assert main(["export", str(tmp_path / f"out.{suffix}"), "--store", store]) == 0
        assert (tmp_path / f"out.{suffix}").stat().st_size > 0


def test_module_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "trustbench", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--time-limit SECONDS" in result.stdout
