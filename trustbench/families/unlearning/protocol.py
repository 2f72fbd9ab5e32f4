"""One cell of the deletion-stream protocol: build the problem, replay a stream, measure.

A cell runs, on the same batches and in the same process:

1. the reference: the family's own solver warm-started batch to batch (the exact target,
   timed per batch, so speed ratios compare runs side by side);
2. the method, timed: ``fit`` once (setup seconds), then ``delete`` per batch;
3. the method again on a copy taken right after ``fit``, untimed, under `tracemalloc`,
   for the peak memory that each ``delete`` allocates.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import time
import tracemalloc
from collections.abc import Mapping
from typing import Any

import numpy as np

from trustbench.core.errors import ParameterError
from trustbench.core.family import CellResult
from trustbench.core.method import Method
from trustbench.families.unlearning import data
from trustbench.families.unlearning.deletions import deletion_stream
from trustbench.families.unlearning.objectives import Objective, Problem
from trustbench.families.unlearning.solvers import REFERENCE_TOL, solve

logger = logging.getLogger(__name__)

LOCAL_DATA = ("mnist", "warfarin")


def load_dataset(config: Mapping[str, Any], seed: int) -> data.Dataset:
    """Return the data set that ``config["data"]`` names, drawn or split with ``seed``."""
    source = config["data"]
    if source == "synthetic":
        return data.make_sparse_logistic(
            n=config["n"],
            d=config["d"],
            n_test=config["n_test"],
            sparsity=config["sparsity"],
            rho=config["rho"],
            signal=config["signal"],
            seed=seed,
        )
    if source == "lowrank":
        return data.make_low_rank_regression(
            n=config["n"],
            d=config["d"],
            k=config["k"],
            rank=config["rank"],
            noise=config["noise"],
            n_test=config["n_test"],
            seed=seed,
        )
    if source == "digits":
        return data.load_sklearn_digits(seed=seed)
    if source == "diabetes":
        return data.load_sklearn_diabetes(seed=seed)
    if source in LOCAL_DATA:
        from trustbench.core.config import data_path

        path = data_path(source)
        if source == "mnist":
            return data.load_mnist(path, seed=seed, n=config.get("n"))
        return data.load_warfarin(path, seed=seed, target=config.get("target", "dose"))
    raise ParameterError(
        f"unknown data set {source!r}; expected synthetic, lowrank, digits, diabetes, "
        "mnist or warfarin"
    )


def make_objective(dataset: data.Dataset, config: Mapping[str, Any], lam: float) -> Objective:
    """Return the objective of ``dataset`` with the loss and penalty the config implies."""
    loss = "logistic" if dataset.task == "classification" else "squared"
    penalty = "nuclear" if dataset.y.ndim == 2 else "l1"
    return Objective(dataset.X, dataset.y, loss=loss, penalty=penalty, lam=lam, mu=config["mu"])


def regularisation(dataset: data.Dataset, config: Mapping[str, Any]) -> float:
    """Return lam = ``lam_ratio`` times the smallest lam at which zero is optimal."""
    ratio = config["lam_ratio"]
    if not (isinstance(ratio, int | float) and 0 < ratio < 1):
        raise ParameterError(f"invalid lam_ratio {ratio!r}; pass a fraction of lam_max in (0, 1)")
    probe = make_objective(dataset, config, lam=1.0)
    return ratio * probe.lambda_max()


@functools.lru_cache(maxsize=2)
def _cached_problem(key: str, seed: int) -> Problem:
    config = json.loads(key)["config"]
    dataset = load_dataset(config, seed)
    objective = make_objective(dataset, config, regularisation(dataset, config))
    start = time.perf_counter()
    theta, info = solve(objective, tol=REFERENCE_TOL)
    logger.info(
        "full-data solution of %s (seed %d): %d iterations, violation %.1e, %.2f s",
        config["data"],
        seed,
        info.iterations,
        info.violation,
        time.perf_counter() - start,
    )
    return Problem(config["data"], objective, theta, dataset.X_test, dataset.y_test, dataset.task)


def cache_key(config: Mapping[str, Any]) -> str:
    """Return the JSON key under which results derived from ``config`` are cached.

    For data read from a local file the key also contains the file's path, size and
    modification time, so pointing the configuration at other data is never served
    from the cache.
    """
    stamp: dict[str, Any] = {}
    if config.get("data") in LOCAL_DATA:
        from trustbench.core.config import data_path

        path = data_path(config["data"]).resolve()
        status = path.stat()
        stamp = {"path": str(path), "size": status.st_size, "mtime_ns": status.st_mtime_ns}
    return json.dumps({"config": dict(config), "source": stamp}, sort_keys=True)


def build_problem(config: Mapping[str, Any], seed: int) -> Problem:
    """Return the problem of a scenario config and seed, with its full-data solution.

    The result depends only on ``config``, the local data file it names (if any) and
    ``seed``. It is cached in this process under `cache_key`, so methods must not modify it.
    """
    return _cached_problem(cache_key(config), seed)


def relative_distance(theta: np.ndarray, reference: np.ndarray) -> float:
    """Return ``||theta - reference|| / ||reference||`` (Frobenius for matrices)."""
    scale = float(np.linalg.norm(reference))
    return float(np.linalg.norm(theta - reference)) / (scale if scale > 0 else 1.0)


def support_f1(theta: np.ndarray, reference: np.ndarray) -> float:
    """Return the F1 score of the support of ``theta`` against that of ``reference``.

    For a matrix the "support" is its rank: the score compares the index sets
    {1..rank(theta)} and {1..rank(reference)}, that is 2 min(r, r') / (r + r').
    """
    if theta.ndim == 2:
        from trustbench.families.unlearning.lowrank import numerical_rank

        ours, theirs = numerical_rank(theta), numerical_rank(reference)
        return 1.0 if ours + theirs == 0 else 2.0 * min(ours, theirs) / (ours + theirs)
    ours, theirs = theta != 0, reference != 0
    both = int(np.count_nonzero(ours & theirs))
    total = int(np.count_nonzero(ours)) + int(np.count_nonzero(theirs))
    return 1.0 if total == 0 else 2.0 * both / total


def state_bytes(method: Method, problem: Problem) -> int:
    """Return the bytes of the arrays a method instance keeps, excluding the problem's own.

    Walks the instance's attributes, and the attributes, tuples, lists and dicts inside
    them, and sums ``nbytes`` of every array that does not share memory with the
    problem's arrays.
    """
    shared = [problem.objective.X, problem.objective.y, problem.theta, problem.X_test]
    seen: set[int] = set()

    def walk(value: Any) -> int:
        if id(value) in seen or isinstance(value, Problem | Objective):
            return 0
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            if any(np.shares_memory(value, array) for array in shared):
                return 0
            return int(value.nbytes)
        if isinstance(value, tuple | list):
            return sum(walk(item) for item in value)
        if isinstance(value, dict):
            return sum(walk(item) for item in value.values())
        if hasattr(value, "__dict__") and not isinstance(value, type):
            return sum(walk(item) for item in vars(value).values())
        return 0

    return walk(method)


def replay_reference(
    problem: Problem, batches: list[np.ndarray]
) -> tuple[list[np.ndarray], list[float], list[np.ndarray]]:
    """Return the retrained solutions, seconds per batch and remaining masks of a stream."""
    keep = np.ones(problem.n, dtype=bool)
    theta = problem.theta
    thetas, seconds, masks = [], [], []
    for batch in batches:
        keep = keep.copy()
        keep[batch] = False
        start = time.perf_counter()
        theta, _ = solve(problem.objective, keep, theta, tol=REFERENCE_TOL)
        seconds.append(time.perf_counter() - start)
        thetas.append(theta)
        masks.append(keep)
    return thetas, seconds, masks


def replay_method(
    method: Method, batches: list[np.ndarray]
) -> tuple[list[np.ndarray], list[float]]:
    """Call ``method.delete`` per batch and return copies of its estimates and the seconds."""
    thetas, seconds = [], []
    for batch in batches:
        start = time.perf_counter()
        theta = method.delete(batch.copy())
        seconds.append(time.perf_counter() - start)
        thetas.append(np.array(theta, dtype=float, copy=True))
    return thetas, seconds


def peak_memory(method: Method, batches: list[np.ndarray]) -> list[int]:
    """Return the peak bytes allocated during each ``delete`` call, under `tracemalloc`."""
    peaks = []
    tracemalloc.start()
    try:
        for batch in batches:
            baseline = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            method.delete(batch.copy())
            peaks.append(max(tracemalloc.get_traced_memory()[1] - baseline, 0))
    finally:
        tracemalloc.stop()
    return peaks


def run_stream(
    problem: Problem, method: Method, config: Mapping[str, Any], seed: int
) -> CellResult:
    """Run the deletion-stream protocol for one method and return its metrics."""
    batch_size = max(1, round(config["batch_fraction"] * problem.n))
    batches = deletion_stream(
        problem,
        order=config["order"],
        n_batches=config["n_batches"],
        batch_size=batch_size,
        seed=seed,
    )
    references, reference_seconds, masks = replay_reference(problem, batches)

    start = time.perf_counter()
    method.fit(problem)
    setup_seconds = time.perf_counter() - start
    shared = (problem, problem.objective, problem.objective.X, problem.objective.y, problem.theta)
    memo = {id(value): value for value in shared}
    twin = copy.deepcopy(method, memo)
    persistent = state_bytes(method, problem)
    thetas, seconds = replay_method(method, batches)
    peaks = peak_memory(twin, batches)

    distances = [relative_distance(t, r) for t, r in zip(thetas, references, strict=True)]
    noop = [relative_distance(problem.theta, r) for r in references]
    final, reference = thetas[-1], references[-1]
    objective = problem.objective
    metrics = {
        "seconds_per_batch": float(np.mean(seconds)),
        "setup_seconds": setup_seconds,
        # Medians over batches: a sub-millisecond update preempted once by the scheduler
        # would otherwise dominate the ratio. The mean stays in seconds_per_batch.
        "speedup_vs_retrain": float(
            np.median(reference_seconds) / max(float(np.median(seconds)), 1e-9)
        ),
        "peak_memory_bytes": float(max(peaks)),
        "state_bytes": float(persistent),
        "distance_final": distances[-1],
        "distance_mean": float(np.mean(distances)),
        "distance_ratio_to_noop": float(np.mean(distances) / max(np.mean(noop), 1e-300)),
        "support_f1": support_f1(final, reference),
        "objective_gap": objective.value(final, masks[-1]) - objective.value(reference, masks[-1]),
        "test_score": problem.test_score(final),
    }
    series = {
        "seconds": seconds,
        "retrain_seconds": reference_seconds,
        "distance": distances,
        "noop_distance": noop,
        "deleted": [int(batch_size * (b + 1)) for b in range(len(batches))],
    }
    info = {
        "n": problem.n,
        "d": int(problem.theta.shape[0]),
        "batch_size": batch_size,
        "lam": objective.lam,
        "support_size_full": int(np.count_nonzero(problem.theta))
        if problem.theta.ndim == 1
        else None,
        "retrain_test_score": problem.test_score(reference),
    }
    return CellResult(metrics=metrics, series=series, info=info)
