"""Helpers that run a family's cells and claims from pytest, sharing the store and leaderboards.

The repository's ``conftest.py`` creates one `BenchSession` per pytest session from its
command-line options; ``benchmarks/test_<family>.py`` files parametrise their tests with
`BenchSession.cells` and call `BenchSession.run_cell` and `BenchSession.claim_result`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from trustbench.core.api import DEFAULT_TIME_LIMIT
from trustbench.core.cells import Cell, build_cells
from trustbench.core.claims import ClaimResult
from trustbench.core.leaderboard import Leaderboard, write_leaderboard
from trustbench.core.registry import get_family, load_entry_points, load_plugin_file
from trustbench.core.runner import run_cells
from trustbench.core.store import Store

logger = logging.getLogger(__name__)


@dataclass
class BenchSession:
    """The options of a pytest session and the families it touched."""

    tier: str
    store: Store
    leaderboard_dir: Path | None
    methods: Sequence[str] | None = None
    seeds: int | None = None
    workers: int = 1
    plugin_files: Sequence[str] = ()
    touched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for path in self.plugin_files:
            load_plugin_file(path)
        load_entry_points()

    def cells(self, family: str) -> list[Cell]:
        """Return the cells of ``family`` for this session's tier, methods and seeds."""
        return build_cells(
            get_family(family), tier=self.tier, methods=self.methods, seeds=self.seeds
        )

    def run_cell(self, cell: Cell) -> dict[str, Any]:
        """Run one cell in a worker process (unless stored already) and return its record."""
        self.touched.add(cell.family)
        run_cells(
            [cell],
            self.store,
            workers=1,
            time_limit=DEFAULT_TIME_LIMIT[self.tier],
            plugin_files=list(self.plugin_files),
            progress=False,
        )
        (record,) = self.store.records(keys=[cell.key], family=cell.family, tier=cell.tier)
        return record

    def board(self, family: str) -> Leaderboard:
        """Run the family's missing cells and return its leaderboard for this tier."""
        self.touched.add(family)
        cells = self.cells(family)
        run_cells(
            cells,
            self.store,
            workers=self.workers,
            time_limit=DEFAULT_TIME_LIMIT[self.tier],
            plugin_files=list(self.plugin_files),
            progress=False,
        )
        records = self.store.records(family=family, tier=self.tier, keys=[c.key for c in cells])
        return Leaderboard.build(get_family(family), self.tier, records)

    def claim_result(self, family: str, claim: str) -> tuple[str, ClaimResult]:
        """Return the expected verdict at this tier and the result of ``claim``."""
        for _, expected, result in self.board(family).claims:
            if result.claim == claim:
                return expected, result
        raise KeyError(f"family {family!r} has no claim {claim!r}")

    def write_leaderboards(self) -> list[Path]:
        """Write the leaderboards of every family this session touched."""
        if self.leaderboard_dir is None:
            return []
        written = []
        for family in sorted(self.touched):
            written += write_leaderboard(self.board(family), self.leaderboard_dir)
        return written


_SESSION_KEY = pytest.StashKey[BenchSession]()


def bench_session(config: Any) -> BenchSession:
    """Return the pytest session's `BenchSession`, creating it from the options on first use."""
    key = _SESSION_KEY
    if key not in config.stash:
        board_dir = config.getoption("--leaderboard-dir")
        store = config.getoption("--store")
        config.stash[key] = BenchSession(
            tier=config.getoption("--tier"),
            store=Store(store) if store else Store(),
            leaderboard_dir=None if board_dir == "none" else Path(board_dir),
            methods=config.getoption("--method"),
            seeds=config.getoption("--seeds"),
            workers=config.getoption("--workers"),
            plugin_files=config.getoption("--plugin"),
        )
    return config.stash[key]


def existing_bench_session(config: Any) -> BenchSession | None:
    """Return the session's `BenchSession` if a test created one, else ``None``."""
    return config.stash.get(_SESSION_KEY, None)
