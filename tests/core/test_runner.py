import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from trustbench.core.api import run_family
from trustbench.core.cells import build_cells
from trustbench.core.errors import ParameterError
from trustbench.core.registry import load_plugin_file
from trustbench.core.runner import run_cells

from .conftest import BROKEN, DEMO


def test_cells_keyed_and_cached(demo_family, store):
    cells = build_cells(demo_family, tier="smoke", methods=["mean"])
    summary = run_cells(cells, store, workers=1)
    assert summary.ok == len(cells) == 3
    again = run_cells(cells, store, workers=1)
    assert again.cached == 3
    assert again.ok == 0


def test_same_seed_same_metrics(demo_family, store, tmp_path):
    from trustbench.core.store import Store

    cells = build_cells(demo_family, tier="smoke", methods=["mean"])
    run_cells(cells, store, workers=1)
    other = Store(tmp_path / "other.sqlite")
    run_cells(cells, other, workers=0)
    first = {r["key"]: r["metrics"] for r in store.records()}
    second = {r["key"]: r["metrics"] for r in other.records()}
    assert first == second


def test_changed_params_change_key(demo_family):
    plain = build_cells(demo_family, tier="smoke", methods=["mean"])
    shifted = build_cells(
        demo_family, tier="smoke", methods=["mean"], method_params={"mean": {"shift": 0.5}}
    )
    assert {c.key for c in plain}.isdisjoint({c.key for c in shifted})


def test_invalid_seed_count_rejected(demo_family):
    with pytest.raises(ParameterError, match="number of seeds 0"):
        build_cells(demo_family, tier="smoke", seeds=0)


def test_failures_recorded_others_kept(demo_family, store):
    load_plugin_file(BROKEN)
    cells = build_cells(
        demo_family, tier="smoke", seeds=1, methods=["mean", "raises", "nan", "slow", "crash"]
    )
    summary = run_cells(cells, store, workers=2, time_limit=3.0)
    reasons = {r["method"]: r["error"] for r in store.records()}
    assert summary.ok == 1
    assert reasons["mean"] is None
    assert "RuntimeError: deliberate failure" in reasons["raises"]
    assert "metric 'abs_error' of method 'nan' is nan" in reasons["nan"]
    assert "exceeded the time limit of 3 s" in reasons["slow"]
    assert "exited with code 3" in reasons["crash"]


def test_run_family_writes_leaderboard(demo_family, store, tmp_path):
    outcome = run_family(
        "demo",
        tier="smoke",
        methods=["mean", "zero"],
        store=store,
        plugin_files=[str(DEMO)],
        leaderboard_dir=tmp_path / "boards",
    )
    assert outcome.unexpected_verdicts() == []
    board = json.loads((tmp_path / "boards" / "smoke" / "demo.json").read_text())
    assert {c["claim"]: c["verdict"] for c in board["claims"]} == {
        "mean_accurate": "holds",
        "mean_beats_zero": "holds",
    }
    assert (tmp_path / "boards" / "smoke" / "demo.md").read_text().count("mean_accurate") == 1


def _count_ok(path):
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT COUNT(*) FROM records WHERE status='ok'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def test_killed_run_resumes_without_loss(tmp_path):
    store_path = tmp_path / "resume.sqlite"
    command = [
        sys.executable,
        "-m",
        "trustbench",
        "run",
        "demo",
        "--plugin",
        str(DEMO),
        "--tier",
        "cpu",
        "--seeds",
        "6",
        "--workers",
        "1",
        "--store",
        str(store_path),
        "--leaderboard-dir",
        str(tmp_path / "boards"),
        "--method",
        "mean",
    ]
    env = {**os.environ, "DEMO_SLEEP": "0.4"}
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while _count_ok(store_path) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = _count_ok(store_path)
    assert 2 <= kept < 6

    result = subprocess.run(
        command + ["--no-progress"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"{kept} from the store" in result.stdout
    assert _count_ok(store_path) == 6


def test_interrupted_run_exits_cleanly(tmp_path):
    store_path = tmp_path / "interrupt.sqlite"
    command = [
        sys.executable,
        "-m",
        "trustbench",
        "run",
        "demo",
        "--plugin",
        str(DEMO),
        "--tier",
        "cpu",
        "--seeds",
        "20",
        "--workers",
        "2",
        "--store",
        str(store_path),
        "--leaderboard-dir",
        str(tmp_path / "boards"),
        "--method",
        "mean",
        "--no-progress",
    ]
    env = {**os.environ, "DEMO_SLEEP": "0.5"}
    process = subprocess.Popen(
        command, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while _count_ok(store_path) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert "interrupted; finished records are kept" in stderr
    assert "Traceback" not in stderr
