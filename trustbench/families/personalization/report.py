"""Tables for the leaderboard: violation counts and per-group gains with intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trustbench.core.claims import select
from trustbench.families.personalization.claims import violation_counts

Table = tuple[str, list[str], list[list[Any]]]


def violation_table(records: Sequence[Mapping[str, Any]], tier: str) -> Table:
    """Return seeds with a violation and mean violations per seed, per method and setting."""
    headers = [
        "method",
        "data set",
        "model class",
        "seeds with a violation",
        "rationality violations per seed",
        "envy-freeness violations per seed",
    ]
    rows = [
        [
            row["method"],
            row["dataset"],
            row["model"],
            f"{row['seeds_with_violation']} of {row['seeds']}",
            round(row["rationality_violations"] / row["seeds"], 2),
            round(row["envy_violations"] / row["seeds"], 2),
        ]
        for row in violation_counts(records, tier=tier)
    ]
    return "Fair-use violations (Holm-corrected, alpha from the scenario)", headers, rows


def gain_table(records: Sequence[Mapping[str, Any]], tier: str) -> Table:
    """Return each group's gain over the generic model, mean over seeds, with mean interval ends.

    Also reports in how many seeds the group's rationality test rejected after Holm's
    correction.
    """
    collected: dict[tuple[str, str, str], list[tuple[float, float, float, bool]]] = {}
    for record in select(records, tier=tier):
        series = record.get("series", {})
        alpha = record.get("info", {}).get("alpha", 0.10)
        for index, group in enumerate(series.get("group", [])):
            key = (record["scenario"], record["method"], group)
            collected.setdefault(key, []).append(
                (
                    series["gain"][index],
                    series["gain_ci_low"][index],
                    series["gain_ci_high"][index],
                    series["p_rationality_holm"][index] < alpha,
                )
            )
    headers = ["setting", "method", "group", "gain", "95% interval", "seeds rejecting"]
    rows = []
    for (scenario, method, group), values in sorted(collected.items()):
        array = np.asarray([v[:3] for v in values], dtype=float)
        rejected = sum(v[3] for v in values)
        rows.append(
            [
                scenario,
                method,
                group,
                f"{array[:, 0].mean():+.3f}",
                f"[{array[:, 1].mean():+.3f}, {array[:, 2].mean():+.3f}]",
                f"{rejected} of {len(values)}",
            ]
        )
    return "Gain per group over the generic model (mean over seeds)", headers, rows
