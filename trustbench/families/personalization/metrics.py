"""Per-group performance, the gain of personalization and its bootstrap replicates.

Gain of group g (Suriyakumar, Ghassemi and Ustun, ICML 2023): for a risk R (error, log loss,
expected calibration error) Delta_g = R_g(h0) - R_g(h), where h0 is the generic model and h
the personalized one; for AUC, a score, the sign flips: Delta_g = AUC_g(h) - AUC_g(h0).
A positive gain means personalization helps the group.

Point values use scikit-learn's metrics. Bootstrap replicates use the same formulas with
resampling weights, vectorised over replicates; `weighted_metric` with unit weights equals the
point value to rounding error.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score, zero_one_loss

from trustbench.core.errors import ParameterError

METRICS = ("auc", "error", "log_loss", "ece")
#: Whether a higher value of each metric is better.
HIGHER_IS_BETTER = {"auc": True, "error": False, "log_loss": False, "ece": False}
#: Number of equal-width probability bins of the expected calibration error.
ECE_BINS = 10
#: Predicted probability above which the predicted label is 1 (scikit-learn's ``predict``).
THRESHOLD = 0.5


def check_metric(metric: str) -> str:
    """Return ``metric`` if it is known, else raise `ParameterError` naming the choices."""
    if metric not in METRICS:
        raise ParameterError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric


def expected_calibration_error(y: np.ndarray, p: np.ndarray, *, n_bins: int = ECE_BINS) -> float:
    """Return the expected calibration error of probabilities ``p`` for labels ``y``.

    ECE = sum over bins k of (n_k / n) |mean(y in k) - mean(p in k)|, with ``n_bins``
    equal-width bins of the predicted probability of the positive class.

    Examples
    --------
    >>> expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0]))
    0.0
    """
    weights = np.ones((1, len(y)))
    return float(_weighted_ece(np.asarray(y), np.asarray(p, dtype=float), weights, n_bins)[0])


def metric_value(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    """Return ``metric`` of probabilities ``p`` (of label 1) on labels ``y``.

    Raises
    ------
    ValueError
        For AUC when ``y`` has a single class.
    """
    check_metric(metric)
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    if metric == "auc":
        return float(roc_auc_score(y, p))
    if metric == "error":
        return float(zero_one_loss(y, (p > THRESHOLD).astype(int)))
    if metric == "log_loss":
        return float(log_loss(y, p, labels=[0, 1]))
    return expected_calibration_error(y, p)


def gain(metric: str, y: np.ndarray, p_reference: np.ndarray, p_candidate: np.ndarray) -> float:
    """Return the gain of ``p_candidate`` over ``p_reference`` on ``metric`` (positive helps).

    For a risk this is R(reference) - R(candidate); for AUC it is AUC(candidate) -
    AUC(reference).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> gain("error", y, np.array([0.6, 0.4, 0.6, 0.4]), np.array([0.1, 0.2, 0.8, 0.9]))
    0.5
    """
    reference = metric_value(metric, y, p_reference)
    candidate = metric_value(metric, y, p_candidate)
    if HIGHER_IS_BETTER[metric]:
        return candidate - reference
    return reference - candidate


def weighted_metric(metric: str, y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return ``metric`` under each row of resampling ``weights``.

    Parameters
    ----------
    metric : str
        One of `METRICS`.
    y : array of shape (n,)
        Labels (0/1).
    p : array of shape (n,)
        Predicted probabilities of label 1.
    weights : array of shape (B, n)
        Non-negative counts of each row in each of B resamples. For AUC every row must give
        the positives a total weight equal to their count, and likewise the negatives (as
        resampling within label cells does).

    Returns
    -------
    numpy.ndarray of shape (B,)
    """
    check_metric(metric)
    y = np.asarray(y).astype(np.int64)
    p = np.asarray(p, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum(axis=1)
    if metric == "auc":
        return _weighted_auc(y, p, weights)
    if metric == "error":
        return weights @ (y != (p > THRESHOLD)).astype(float) / total
    if metric == "log_loss":
        eps = np.finfo(p.dtype).eps
        clipped = np.clip(p, eps, 1.0 - eps)
        losses = -(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))
        return weights @ losses / total
    return _weighted_ece(y, p, weights, ECE_BINS)


def weighted_gain(
    metric: str,
    y: np.ndarray,
    p_reference: np.ndarray,
    p_candidate: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Return the gain of `gain` under each row of resampling ``weights`` (shape (B,))."""
    reference = weighted_metric(metric, y, p_reference, weights)
    candidate = weighted_metric(metric, y, p_candidate, weights)
    if HIGHER_IS_BETTER[metric]:
        return candidate - reference
    return reference - candidate


def _weighted_auc(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return the weighted share of (positive, negative) pairs ranked correctly, ties half.

    Sorting the positives once makes each replicate O(n) after an O(n log n) set-up.
    """
    positive = y == 1
    if positive.all() or not positive.any():
        raise ValueError("AUC needs both labels among the rows; this group has one")
    scores_pos = p[positive]
    order = np.argsort(scores_pos, kind="stable")
    sorted_pos = scores_pos[order]
    weights_pos = weights[:, positive][:, order]
    weights_neg = weights[:, ~positive]

    # cumulative[:, k] is the weight of the k lowest-scored positives.
    cumulative = np.concatenate(
        [np.zeros((weights.shape[0], 1)), np.cumsum(weights_pos, axis=1)], axis=1
    )
    below = np.searchsorted(sorted_pos, p[~positive], side="left")
    at_or_below = np.searchsorted(sorted_pos, p[~positive], side="right")
    total_pos = cumulative[:, -1:]
    above = total_pos - cumulative[:, at_or_below]
    tied = cumulative[:, at_or_below] - cumulative[:, below]
    correct = (weights_neg * (above + 0.5 * tied)).sum(axis=1)
    return correct / (total_pos[:, 0] * weights_neg.sum(axis=1))


def _weighted_ece(y: np.ndarray, p: np.ndarray, weights: np.ndarray, n_bins: int) -> np.ndarray:
    bins = np.clip(np.floor(p * n_bins).astype(np.int64), 0, n_bins - 1)
    residuals = np.zeros((len(y), n_bins))
    residuals[np.arange(len(y)), bins] = p - y
    return np.abs(weights @ residuals).sum(axis=1) / weights.sum(axis=1)


def envy_freeness_matrix(
    metric: str,
    y: np.ndarray,
    groups: np.ndarray,
    predictions: dict[str, np.ndarray],
) -> dict[str, dict[str, float | None]]:
    """Return each group's ``metric`` under each reported group attribute.

    Parameters
    ----------
    metric : str
        One of `METRICS`.
    y : array of shape (n,)
        Labels.
    groups : array of shape (n,)
        Each row's true intersectional group.
    predictions : dict of str to array of shape (n,)
        For each group g', the probabilities every row receives when it reports g'.

    Returns
    -------
    dict
        ``matrix[g][g2]`` is the metric on group g's rows when they report g2, or ``None``
        where it is undefined (AUC of a group with a single class, or non-finite
        probabilities). The diagonal is the group's own value.
    """
    matrix: dict[str, dict[str, float | None]] = {}
    for group in predictions:
        rows = groups == group
        labels = y[rows]
        matrix[group] = {}
        for reported, probabilities in predictions.items():
            values = probabilities[rows]
            defined = np.isfinite(values).all() and (metric != "auc" or len(set(labels)) == 2)
            matrix[group][reported] = metric_value(metric, labels, values) if defined else None
    return matrix
