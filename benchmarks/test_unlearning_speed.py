"""pytest-benchmark timings of one deletion batch per unlearning method.

These are measurements, not pass/fail checks: pytest-benchmark calibrates, reports and, with
``--benchmark-compare``, compares against saved runs. The problem is the smoke tier's
synthetic l1-logistic problem at d = 1000 (n = 10,000), and the batch is 1% of the points.
"""

import copy

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from trustbench.core.registry import get_family, get_method, list_methods
from trustbench.families.unlearning.deletions import deletion_stream
from trustbench.families.unlearning.protocol import build_problem

METHODS = [
    cls.name
    for cls in list_methods("unlearning")
    if cls.__module__.startswith("trustbench_baselines")
]


@pytest.fixture(scope="module")
def problem_and_batch():
    scenario = get_family("unlearning").scenario("smoke", "synthetic_d1000")
    problem = build_problem(scenario.config, seed=0)
    batch_size = round(scenario.config["batch_fraction"] * problem.n)
    (batch,) = deletion_stream(problem, order="random", n_batches=1, batch_size=batch_size, seed=0)
    return problem, batch


@pytest.mark.parametrize("method_name", METHODS)
def test_deletion_batch_seconds(benchmark, problem_and_batch, method_name):
    problem, batch = problem_and_batch
    fitted = get_method("unlearning", method_name)()
    fitted.fit(problem)
    shared = {id(v): v for v in (problem, problem.objective, problem.objective.X, problem.theta)}

    def fresh_copy():
        return (copy.deepcopy(fitted, dict(shared)), batch.copy()), {}

    def delete(method, indices):
        return method.delete(indices)

    with threadpool_limits(limits=1):
        theta = benchmark.pedantic(delete, setup=fresh_copy, rounds=5, iterations=1)

    assert np.all(np.isfinite(theta)), f"{method_name} returned a non-finite estimate"
