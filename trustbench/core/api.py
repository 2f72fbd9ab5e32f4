"""One call that runs a family end to end: cells, claims and leaderboards."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustbench.core.cells import build_cells
from trustbench.core.claims import Verdict
from trustbench.core.family import check_tier
from trustbench.core.leaderboard import DEFAULT_LEADERBOARD_DIR, Leaderboard, write_leaderboard
from trustbench.core.registry import get_family, load_entry_points, load_plugin_file
from trustbench.core.runner import RunSummary, run_cells
from trustbench.core.store import Store

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = {"smoke": 600.0, "cpu": 3600.0, "paper": None}


@dataclass
class FamilyRun:
    """The outcome of `run_family`."""

    summary: RunSummary
    board: Leaderboard
    written: list[Path]

    def unexpected_verdicts(self) -> list[str]:
        """Return a line per claim whose verdict differs from the one expected for the tier."""
        lines = []
        for _, expected, result in self.board.claims:
            if expected and result.verdict != Verdict(expected):
                lines.append(f"expected {expected}, got {result.summary()}")
        return lines


def run_family(
    family_name: str,
    *,
    tier: str = "cpu",
    methods: Sequence[str] | None = None,
    seeds: int | None = None,
    workers: int = 1,
    store: Store | None = None,
    plugin_files: Sequence[str] = (),
    time_limit: float | None = None,
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    leaderboard_dir: str | Path | None = DEFAULT_LEADERBOARD_DIR,
    progress: bool | None = None,
) -> FamilyRun:
    """Run a family's cells, evaluate its claims and write its leaderboards.

    Parameters
    ----------
    family_name : str
        The family.
    tier : {"smoke", "cpu", "paper"}
        Sizes and sources of the scenarios.
    methods : sequence of str, optional
        Methods to evaluate beside the built-in ones (default: every registered method).
    seeds : int, optional
        Number of seeds (default: the tier's).
    workers : int
        Cells running at once (0: in this process).
    store : Store, optional
        The results store (default: `Store()` at the default path).
    plugin_files : sequence of str
        Python files that register extra methods.
    time_limit : float, optional
        Seconds per cell before it is stopped (default: per tier).
    method_params : mapping, optional
        Parameters per method.
    leaderboard_dir : path or None
        Where leaderboards go; ``None`` writes none.
    progress : bool, optional
        Progress bar switch (default: on a terminal, off under CI).

    Returns
    -------
    FamilyRun
        Counts, failures, claim verdicts and the files written.
    """
    check_tier(tier)
    for path in plugin_files:  # a plugin file may define a family as well as methods
        load_plugin_file(path)
    family = get_family(family_name)
    load_entry_points()
    store = store if store is not None else Store()
    cells = build_cells(
        family, tier=tier, methods=methods, seeds=seeds, method_params=method_params
    )
    limit = time_limit if time_limit is not None else DEFAULT_TIME_LIMIT[tier]
    summary = run_cells(
        cells,
        store,
        workers=workers,
        time_limit=limit,
        plugin_files=list(plugin_files),
        progress=progress,
    )
    keys = [cell.key for cell in cells]
    board = Leaderboard.build(family, tier, store.records(family=family.name, tier=tier, keys=keys))
    written = write_leaderboard(board, leaderboard_dir) if leaderboard_dir is not None else []
    return FamilyRun(summary, board, written)
