"""Per-method summaries of records: mean and bootstrap interval of each metric over seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustbench.core.stats import bootstrap_ci


@dataclass(frozen=True)
class MetricSummary:
    """Mean of a metric over seeds with its bootstrap 95% interval."""

    scenario: str
    method: str
    metric: str
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form."""
        return {
            "scenario": self.scenario,
            "method": self.method,
            "metric": self.metric,
            "mean": self.mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_seeds": self.n_seeds,
        }


def summarise(records: Sequence[Mapping[str, Any]]) -> list[MetricSummary]:
    """Return one `MetricSummary` per (scenario, method, metric) of the finished records."""
    grouped: dict[tuple[str, str, str], dict[int, float]] = {}
    for record in records:
        if record["status"] != "ok":
            continue
        for metric, value in record["metrics"].items():
            key = (record["scenario"], record["method"], metric)
            grouped.setdefault(key, {})[int(record["seed"])] = float(value)
    result = []
    for (scenario, method, metric), by_seed in sorted(grouped.items()):
        values = np.array([by_seed[s] for s in sorted(by_seed)])
        low, high = bootstrap_ci(values)
        result.append(
            MetricSummary(scenario, method, metric, float(values.mean()), low, high, len(values))
        )
    return result


def format_value(mean: float, low: float, high: float) -> str:
    """Return ``mean [low, high]`` with four significant digits."""
    if low == high:
        return f"{mean:.4g}"
    return f"{mean:.4g} [{low:.4g}, {high:.4g}]"
