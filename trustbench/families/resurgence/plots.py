"""Pictures of the resurgence family.

- ``resurgence_curves.png``: for each erasure method of the ``main`` scenario, the erased
  concept's detection rate and the loss signal e(T) against fine-tuning steps (mean over
  seeds), with the un-erased control's detection rate.
- ``resurgence_samples.png``: samples for the erased prompt before erasure, after erasure
  and after fine-tuning, one row each per method (the grid seed's cell).
"""

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

STAGES = ("grid_before_erasure", "grid_after_erasure", "grid_after_finetuning")


def _main_records(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    by_method: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if record.get("status") == "ok" and record.get("scenario") == "main":
            by_method.setdefault(record["method"], []).append(record)
    return by_method


def _mean_curve(records: Sequence[Mapping[str, Any]], steps_key: str, values_key: str):
    curves = [r["series"][values_key] for r in records if values_key in r.get("series", {})]
    if not curves:
        return None, None
    return np.array(records[0]["series"][steps_key]), np.mean(np.array(curves, dtype=float), 0)


def plot_curves(records: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """Write detection rate and e(T) against fine-tuning steps; return the path or None."""
    by_method = _main_records(records)
    if not by_method:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))

    control_drawn = False
    for method in sorted(by_method):
        chosen = by_method[method]
        steps, detection = _mean_curve(chosen, "sample_steps", "detection_erased")
        if steps is not None:
            left.plot(steps, detection, marker="o", label=method)
        if not control_drawn:
            steps, control = _mean_curve(chosen, "sample_steps", "detection_control")
            if steps is not None:
                left.plot(steps, control, "k--", marker="s", label="un-erased control")
                control_drawn = True
        steps, signal = _mean_curve(chosen, "loss_steps", "loss_signal")
        if steps is not None:
            right.plot(steps, signal, marker="o", label=method)

    left.set(
        xlabel="fine-tuning steps T",
        ylabel="erased concept detection rate",
        title="Detection of the erased concept",
        ylim=(-0.02, 1.02),
    )
    right.set(
        xlabel="fine-tuning steps T",
        ylabel="e(T) = g_erased / g_control",
        title="Denoising-loss signal",
    )
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_samples(records: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """Write the before/after sample grid of every method with a stored grid."""
    rows = []
    for method, chosen in sorted(_main_records(records).items()):
        with_grid = [r for r in chosen if STAGES[0] in r.get("series", {})]
        if with_grid:
            rows.append((method, with_grid[0]))
    if not rows:
        return None
    figure, axes = plt.subplots(
        len(rows), len(STAGES), figsize=(12, 0.8 * len(rows) + 0.6), squeeze=False
    )
    for row, (method, record) in enumerate(rows):
        shape = record["info"].get("grid_shape", [8, 3, 16, 16])
        for column, stage in enumerate(STAGES):
            pixels = np.array(record["series"][stage], dtype=np.uint8).reshape(shape)
            strip = np.concatenate(list(pixels.transpose(0, 2, 3, 1)), axis=1)
            axis = axes[row][column]
            axis.imshow(strip, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(stage.removeprefix("grid_").replace("_", " "), fontsize=9)
            if column == 0:
                axis.set_ylabel(method, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_plots(records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """Write every picture that ``records`` allow; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        plot_curves(records, out_dir / "resurgence_curves.png"),
        plot_samples(records, out_dir / "resurgence_samples.png"),
    ]
    return [path for path in written if path is not None]
