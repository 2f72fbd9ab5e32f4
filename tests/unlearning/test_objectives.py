import numpy as np
import pytest

from trustbench.core.errors import ParameterError
from trustbench.families.unlearning.objectives import (
    Objective,
    elastic_net_prox,
    nuclear_norm,
    singular_value_threshold,
    soft_threshold,
)


def _problem(loss: str, penalty: str = "l1", k: int | None = None, seed: int = 0) -> Objective:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 6))
    if loss == "logistic":
        y = np.where(rng.random(40) < 0.5, 1.0, -1.0)
    elif k is None:
        y = rng.normal(size=40)
    else:
        y = rng.normal(size=(40, k))
    return Objective(x, y, loss=loss, penalty=penalty, lam=0.05, mu=0.01)


def _smooth(objective: Objective, theta: np.ndarray, keep: np.ndarray) -> float:
    return objective.value(theta, keep) - objective.penalty_value(theta)


@pytest.mark.parametrize(
    ("loss", "penalty", "k"),
    [
        ("logistic", "l1", None),
        ("squared", "l1", None),
        ("squared", "nuclear", 3),
    ],
)
def test_gradient_matches_finite_differences(loss, penalty, k):
    objective = _problem(loss, penalty, k)
    rng = np.random.default_rng(1)
    theta = rng.normal(size=objective.shape)
    keep = rng.random(objective.n) < 0.8
    gradient = objective.smooth_gradient(theta, keep)
    numeric = np.zeros_like(theta)
    step = 1e-6
    for index in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[index] = step
        numeric[index] = (
            _smooth(objective, theta + e, keep) - _smooth(objective, theta - e, keep)
        ) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", ["logistic", "squared"])
def test_hessian_matches_finite_differences(loss):
    objective = _problem(loss)
    rng = np.random.default_rng(2)
    theta = rng.normal(size=objective.shape)
    keep = rng.random(objective.n) < 0.8
    hessian = objective.hessian(theta, keep)
    step = 1e-6
    numeric = np.zeros_like(hessian)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        numeric[:, j] = (
            objective.smooth_gradient(theta + e, keep) - objective.smooth_gradient(theta - e, keep)
        ) / (2 * step)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-8)


def test_hessian_columns_and_block_agree_with_full():
    objective = _problem("logistic")
    theta = np.linspace(-1, 1, 6)
    full = objective.hessian(theta)
    columns = np.array([4, 1])
    np.testing.assert_allclose(objective.hessian_columns(theta, columns), full[:, columns])
    np.testing.assert_allclose(
        objective.hessian(theta, columns=columns), full[np.ix_(columns, columns)]
    )


def test_multi_response_hessian_acts_on_left():
    objective = _problem("squared", "nuclear", 3)
    direction = np.random.default_rng(3).normal(size=objective.shape)
    hessian = objective.hessian(np.zeros(objective.shape))
    change = objective.smooth_gradient(direction) - objective.smooth_gradient(
        np.zeros(objective.shape)
    )
    np.testing.assert_allclose(hessian @ direction, change, rtol=1e-10)


def test_value_averages_over_remaining_points():
    objective = _problem("squared")
    theta = np.zeros(6)
    keep = np.zeros(objective.n, dtype=bool)
    keep[:10] = True
    expected = 0.5 * np.mean(objective.y[:10] ** 2)
    assert objective.value(theta, keep) == pytest.approx(expected)


def test_lambda_max_makes_zero_optimal():
    objective = _problem("logistic")
    at_max = Objective(
        objective.X,
        objective.y,
        loss="logistic",
        penalty="l1",
        lam=objective.lambda_max() * 1.0001,
        mu=0.01,
    )
    assert at_max.kkt_violation(np.zeros(6)) == 0.0
    below = Objective(
        objective.X,
        objective.y,
        loss="logistic",
        penalty="l1",
        lam=objective.lambda_max() * 0.9,
        mu=0.01,
    )
    assert below.kkt_violation(np.zeros(6)) > 0.0


def test_prox_operators():
    theta = np.array([3.0, -0.5, 1.0])
    np.testing.assert_allclose(soft_threshold(theta, 1.0), [2.0, 0.0, 0.0])
    np.testing.assert_allclose(elastic_net_prox(theta, 0.5, 2.0, 2.0), [1.0, 0.0, 0.0])
    matrix = np.diag([3.0, 1.0, 0.5])
    shrunk = singular_value_threshold(matrix, 0.75)
    np.testing.assert_allclose(
        np.linalg.svd(shrunk, compute_uv=False), [2.25, 0.25, 0.0], atol=1e-12
    )
    assert nuclear_norm(matrix) == pytest.approx(4.5)


@pytest.mark.parametrize("lam", [-0.1, 0.0, float("nan")])
def test_invalid_lambda_rejected(lam):
    with pytest.raises(ParameterError, match="lam="):
        Objective(np.eye(3), np.ones(3), loss="squared", penalty="l1", lam=lam)


def test_negative_ridge_rejected():
    with pytest.raises(ParameterError, match="mu=-1"):
        Objective(np.eye(3), np.ones(3), loss="squared", penalty="l1", lam=0.1, mu=-1.0)


def test_logistic_labels_checked():
    with pytest.raises(ParameterError, match="-1, \\+1"):
        Objective(np.eye(3), np.array([0.0, 1.0, 1.0]), loss="logistic", penalty="l1", lam=0.1)
