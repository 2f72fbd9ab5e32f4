"""One-sided bootstrap tests of rationality and envy-freeness, with Holm's correction.

Rationality of group g: Delta_g >= 0, the gain of the personalized model over the generic one
(`metrics.gain`). Envy-freeness of group g towards group g2: group g does at least as well
reporting its own attribute as reporting g2's, a gain of "own report" over "report g2".

Each test has H0: gain >= 0 against H1: gain < 0 (a violation). The bootstrap resamples the
group's held-out rows within each label (keeping the label counts, so AUC stays defined), with
the two models' predictions paired on the same rows. The p-value is
(1 + #{replicates with gain >= 0}) / (1 + B). Holm's step-down correction runs across the
groups of one setting: once over the rationality tests and once over the envy-freeness tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustbench.core.errors import ParameterError
from trustbench.families.personalization.metrics import gain, weighted_gain

#: Level of each one-sided test.
DEFAULT_ALPHA = 0.10
#: Bootstrap resamples per test at the cpu tier.
DEFAULT_RESAMPLES = 1_000
#: Coverage of the reported two-sided percentile interval of each gain.
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class GainTest:
    """The result of one one-sided bootstrap test of a gain.

    Attributes
    ----------
    gain : float
        Point estimate on the held-out rows (positive: the candidate helps).
    ci_low, ci_high : float
        Two-sided percentile bootstrap interval of the gain.
    p_value : float
        One-sided p-value of H0: gain >= 0.
    """

    gain: float
    ci_low: float
    ci_high: float
    p_value: float


def check_test_parameters(alpha: float, n_resamples: int, confidence: float) -> None:
    """Raise `ParameterError` unless 0 < alpha < 1, n_resamples >= 1 and 0 < confidence < 1."""
    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"invalid alpha {alpha!r}; expected a level in (0, 1), such as 0.10")
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ParameterError(
            f"invalid n_resamples {n_resamples!r}; expected a positive integer, such as 1000"
        )
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"invalid confidence {confidence!r}; expected a value in (0, 1)")


def label_cell_weights(y: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Return resampling counts of shape (n_resamples, n), drawn within each label.

    Each replicate draws as many rows of each label as the sample has, with replacement,
    from the rows of that label.
    """
    y = np.asarray(y)
    weights = np.zeros((n_resamples, len(y)))
    for value in np.unique(y):
        rows = np.flatnonzero(y == value)
        counts = rng.multinomial(len(rows), np.full(len(rows), 1.0 / len(rows)), size=n_resamples)
        weights[:, rows] = counts
    return weights


def bootstrap_gain_test(
    metric: str,
    y: np.ndarray,
    p_reference: np.ndarray,
    p_candidate: np.ndarray,
    weights: np.ndarray,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> GainTest:
    """Test H0: gain of ``p_candidate`` over ``p_reference`` >= 0 on one group's rows.

    Parameters
    ----------
    metric : str
        The metric of the gain.
    y, p_reference, p_candidate : array of shape (n,)
        Labels and both models' probabilities on the same rows.
    weights : array of shape (B, n)
        Resampling counts from `label_cell_weights`; share them between tests of the same
        group so the tests are paired.
    confidence : float
        Coverage of the reported interval.

    Returns
    -------
    GainTest

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.array([0, 1] * 50)
    >>> good, bad = y * 0.8 + 0.1, np.full(100, 0.5)
    >>> weights = label_cell_weights(y, 200, rng)
    >>> bootstrap_gain_test("log_loss", y, good, bad, weights).p_value < 0.01
    True
    """
    point = gain(metric, y, p_reference, p_candidate)
    replicates = weighted_gain(metric, y, p_reference, p_candidate, weights)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    p_value = (1.0 + np.count_nonzero(replicates >= 0.0)) / (1.0 + len(replicates))
    return GainTest(float(point), float(low), float(high), float(p_value))


def holm(p_values: list[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values, in the input order.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return [float(round(value, 15)) for value in adjusted]
