"""The leaderboard page rendered by a real headless Chromium."""

import os
import shutil
import subprocess

import pytest

from trustbench.core.leaderboard import Leaderboard, write_leaderboard

from .conftest import demo_record as _record

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="headless Chromium not installed (Debian package chromium); CI installs it",
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _dump_dom(page, profile):
    assert CHROMIUM is not None, "CI needs Debian's chromium for the browser check"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_page_renders_claims_and_escapes(demo_family, tmp_path):
    records = [_record("mean", s, 0.1) for s in range(3)]
    records += [_record("zero", s, 1.0) for s in range(3)]
    payload = "<img src=x onerror=\"document.body.setAttribute('data-pwned', 1)\">"
    records.append(_record(payload, 0, 0.0, status="failed", error=payload))
    board = Leaderboard.build(demo_family, "smoke", records)
    paths = write_leaderboard(board, tmp_path / "boards")
    page = next(p for p in paths if p.name == "demo.html")

    dom = _dump_dom(page, tmp_path / "profile")

    assert '<table id="claims">' in dom
    assert 'class="verdict-holds">holds</td>' in dom
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert '<img src="x"' not in dom


def test_index_links_family_page(demo_family, tmp_path):
    records = [_record("mean", s, 0.1) for s in range(3)]
    board = Leaderboard.build(demo_family, "smoke", records)
    paths = write_leaderboard(board, tmp_path / "boards")
    index = next(p for p in paths if p.name == "index.html")

    dom = _dump_dom(index, tmp_path / "profile")

    assert 'href="smoke/demo.html"' in dom
    assert "mean_accurate" in dom
