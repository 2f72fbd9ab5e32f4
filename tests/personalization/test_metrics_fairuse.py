import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score, zero_one_loss

from trustbench.core.errors import ParameterError
from trustbench.families.personalization.fairuse import (
    bootstrap_gain_test,
    check_test_parameters,
    holm,
    label_cell_weights,
)
from trustbench.families.personalization.metrics import (
    METRICS,
    envy_freeness_matrix,
    expected_calibration_error,
    gain,
    metric_value,
    weighted_metric,
)


@pytest.fixture
def sample():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + 0.7 * rng.random(400), 0, 1).round(2)  # rounding makes ties
    return y, p


@pytest.mark.parametrize("metric", METRICS)
def test_weighted_metric_equals_explicit_resample(sample, metric):
    y, p = sample
    rng = np.random.default_rng(1)
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    rows = np.concatenate(
        [rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)]
    )
    weights = np.bincount(rows, minlength=len(y))[None, :]
    expected = metric_value(metric, y[rows], p[rows])
    assert weighted_metric(metric, y, p, weights)[0] == pytest.approx(expected, abs=1e-12)


def test_metric_value_uses_sklearn(sample):
    y, p = sample
    assert metric_value("auc", y, p) == roc_auc_score(y, p)
    assert metric_value("error", y, p) == zero_one_loss(y, p > 0.5)
    assert metric_value("log_loss", y, p) == log_loss(y, p)


def test_ece_of_known_bins():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.15, 0.15, 0.85, 0.75])
    # bins: [0.1, 0.2) contains 2 rows with gap 0.15; 0.85 and 0.75 fall in separate bins.
    expected = (2 * 0.15 + 0.15 + 0.25) / 4
    assert expected_calibration_error(y, p) == pytest.approx(expected)


def test_gain_sign_flips_for_auc():
    y = np.array([0, 0, 1, 1])
    worse, better = np.array([0.6, 0.4, 0.5, 0.3]), np.array([0.1, 0.2, 0.8, 0.9])
    assert gain("auc", y, worse, better) > 0
    assert gain("log_loss", y, worse, better) > 0
    assert gain("auc", y, better, worse) < 0


def test_unknown_metric_names_choices():
    with pytest.raises(ParameterError, match="unknown metric 'brier'.*auc"):
        metric_value("brier", np.array([0, 1]), np.array([0.2, 0.8]))


def test_envy_matrix_diagonal_is_own_metric(sample):
    y, p = sample
    groups = np.where(np.arange(len(y)) % 2 == 0, "a", "b")
    predictions = {"a": p, "b": 1 - p}
    matrix = envy_freeness_matrix("auc", y, groups, predictions)
    rows = groups == "a"
    assert matrix["a"]["a"] == roc_auc_score(y[rows], p[rows])
    assert matrix["a"]["b"] == roc_auc_score(y[rows], 1 - p[rows])


def test_label_cell_weights_keep_label_counts(sample):
    y, _ = sample
    weights = label_cell_weights(y, 50, np.random.default_rng(0))
    assert weights.shape == (50, len(y))
    assert (weights[:, y == 1].sum(axis=1) == (y == 1).sum()).all()
    assert (weights[:, y == 0].sum(axis=1) == (y == 0).sum()).all()


def test_bootstrap_detects_clear_harm(sample):
    y, p = sample
    weights = label_cell_weights(y, 500, np.random.default_rng(0))
    harmful = np.full(len(y), 0.5)
    result = bootstrap_gain_test("auc", y, p, harmful, weights)
    assert result.gain < 0
    assert result.ci_high < 0
    assert result.p_value == pytest.approx(1 / 501)


def test_bootstrap_identical_models_never_reject(sample):
    y, p = sample
    weights = label_cell_weights(y, 200, np.random.default_rng(0))
    result = bootstrap_gain_test("error", y, p, p, weights)
    assert result.gain == 0.0
    assert result.p_value == 1.0


def test_bootstrap_p_value_definition():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    reference = np.clip(0.2 + 0.5 * y + 0.3 * rng.random(200), 0, 1)
    candidate = np.clip(reference + rng.normal(0, 0.2, 200), 0, 1)
    weights = label_cell_weights(y, 300, np.random.default_rng(0))
    result = bootstrap_gain_test("log_loss", y, reference, candidate, weights)
    replicates = weighted_metric("log_loss", y, reference, weights) - weighted_metric(
        "log_loss", y, candidate, weights
    )
    assert result.p_value == pytest.approx((1 + (replicates >= 0).sum()) / 301)


def test_holm_matches_step_down_definition():
    p = [0.01, 0.04, 0.03, 0.20]
    # sorted: 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> 0.09 (monotone), 0.20*1 -> 0.20
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    assert holm([]) == []
    assert holm([0.6, 0.7]) == [1.0, 1.0]


@pytest.mark.parametrize(
    ("alpha", "resamples", "confidence", "message"),
    [(0.0, 100, 0.95, "invalid alpha"), (0.1, 0, 0.95, "invalid n_resamples"),
     (0.1, 100, 1.0, "invalid confidence")],
)  # fmt: skip
def test_test_parameters_are_validated(alpha, resamples, confidence, message):
    with pytest.raises(ParameterError, match=message):
        check_test_parameters(alpha, resamples, confidence)
