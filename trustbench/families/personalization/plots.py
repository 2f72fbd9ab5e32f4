"""Pictures for the leaderboard: gain per group with its interval, per method and data set."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

logger = logging.getLogger(__name__)


def gains_by_group(
    records: Sequence[Mapping[str, Any]], dataset: str
) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Collect, per (model class, method), each group's gains and interval ends over seeds."""
    collected: dict[tuple[str, str], dict[str, list[float]]] = {}
    for record in records:
        if record.get("status") != "ok" or not record["scenario"].startswith(f"{dataset}-"):
            continue
        model = record["scenario"].split("-", 1)[1]
        series = record.get("series", {})
        for group, value, low, high in zip(
            series.get("group", []),
            series.get("gain", []),
            series.get("gain_ci_low", []),
            series.get("gain_ci_high", []),
            strict=True,
        ):
            entry = collected.setdefault((model, record["method"]), {})
            entry.setdefault(group, []).extend([value, low, high])
    return collected


def plot_dataset(records: Sequence[Mapping[str, Any]], dataset: str, out_dir: Path) -> Path | None:
    """Draw one panel per model class: gain per group (mean over seeds) with mean interval ends.

    Returns
    -------
    pathlib.Path or None
        The PNG file, or ``None`` when no record of ``dataset`` has gains.
    """
    collected = gains_by_group(records, dataset)
    if not collected:
        return None
    models = sorted({model for model, _ in collected})
    methods = sorted({method for _, method in collected})
    groups = sorted({g for entry in collected.values() for g in entry})
    risk = next(
        (r["info"].get("risk", "") for r in records if r["scenario"].startswith(f"{dataset}-")),
        "",
    )

    figure, axes = plt.subplots(
        1, len(models), figsize=(4.2 * len(models), 0.45 * len(groups) * len(methods) / 2 + 2.0),
        sharey=True, squeeze=False,
    )  # fmt: skip
    height = 0.8 / max(len(methods), 1)
    for axis, model in zip(axes[0], models, strict=True):
        for index, method in enumerate(methods):
            entry = collected.get((model, method), {})
            positions, means, lows, highs = [], [], [], []
            for row, group in enumerate(groups):
                if group not in entry:
                    continue
                triples = np.asarray(entry[group]).reshape(-1, 3)
                positions.append(row + (index - (len(methods) - 1) / 2) * height)
                means.append(triples[:, 0].mean())
                lows.append(triples[:, 1].mean())
                highs.append(triples[:, 2].mean())
            means_array = np.asarray(means)
            axis.errorbar(
                means_array,
                positions,
                xerr=[means_array - np.asarray(lows), np.asarray(highs) - means_array],
                fmt="o",
                markersize=3,
                capsize=2,
                label=method,
            )
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_title(model)
        axis.set_xlabel(f"gain in {risk} over generic (higher is better)")
        axis.set_yticks(range(len(groups)))
        axis.set_yticklabels(groups, fontsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, fontsize=8, loc="lower center", ncol=len(methods))
    figure.suptitle(f"{dataset}: per-group gain with 95% bootstrap interval (mean over seeds)")
    figure.tight_layout(rect=(0.0, 0.04, 1.0, 1.0))

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"personalization_gains_{dataset}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_all(records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """Write one picture per data set found in ``records`` and return their paths."""
    datasets = sorted({r["scenario"].split("-", 1)[0] for r in records if r.get("status") == "ok"})
    paths = []
    for dataset in datasets:
        path = plot_dataset(records, dataset, out_dir)
        if path is not None:
            paths.append(path)
    logger.info("wrote %d personalization plots to %s", len(paths), out_dir)
    return paths
