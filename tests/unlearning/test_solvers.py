import warnings

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, LogisticRegression

from trustbench.families.unlearning.objectives import Objective
from trustbench.families.unlearning.solvers import (
    REFERENCE_TOL,
    proximal_newton,
    solve,
    solve_l1_qp,
)

# Coefficients of scikit-learn's solvers at tol=1e-12 agree with ours to this tolerance.
SKLEARN_ATOL = 1e-6


def _data(seed=0, n=300, d=20):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    beta = np.zeros(d)
    beta[:4] = [2.0, -1.0, 1.0, 0.5]
    return rng, x, beta


def test_retrain_matches_saga_on_l1_plus_ridge():
    rng, x, beta = _data()
    y = np.where(rng.random(x.shape[0]) < 1 / (1 + np.exp(-x @ beta)), 1.0, -1.0)
    lam, mu = 0.02, 1e-3
    objective = Objective(x, y, loss="logistic", penalty="l1", lam=lam, mu=mu)
    theta, info = proximal_newton(objective)
    assert info.violation <= REFERENCE_TOL

    n = x.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        saga = LogisticRegression(
            penalty="elasticnet",
            solver="saga",
            C=1 / (n * (mu + lam)),
            l1_ratio=lam / (mu + lam),
            fit_intercept=False,
            tol=1e-12,
            max_iter=100_000,
        ).fit(x, y)
    np.testing.assert_allclose(theta, saga.coef_.ravel(), atol=SKLEARN_ATOL)


def test_retrain_matches_elastic_net_on_remaining_points():
    rng, x, beta = _data(1)
    y = x @ beta + rng.normal(size=x.shape[0])
    lam, mu = 0.05, 0.01
    keep = rng.random(x.shape[0]) < 0.9
    objective = Objective(x, y, loss="squared", penalty="l1", lam=lam, mu=mu)
    theta, info = solve(objective, keep)
    assert info.violation <= REFERENCE_TOL

    reference = ElasticNet(
        alpha=lam + mu, l1_ratio=lam / (lam + mu), fit_intercept=False, tol=1e-14, max_iter=100_000
    ).fit(x[keep], y[keep])
    np.testing.assert_allclose(theta, reference.coef_, atol=SKLEARN_ATOL)


def test_warm_start_reaches_same_solution():
    rng, x, beta = _data(2)
    y = np.where(rng.random(x.shape[0]) < 1 / (1 + np.exp(-x @ beta)), 1.0, -1.0)
    objective = Objective(x, y, loss="logistic", penalty="l1", lam=0.01, mu=1e-4)
    cold, _ = solve(objective)
    keep = np.ones(x.shape[0], dtype=bool)
    keep[:15] = False
    warm, _ = solve(objective, keep, cold)
    cold_remaining, _ = solve(objective, keep)
    np.testing.assert_allclose(warm, cold_remaining, atol=1e-7)


def test_nuclear_solution_satisfies_optimality():
    rng, x, _ = _data(3, n=200, d=10)
    y_multi = x @ rng.normal(size=(10, 2)) @ rng.normal(size=(2, 6)) + rng.normal(size=(200, 6))
    objective = Objective(x, y_multi, loss="squared", penalty="nuclear", lam=0.2, mu=1e-3)
    theta, info = solve(objective)
    assert info.violation <= REFERENCE_TOL
    assert objective.kkt_violation(theta) <= 1e-7
    assert np.linalg.matrix_rank(theta, tol=1e-8) < 6


def test_l1_qp_matches_proximal_gradient():
    rng = np.random.default_rng(4)
    factor = rng.normal(size=(30, 12))
    matrix = factor.T @ factor / 30 + 0.05 * np.eye(12)
    c = rng.normal(size=12)
    lam = 0.3
    x = solve_l1_qp(matrix, c, lam)

    reference = np.zeros(12)
    step = 1 / np.linalg.eigvalsh(matrix)[-1]
    for _ in range(20_000):
        moved = reference - step * (c + matrix @ reference)
        reference = np.sign(moved) * np.maximum(np.abs(moved) - step * lam, 0)
    np.testing.assert_allclose(x, reference, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_l1_qp_optimality_from_any_start(seed):
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(20, 15))
    matrix = factor.T @ factor / 20 + 1e-3 * np.eye(15)
    c = rng.normal(size=15)
    x = solve_l1_qp(matrix, c, 0.2, rng.normal(size=15))
    gradient = c + matrix @ x
    assert np.all(np.abs(gradient[x != 0] + 0.2 * np.sign(x[x != 0])) <= 1e-10)
    assert np.all(np.abs(gradient[x == 0]) <= 0.2 + 1e-10)
