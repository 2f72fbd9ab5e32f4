"""One cell: fit the generic model and a method on one split, then audit fair use on test rows.

Steps:

1. Load the table and split it by seed, stratified by label x group.
2. Fit the generic model h0 on the training rows without group attributes. It depends only on
   the scenario and seed, so it is cached per process.
3. Fit the method.
4. Predict the test rows with their own group, and with every other group reported.
5. Per group, compute the four metrics for h and h0, the gain with its bootstrap test
   (rationality), and the envy-freeness tests against every other reported group.
6. Apply Holm's correction and summarise.
"""

from __future__ import annotations

import functools
import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustbench.core.errors import CellError
from trustbench.core.family import CellResult
from trustbench.core.method import Method
from trustbench.families.personalization.data import (
    CellData,
    group_levels,
    load_table,
    split_cell,
)
from trustbench.families.personalization.fairuse import (
    DEFAULT_ALPHA,
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    bootstrap_gain_test,
    check_test_parameters,
    holm,
    label_cell_weights,
)
from trustbench.families.personalization.interface import (
    PersonalizationProblem,
    group_ids,
    reporting,
)
from trustbench.families.personalization.metrics import (
    METRICS,
    check_metric,
    envy_freeness_matrix,
    gain,
    metric_value,
)
from trustbench.families.personalization.models import EstimatorFactory

logger = logging.getLogger(__name__)


@dataclass
class AuditSettings:
    """Parameters of the fair-use audit of one cell (from the scenario config)."""

    risk: str = "auc"
    alpha: float = DEFAULT_ALPHA
    n_resamples: int = DEFAULT_RESAMPLES
    confidence: float = DEFAULT_CONFIDENCE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AuditSettings:
        """Read and validate the audit parameters of a scenario config."""
        settings = cls(
            risk=check_metric(str(config.get("risk", "auc"))),
            alpha=float(config.get("alpha", DEFAULT_ALPHA)),
            n_resamples=int(config.get("n_resamples", DEFAULT_RESAMPLES)),
            confidence=float(config.get("confidence", DEFAULT_CONFIDENCE)),
        )
        check_test_parameters(settings.alpha, settings.n_resamples, settings.confidence)
        return settings


@dataclass
class Audit:
    """Per-group results of a fair-use audit, before they become a `CellResult`."""

    groups: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    envy: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    matrix: dict[str, dict[str, float | None]] = field(default_factory=dict)


def run_cell(config: Mapping[str, Any], method: Method, seed: int) -> CellResult:
    """Run ``method`` on the setting ``config`` with ``seed`` and audit its fair use.

    Raises
    ------
    ParameterError
        On an invalid config (unknown data set, model class or metric; a missing group
        attribute column).
    CellError
        If the method's predictions are malformed or no group could be tested.
    """
    settings = AuditSettings.from_config(config)
    table = load_table(config)
    data = split_cell(table, config, seed)
    problem = build_problem(data, config, seed)
    generic = problem.generic_model()

    method.fit(problem)
    features_test = data.test.features
    groups_test = data.test.groups
    own = _predict(method, features_test, groups_test, "their own groups")
    reported = {
        g: _predict(method, features_test, reporting(groups_test, g), f"group {g}")
        for g in problem.groups
    }
    p_generic = generic.predict_proba(features_test)[:, 1]

    audit = audit_fair_use(
        data.test.label,
        group_ids(groups_test),
        p_generic,
        own,
        reported,
        settings,
        seed=seed,
        failures=getattr(method, "fit_failures", {}) or {},
    )
    return _cell_result(audit, data, settings, own, p_generic, config, method)


def build_problem(data: CellData, config: Mapping[str, Any], seed: int) -> PersonalizationProblem:
    """Return what a method receives for the split ``data`` of setting ``config``."""
    factory = EstimatorFactory(str(config["model"]), dict(config.get("hyperparameters", {})))
    generic = _generic_model(json.dumps(dict(config), sort_keys=True, default=str), seed)
    return PersonalizationProblem(
        X_train=data.train.features,
        y_train=data.train.label,
        groups_train=data.train.groups,
        X_validation=data.validation.features,
        y_validation=data.validation.label,
        groups_validation=data.validation.groups,
        group_columns=tuple(data.table.groups.columns),
        group_levels=group_levels(data.table),
        groups=tuple(sorted(set(group_ids(data.table.groups)))),
        make_estimator=factory,
        risk=check_metric(str(config.get("risk", "auc"))),
        random_state=seed,
        generic_model=lambda: generic,
    )


@functools.lru_cache(maxsize=32)
def _generic_model(config_json: str, seed: int) -> Any:
    """Fit h0 on the training rows of the setting; a pure function of config and seed."""
    config = json.loads(config_json)
    data = split_cell(load_table(config), config, seed)
    factory = EstimatorFactory(str(config["model"]), dict(config.get("hyperparameters", {})))
    return factory(seed).fit(data.train.features, data.train.label)


def _predict(method: Method, features: Any, groups: Any, what: str) -> np.ndarray:
    values = np.asarray(method.predict_proba(features, groups), dtype=float)
    if values.shape != (len(features),):
        raise CellError(
            f"method {method.name!r} returned predictions of shape {values.shape} for "
            f"{len(features)} rows reporting {what}; predict_proba must return one "
            "probability per row"
        )
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
        raise CellError(
            f"method {method.name!r} returned values outside [0, 1] (from {finite.min():.3g} "
            f"to {finite.max():.3g}); predict_proba must return probabilities of label 1"
        )
    return values


def audit_fair_use(
    y: np.ndarray,
    groups: np.ndarray,
    p_generic: np.ndarray,
    p_own: np.ndarray,
    p_reported: Mapping[str, np.ndarray],
    settings: AuditSettings,
    *,
    seed: int,
    failures: Mapping[str, str] | None = None,
) -> Audit:
    """Test rationality and envy-freeness of every group on held-out rows.

    Parameters
    ----------
    y, groups : array of shape (n,)
        Labels and intersectional groups of the held-out rows.
    p_generic, p_own : array of shape (n,)
        Probabilities of the generic model and of the personalized model with each row's
        own group.
    p_reported : mapping of str to array of shape (n,)
        For each group g2, the personalized model's probabilities when every row reports g2.
    settings : AuditSettings
        Metric, level, resample count and interval coverage.
    seed : int
        Seed of the resampling (combined with each group's name).
    failures : mapping of str to str, optional
        Reasons the method gave for groups it could not serve.

    Returns
    -------
    Audit
        Groups with a single class in the held-out rows, or with non-finite predictions,
        are skipped and listed in ``skipped`` with the reason.
    """
    failures = dict(failures or {})
    audit = Audit()
    for group in sorted(p_reported):
        rows = groups == group
        reason = _skip_reason(y[rows], p_own[rows], failures.get(group))
        if reason:
            audit.skipped[group] = reason
            logger.info("skipped group %s: %s", group, reason)
            continue
        audit.groups.append(group)
        audit.rows.append(
            _audit_group(group, rows, y, p_generic, p_own, p_reported, settings, seed, audit)
        )

    adjusted = holm([row["p_rationality"] for row in audit.rows])
    for row, value in zip(audit.rows, adjusted, strict=True):
        row["p_rationality_holm"] = value
    adjusted = holm([entry["p_value"] for entry in audit.envy])
    for entry, value in zip(audit.envy, adjusted, strict=True):
        entry["p_value_holm"] = value

    matrix = envy_freeness_matrix(settings.risk, y, groups, dict(p_reported))
    audit.matrix = {g: matrix[g] for g in audit.groups}
    return audit


def _skip_reason(labels: np.ndarray, predictions: np.ndarray, failure: str | None) -> str:
    if len(labels) == 0:
        return "no held-out rows"
    if len(np.unique(labels)) < 2:
        return (
            f"single class in the held-out rows ({len(labels)} rows, all label "
            f"{int(labels[0])}), so AUC and the label-stratified bootstrap are undefined"
        )
    if not np.isfinite(predictions).all():
        detail = f": {failure}" if failure else ""
        return f"the method returned non-finite probabilities for this group{detail}"
    return ""


def _audit_group(
    group: str,
    rows: np.ndarray,
    y: np.ndarray,
    p_generic: np.ndarray,
    p_own: np.ndarray,
    p_reported: Mapping[str, np.ndarray],
    settings: AuditSettings,
    seed: int,
    audit: Audit,
) -> dict[str, Any]:
    labels = y[rows]
    rng = np.random.default_rng([seed, zlib.crc32(group.encode())])
    weights = label_cell_weights(labels, settings.n_resamples, rng)

    test = bootstrap_gain_test(
        settings.risk, labels, p_generic[rows], p_own[rows], weights, confidence=settings.confidence
    )
    row: dict[str, Any] = {
        "group": group,
        "n_test": int(rows.sum()),
        "positives_test": int(labels.sum()),
        "gain": test.gain,
        "gain_ci_low": test.ci_low,
        "gain_ci_high": test.ci_high,
        "p_rationality": test.p_value,
    }
    for metric in METRICS:
        row[metric] = metric_value(metric, labels, p_own[rows])
        row[f"{metric}_generic"] = metric_value(metric, labels, p_generic[rows])
        row[f"gain_{metric}"] = gain(metric, labels, p_generic[rows], p_own[rows])

    for reported, probabilities in sorted(p_reported.items()):
        if reported == group:
            continue
        other = probabilities[rows]
        if not np.isfinite(other).all():
            audit.skipped[f"{group} reporting {reported}"] = (
                "the method returned non-finite probabilities for this report"
            )
            continue
        envy = bootstrap_gain_test(
            settings.risk, labels, other, p_own[rows], weights, confidence=settings.confidence
        )
        audit.envy.append(
            {
                "group": group,
                "reported": reported,
                "gain": envy.gain,
                "ci_low": envy.ci_low,
                "ci_high": envy.ci_high,
                "p_value": envy.p_value,
            }
        )
    return row


def _cell_result(
    audit: Audit,
    data: CellData,
    settings: AuditSettings,
    own: np.ndarray,
    p_generic: np.ndarray,
    config: Mapping[str, Any],
    method: Method,
) -> CellResult:
    if not audit.rows:
        raise CellError(
            f"no group of data set {config['dataset']!r} could be tested: "
            + "; ".join(f"{g}: {r}" for g, r in audit.skipped.items())
        )
    alpha = settings.alpha
    rationality = sum(row["p_rationality_holm"] < alpha for row in audit.rows)
    rationality_raw = sum(row["p_rationality"] < alpha for row in audit.rows)
    envy = sum(entry["p_value_holm"] < alpha for entry in audit.envy)
    envy_raw = sum(entry["p_value"] < alpha for entry in audit.envy)
    gains = [row["gain"] for row in audit.rows]
    y_test = data.test.label

    finite = np.isfinite(own)
    metrics = {
        "rationality_violations": float(rationality),
        "rationality_violations_uncorrected": float(rationality_raw),
        "envy_violations": float(envy),
        "envy_violations_uncorrected": float(envy_raw),
        "any_violation": float(rationality + envy > 0),
        "worst_gain": float(min(gains)),
        "mean_gain": float(np.mean(gains)),
        "groups_tested": float(len(audit.rows)),
        "groups_skipped": float(sum(" reporting " not in g for g in audit.skipped)),
        "test_auc": metric_value("auc", y_test[finite], own[finite]),
        "test_auc_generic": metric_value("auc", y_test, p_generic),
    }
    series = {key: [row[key] for row in audit.rows] for key in audit.rows[0]}
    info = {
        "risk": settings.risk,
        "alpha": alpha,
        "n_resamples": settings.n_resamples,
        "confidence": settings.confidence,
        "holm": "across groups, separately for rationality and for envy-freeness tests",
        "skipped_groups": audit.skipped,
        "envy_freeness_matrix": audit.matrix,
        "envy_tests": audit.envy,
        "dataset": data.table.metadata.to_dict(),
        "split_sizes": {
            "train": len(data.train.label),
            "validation": len(data.validation.label),
            "test": len(y_test),
        },
        "model": config["model"],
        "hyperparameters": dict(config.get("hyperparameters", {})),
        "method_report": getattr(method, "report", None),
    }
    if not all(np.isfinite(v) for v in metrics.values()):
        raise CellError(f"non-finite summary metrics {metrics}; report this as a bug")
    return CellResult(metrics=metrics, series=series, info=info)
