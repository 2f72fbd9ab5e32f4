import numpy as np
import pytest
import scipy.linalg

import trustbench_baselines.unlearning  # noqa: F401  (registers the built-in methods)
from trustbench.core.errors import ParameterError
from trustbench.core.registry import get_method, list_methods
from trustbench.families.unlearning.data import make_low_rank_regression, make_sparse_logistic
from trustbench.families.unlearning.objectives import Objective, Problem
from trustbench.families.unlearning.protocol import relative_distance
from trustbench.families.unlearning.solvers import solve

APPROXIMATE = ("pij", "pij_prox", "newton", "influence_smooth")
ALL = ("retrain", "retrain_cold", *APPROXIMATE, "noop")


def _logistic_problem(n=600, d=40, duplicate=False, seed=0, lam_ratio=0.1) -> Problem:
    data = make_sparse_logistic(n=n, d=d, n_test=200, sparsity=5, rho=0.3, signal=1.0, seed=seed)
    x, y = data.X, data.y
    if duplicate:
        x, y = np.vstack([x, x]), np.concatenate([y, y])
    probe = Objective(x, y, loss="logistic", penalty="l1", lam=1.0, mu=1e-4)
    objective = Objective(
        x, y, loss="logistic", penalty="l1", lam=lam_ratio * probe.lambda_max(), mu=1e-4
    )
    theta, _ = solve(objective)
    return Problem("synthetic", objective, theta, data.X_test, data.y_test, "classification")


def _lowrank_problem(duplicate=False) -> Problem:
    data = make_low_rank_regression(n=300, d=12, k=8, rank=2, noise=0.5, n_test=100, seed=0)
    x, y = data.X, data.y
    if duplicate:
        x, y = np.vstack([x, x]), np.vstack([y, y])
    objective = Objective(x, y, loss="squared", penalty="nuclear", lam=0.05, mu=1e-4)
    theta, _ = solve(objective)
    return Problem("lowrank", objective, theta, data.X_test, data.y_test, "regression")


def _retrained(problem: Problem, deleted: np.ndarray) -> np.ndarray:
    keep = np.ones(problem.n, dtype=bool)
    keep[deleted] = False
    return solve(problem.objective, keep, problem.theta)[0]


def test_every_builtin_method_registered():
    registered = {cls.name: cls.kind for cls in list_methods("unlearning")}
    for name in ALL:
        assert name in registered
    assert registered["pij"] == "proposed"
    assert registered["pij_prox"] == "proposed"
    assert registered["noop"] == "reference"


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("make", [_logistic_problem, _lowrank_problem])
def test_exact_when_remaining_data_equals_full_data(name, make):
    # Every point appears twice; deleting one copy of each leaves the same averaged loss,
    # so F_{-D} = F and theta_hat is the exact minimiser after the deletion.
    problem = make(duplicate=True)
    method = get_method("unlearning", name)()
    method.fit(problem)
    theta = method.delete(np.arange(problem.n // 2))
    assert relative_distance(theta, problem.theta) < 1e-6


def test_pij_prox_close_to_retrain():
    problem = _logistic_problem(n=2000, d=50, seed=1)
    rng = np.random.default_rng(0)
    order = rng.permutation(problem.n)
    method = get_method("unlearning", "pij_prox")()
    method.fit(problem)
    for b in range(3):
        theta = method.delete(order[b * 20 : (b + 1) * 20])
    target = _retrained(problem, order[:60])
    noop_distance = relative_distance(problem.theta, target)
    assert relative_distance(theta, target) < 0.1 * noop_distance


@pytest.mark.parametrize("name", ["pij", "pij_prox", "newton"])
def test_approximate_beats_noop_on_random_batch(name):
    problem = _logistic_problem(seed=2)
    deleted = np.random.default_rng(1).choice(problem.n, size=12, replace=False)
    method = get_method("unlearning", name)()
    method.fit(problem)
    theta = method.delete(deleted)
    target = _retrained(problem, deleted)
    assert relative_distance(theta, target) < relative_distance(problem.theta, target)


def test_pij_is_centred_not_uncentred_step():
    problem = _logistic_problem(seed=3)
    deleted = np.random.default_rng(2).choice(problem.n, size=30, replace=False)
    method = get_method("unlearning", "pij")()
    method.fit(problem)
    theta = method.delete(deleted)

    objective = problem.objective
    support = np.flatnonzero(problem.theta)
    hessian = objective.hessian(problem.theta, columns=support)
    gradient_sum = objective.loss_gradient_sum(problem.theta, deleted)[support]
    uncentred = np.zeros_like(problem.theta)
    uncentred[support] = problem.theta[support] + scipy.linalg.solve(
        hessian, gradient_sum / (problem.n - deleted.size)
    )

    target = _retrained(problem, deleted)
    assert relative_distance(theta, uncentred) > 1e-3
    assert relative_distance(theta, target) < relative_distance(uncentred, target)


def test_influence_smooth_is_dense():
    problem = _logistic_problem(seed=4)
    method = get_method("unlearning", "influence_smooth")()
    method.fit(problem)
    theta = method.delete(np.arange(5))
    assert np.count_nonzero(theta) > 2 * np.count_nonzero(problem.theta)


def test_pij_prox_on_demand_matches_precomputed():
    problem = _logistic_problem(seed=5)
    deleted = np.arange(0, 40, 2)
    answers = []
    for hessian in ("precomputed", "on_demand"):
        method = get_method("unlearning", "pij_prox")(hessian=hessian)
        method.fit(problem)
        answers.append(method.delete(deleted))
    np.testing.assert_allclose(answers[0], answers[1], atol=1e-10)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "non-empty"),
        ([1, 1], "index 1 appears more than once"),
        ([0, 10_000], "index 10000 is out of range"),
        ([-1], "index -1 is out of range"),
        ([0.5], "integer"),
    ],
)
def test_invalid_batch_rejected(name, batch, message):
    problem = _logistic_problem(n=100, d=10)
    method = get_method("unlearning", name)()
    method.fit(problem)
    with pytest.raises(ParameterError, match=message):
        method.delete(np.array(batch))


@pytest.mark.parametrize("name", ALL)
def test_index_deleted_twice_rejected(name):
    problem = _logistic_problem(n=100, d=10)
    method = get_method("unlearning", name)()
    method.fit(problem)
    method.delete(np.array([3, 4]))
    with pytest.raises(ParameterError, match="index 4 was already deleted"):
        method.delete(np.array([4, 5]))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tol": -1.0}, "tol"),
        ({"hessian": "sparse"}, "hessian"),
    ],
)
def test_invalid_method_parameter_rejected(params, message):
    with pytest.raises(ParameterError, match=message):
        get_method("unlearning", "pij_prox")(**params)
