"""Pictures for the leaderboard: runtime against deletions, and distance ratios."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def _finished(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get("status") == "ok" and r.get("family") == "unlearning"]


def plot_runtime(records: Sequence[Mapping[str, Any]], scenario: str, path: Path) -> Path | None:
    """Plot cumulative seconds against deleted points per method (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, list[np.ndarray]] = defaultdict(list)
    deleted: list[int] = []
    for record in _finished(records):
        series = record.get("series") or {}
        if record["scenario"] != scenario or "seconds" not in series:
            continue
        curves[record["method"]].append(np.cumsum(series["seconds"]))
        deleted = series["deleted"]
    if not curves:
        return None
    figure, axis = plt.subplots(figsize=(7.5, 4))
    for method, runs in sorted(curves.items()):
        axis.plot(deleted, np.mean(runs, axis=0), marker="o", label=method)
    axis.set_yscale("log")
    axis.set_xlabel("points deleted")
    axis.set_ylabel("cumulative seconds (log scale)")
    axis.set_title(f"Runtime against deletions: {scenario}")
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_distance_ratio(records: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """Plot each method's distance ratio to noop per scenario (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for record in _finished(records):
        value = record["metrics"].get("distance_ratio_to_noop")
        if value is not None and record["method"] not in ("retrain", "retrain_cold", "noop"):
            values[(record["scenario"], record["method"])].append(value)
    if not values:
        return None
    scenarios = sorted({s for s, _ in values})
    methods = sorted({m for _, m in values})
    width = 0.8 / len(methods)
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(scenarios)), 4))
    for offset, method in enumerate(methods):
        heights = [np.mean(values.get((s, method), [np.nan])) for s in scenarios]
        positions = np.arange(len(scenarios)) + offset * width
        axis.bar(positions, heights, width=width, label=method)
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.set_yscale("log")
    axis.set_xticks(np.arange(len(scenarios)) + 0.4 - width / 2)
    axis.set_xticklabels(scenarios, rotation=30, ha="right", fontsize="small")
    axis.set_ylabel("distance to retrain / noop's (log scale)")
    axis.set_title("Distance to retrain relative to noop (a missing bar is below 1e-3 or zero)")
    axis.set_ylim(bottom=1e-3)
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def write_plots(records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """Write the family's plots into ``out_dir`` and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        plot_runtime(records, "synthetic_d1000", out_dir / "unlearning_runtime.png"),
        plot_distance_ratio(records, out_dir / "unlearning_distance_ratio.png"),
    ]
    return [path for path in written if path is not None]
