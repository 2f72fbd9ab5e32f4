"""Scenarios per tier: one per (data set x model class), with the audit's parameters.

- ``smoke``: flchain (a stratified subsample of 2,000 rows) and WHAS500, with logistic
  regression and gradient boosting, 200 resamples per test.
- ``cpu``: the six bundled tables with the four model classes, 1,000 resamples per test.
- ``paper``: a local CSV file (`trustbench.core.config.data_path("personalization")`) with a
  ``label`` column and ``sex`` and ``race`` group columns, the four model classes, 10,000
  resamples per test.
"""

from __future__ import annotations

from typing import Any

from trustbench.core.family import Scenario, check_tier
from trustbench.families.personalization.data import DATASETS
from trustbench.families.personalization.models import HYPERPARAMETERS, MODEL_CLASSES

#: Parameters shared by every scenario of a tier, before the data set and model class.
AUDIT_BY_TIER: dict[str, dict[str, Any]] = {
    "smoke": {"risk": "auc", "alpha": 0.10, "n_resamples": 200, "confidence": 0.95},
    "cpu": {"risk": "auc", "alpha": 0.10, "n_resamples": 1000, "confidence": 0.95},
    "paper": {"risk": "auc", "alpha": 0.10, "n_resamples": 10_000, "confidence": 0.95},
}

SMOKE_DATASETS = {"flchain": 2000, "whas500": None}
SMOKE_MODELS = ("logreg", "hist_gb")


def _scenario(tier: str, dataset: str, model: str, **extra: Any) -> Scenario:
    config = {
        "dataset": dataset,
        "model": model,
        "hyperparameters": _json_ready(HYPERPARAMETERS[tier][model]),
        "validation_fraction": 0.2,
        "test_fraction": 0.2,
        "min_group_size": 50,
        "min_label_count": 10,
        **AUDIT_BY_TIER[tier],
        **extra,
    }
    return Scenario(
        name=f"{dataset}-{model}",
        config=config,
        doc=f"{dataset} with {model}: fair use of the group attributes on held-out rows",
    )


def _json_ready(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in hyperparameters.items()}


def build_scenarios(tier: str) -> list[Scenario]:
    """Return the scenarios of ``tier`` (see the module docstring)."""
    check_tier(tier)
    if tier == "smoke":
        return [
            _scenario(tier, dataset, model, max_rows=rows)
            for dataset, rows in SMOKE_DATASETS.items()
            for model in SMOKE_MODELS
        ]
    if tier == "cpu":
        return [_scenario(tier, dataset, model) for dataset in DATASETS for model in MODEL_CLASSES]
    return [
        _scenario(
            tier,
            "local_csv",
            model,
            source="csv",
            data_key="personalization",
            label="label",
            group_columns=["sex", "race"],
        )
        for model in MODEL_CLASSES
    ]
