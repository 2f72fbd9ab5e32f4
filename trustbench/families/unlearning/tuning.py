"""Claim (b): approximate unlearning when lam was chosen by cross-validation.

Approximate unlearning keeps the lam that cross-validation chose on the full data. The
exact result of "forget these points" retrains the whole pipeline, cross-validation
included, so it may pick another lam. This module replays a stream on which both are
computed:

1. a log grid of ``grid_size`` values of lam from ``grid_low * lam_max`` to ``lam_max``
   (lam_max of the full data), and one fold per point, fixed for the whole stream;
2. K-fold cross-validation on the remaining points (mean validation ``cv_metric`` per
   lam, and its standard error over folds); the chosen lam minimises the score, or with
   ``one_se_rule`` is the largest lam whose score is within one standard error of it;
3. deletion batches at random, or (``targeted``) chosen greedily so that a neighbouring
   grid value of the full-data choice lam_0 wins: each batch deletes the remaining points
   whose validation loss is largest under the neighbour relative to lam_0, which lowers
   the neighbour's CV score against lam_0's;
4. after each batch, "retrain with CV" (lam re-chosen, then solved) and "retrain at the
   old lam" (lam_0 kept), both with the reference solver.

The method under test runs at lam_0, as approximate unlearning does.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustbench.core.errors import ParameterError
from trustbench.core.family import CellResult
from trustbench.core.method import Method
from trustbench.families.unlearning.objectives import Objective, Problem
from trustbench.families.unlearning.protocol import (
    cache_key,
    load_dataset,
    make_objective,
    relative_distance,
    replay_method,
)
from trustbench.families.unlearning.solvers import REFERENCE_TOL, solve

logger = logging.getLogger(__name__)

CV_KEYS = ("folds", "grid_size", "grid_low", "one_se_rule", "cv_metric", "targeted")
CV_METRICS = ("deviance", "error")


@dataclass
class CVCurve:
    """Cross-validation scores over the grid, and the per-point validation losses."""

    score: np.ndarray
    standard_error: np.ndarray
    point_losses: np.ndarray

    def choose(self, one_se_rule: bool) -> int:
        """Return the index of the chosen lam (grid sorted from largest to smallest)."""
        best = int(np.argmin(self.score))
        if not one_se_rule:
            return best
        within = np.flatnonzero(self.score <= self.score[best] + self.standard_error[best])
        return int(within.min())


@dataclass
class CVTrajectory:
    """Outputs of a CV stream for one scenario and seed, shared by every method."""

    problem: Problem
    grid: np.ndarray
    batches: list[np.ndarray]
    chosen: list[int]
    shift_in_se: list[float]
    theta_cv: list[np.ndarray]
    theta_old: list[np.ndarray]
    initial: int
    target: int


def check_cv_config(config: Mapping[str, Any]) -> None:
    """Raise `ParameterError` naming the first invalid CV setting of ``config``."""
    missing = [key for key in CV_KEYS if key not in config]
    if missing:
        raise ParameterError(f"CV scenario lacks setting(s) {missing}; add them to its config")
    if not (isinstance(config["folds"], int) and config["folds"] >= 2):
        raise ParameterError(f"invalid folds={config['folds']!r}; pass an integer >= 2")
    if not (isinstance(config["grid_size"], int) and config["grid_size"] >= 3):
        raise ParameterError(f"invalid grid_size={config['grid_size']!r}; pass an integer >= 3")
    if not 0 < config["grid_low"] < 1:
        raise ParameterError(f"invalid grid_low={config['grid_low']!r}; pass a value in (0, 1)")
    if config["cv_metric"] not in CV_METRICS:
        raise ParameterError(
            f"invalid cv_metric={config['cv_metric']!r}; expected one of {CV_METRICS}"
        )


def validation_losses(objective: Objective, theta: np.ndarray, rows: np.ndarray, metric: str):
    """Return the validation loss of each row: deviance (or squared error), or 0/1 error."""
    if metric == "deviance" or objective.loss == "squared":
        return objective.sample_losses(theta, rows)
    prediction = np.where(objective.margins(theta, rows) >= 0, 1.0, -1.0)
    return (prediction != objective.y[rows]).astype(float)


def cross_validate(
    objectives: list[Objective],
    keep: np.ndarray,
    folds: np.ndarray,
    metric: str,
    warm: dict[tuple[int, int], np.ndarray],
) -> CVCurve:
    """Return the CV curve of the remaining points over the grid of ``objectives``.

    ``warm`` maps (fold, grid index) to the last solution and is updated in place, so
    successive calls along a stream start from the previous fits.
    """
    n_folds = int(folds.max()) + 1
    n_points = keep.size
    fold_scores = np.zeros((n_folds, len(objectives)))
    point_losses = np.full((len(objectives), n_points), np.nan)
    for fold in range(n_folds):
        train = keep & (folds != fold)
        rows = np.flatnonzero(keep & (folds == fold))
        previous = None
        for index, objective in enumerate(objectives):
            start = warm.get((fold, index), previous)
            theta, _ = solve(objective, train, start, tol=REFERENCE_TOL)
            warm[(fold, index)] = previous = theta
            losses = validation_losses(objective, theta, rows, metric)
            point_losses[index, rows] = losses
            fold_scores[fold, index] = losses.mean()
    score = fold_scores.mean(axis=0)
    standard_error = fold_scores.std(axis=0, ddof=1) / np.sqrt(n_folds)
    return CVCurve(score, standard_error, point_losses)


def targeted_batch(
    curve: CVCurve, keep: np.ndarray, old: int, target: int, size: int
) -> np.ndarray:
    """Return the ``size`` remaining points whose deletion most favours ``target`` over ``old``."""
    gain = curve.point_losses[target] - curve.point_losses[old]
    gain = np.where(keep, gain, -np.inf)
    return np.argsort(-gain, kind="stable")[:size]


@functools.lru_cache(maxsize=2)
def _cached_trajectory(key: str, seed: int) -> CVTrajectory:
    config = json.loads(key)["config"]
    check_cv_config(config)
    dataset = load_dataset(config, seed)
    base = make_objective(dataset, config, lam=1.0)
    grid = base.lambda_max() * np.logspace(0.0, np.log10(config["grid_low"]), config["grid_size"])
    objectives = [make_objective(dataset, config, lam=float(lam)) for lam in grid]
    rng = np.random.default_rng(seed)
    folds = rng.permutation(base.n) % config["folds"]
    keep = np.ones(base.n, dtype=bool)
    warm: dict[tuple[int, int], np.ndarray] = {}

    curve = cross_validate(objectives, keep, folds, config["cv_metric"], warm)
    initial = curve.choose(config["one_se_rule"])
    neighbours = [i for i in (initial - 1, initial + 1) if 0 <= i < grid.size]
    target = min(neighbours, key=lambda i: curve.score[i])
    theta_hat, _ = solve(objectives[initial], None, None, tol=REFERENCE_TOL)
    problem = Problem(
        config["data"],
        objectives[initial],
        theta_hat,
        dataset.X_test,
        dataset.y_test,
        dataset.task,
    )

    size = max(1, round(config["batch_fraction"] * base.n))
    order = rng.permutation(base.n)
    batches, chosen, shift, theta_cv, theta_old = [], [], [], [], []
    old_theta, cv_theta = theta_hat, theta_hat
    for b in range(config["n_batches"]):
        if config["targeted"]:
            batch = targeted_batch(curve, keep, initial, target, size)
        else:
            batch = order[b * size : (b + 1) * size]
        keep = keep.copy()
        keep[batch] = False
        batches.append(batch)

        curve = cross_validate(objectives, keep, folds, config["cv_metric"], warm)
        pick = curve.choose(config["one_se_rule"])
        chosen.append(pick)
        spread = max(float(curve.standard_error[pick]), 1e-300)
        shift.append(float(curve.score[initial] - curve.score[pick]) / spread)
        old_theta, _ = solve(objectives[initial], keep, old_theta, tol=REFERENCE_TOL)
        cv_theta, _ = solve(objectives[pick], keep, cv_theta, tol=REFERENCE_TOL)
        theta_old.append(old_theta)
        theta_cv.append(cv_theta)
    logger.info(
        "CV stream (seed %d, targeted=%s): lam index %d -> %s",
        seed,
        config["targeted"],
        initial,
        chosen,
    )
    return CVTrajectory(problem, grid, batches, chosen, shift, theta_cv, theta_old, initial, target)


def cv_trajectory(config: Mapping[str, Any], seed: int) -> CVTrajectory:
    """Return the CV stream of a scenario config and seed, cached in this process."""
    return _cached_trajectory(cache_key(config), seed)


def _distance(theta: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(theta - reference))


def run_cv(method: Method, config: Mapping[str, Any], seed: int) -> CellResult:
    """Run ``method`` at the full-data CV choice of lam over the CV stream.

    ``cv_distance_ratio`` divides the Euclidean distances (not the relative ones) after
    the last batch: ``||theta - theta_cv|| / ||theta - theta_old||``.
    """
    trajectory = cv_trajectory(config, seed)
    method.fit(trajectory.problem)
    thetas, seconds = replay_method(method, trajectory.batches)

    to_cv = [relative_distance(t, r) for t, r in zip(thetas, trajectory.theta_cv, strict=True)]
    to_old = [relative_distance(t, r) for t, r in zip(thetas, trajectory.theta_old, strict=True)]
    noop = [relative_distance(trajectory.problem.theta, r) for r in trajectory.theta_old]
    changed = [pick != trajectory.initial for pick in trajectory.chosen]
    metrics = {
        "lambda_change_rate": float(np.mean(changed)),
        "lambda_shift_se": float(np.mean(trajectory.shift_in_se)),
        "distance_to_cv": to_cv[-1],
        "distance_final": to_old[-1],
        "cv_distance_ratio": _distance(thetas[-1], trajectory.theta_cv[-1])
        / max(_distance(thetas[-1], trajectory.theta_old[-1]), 1e-300),
        "distance_ratio_to_noop": float(np.mean(to_old) / max(np.mean(noop), 1e-300)),
        "seconds_per_batch": float(np.mean(seconds)),
        "test_score": trajectory.problem.test_score(thetas[-1]),
    }
    series = {
        "chosen_lambda": [float(trajectory.grid[i]) for i in trajectory.chosen],
        "shift_in_se": trajectory.shift_in_se,
        "distance_to_cv": to_cv,
        "distance_to_old": to_old,
    }
    info = {
        "lambda_0": float(trajectory.grid[trajectory.initial]),
        "lambda_target": float(trajectory.grid[trajectory.target]),
        "grid": [float(v) for v in trajectory.grid],
        "batch_size": int(trajectory.batches[0].size),
    }
    return CellResult(metrics=metrics, series=series, info=info)
