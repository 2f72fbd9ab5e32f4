"""pytest options of trustbench: the tier, methods, seeds, store and leaderboard folder.

``pytest benchmarks/`` runs every family's cells and claims at the ``smoke`` tier by default
and writes the same leaderboards as ``trustbench run`` (into ``leaderboards/smoke/``).
"""

from __future__ import annotations

import os

import pytest

from trustbench.core.family import TIERS
from trustbench.core.testing import BenchSession, bench_session, existing_bench_session


def pytest_addoption(parser):
    group = parser.getgroup("trustbench")
    group.addoption(
        "--tier",
        choices=TIERS,
        default="smoke",
        help="tier of the benchmark cells (default: smoke)",
    )
    group.addoption(
        "--method",
        action="append",
        default=None,
        metavar="NAME",
        help="method to evaluate beside the built-in ones; repeat for several",
    )
    group.addoption("--seeds", type=int, default=None, help="number of seeds (default: the tier's)")
    group.addoption(
        "--store",
        default=None,
        help="SQLite results file (default: $TRUSTBENCH_STORE or ./trustbench.sqlite)",
    )
    group.addoption(
        "--leaderboard-dir",
        default="leaderboards",
        help="folder for leaderboards; 'none' writes none (default: ./leaderboards)",
    )
    group.addoption(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH",
        help="Python file that registers methods; repeat for several",
    )
    group.addoption(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the cells a claim test still needs",
    )


@pytest.fixture(scope="session")
def bench(request) -> BenchSession:
    return bench_session(request.config)


def pytest_sessionfinish(session, exitstatus):
    bench = existing_bench_session(session.config)
    if bench is not None:
        for path in bench.write_leaderboards():
            if path.suffix == ".md":
                print(f"\ntrustbench leaderboard: {path}")
