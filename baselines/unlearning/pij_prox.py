"""``pij_prox``: the jackknife's quadratic model minimised with the regulariser."""

from __future__ import annotations

import numpy as np

from trustbench import Method, Param, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.jackknife import GradientShift
from trustbench.families.unlearning.objectives import Problem
from trustbench.families.unlearning.solvers import solve_l1_qp, solve_nuclear_qp


class HessianColumns:
    """Columns of the full-data Hessian at theta_hat, computed once each when first used."""

    def __init__(self, problem: Problem, *, precompute: bool) -> None:
        self.problem = problem
        size = problem.theta.shape[0]
        if precompute:
            self.matrix = problem.objective.hessian(problem.theta)
            self.position = np.arange(size)
        else:
            self.matrix = np.empty((size, 0))
            self.position = np.full(size, -1, dtype=np.intp)

    def get(self, columns: np.ndarray) -> np.ndarray:
        """Return the Hessian columns ``columns``, shape (d, len(columns))."""
        missing = columns[self.position[columns] < 0]
        if missing.size:
            computed = self.problem.objective.hessian_columns(self.problem.theta, missing)
            self.position[missing] = self.matrix.shape[1] + np.arange(missing.size)
            self.matrix = np.concatenate([self.matrix, computed], axis=1)
        return self.matrix[:, self.position[columns]]


@register_method("unlearning", "pij_prox", kind="proposed")
class ProximalJackknifeProx(Method):
    """Minimise the jackknife's quadratic model plus the regulariser over all coordinates.

    Approximates argmin F_{-D} by

        theta = argmin_theta  g_D^T (theta - theta_hat)
                              + (theta - theta_hat)^T H (theta - theta_hat) / 2 + lam R(theta),

    where H is the Hessian of the smooth part of F at theta_hat (fixed for the whole
    stream) and ``g_D = grad f(theta_hat) + E_D`` is the exact smooth gradient of F_{-D} at
    theta_hat from the centred gradient shift E_D. Unlike ``pij``, coordinates can enter
    and leave the support (singular values can appear and vanish).

    - l1: an active-set loop warm-started at the previous estimate: the working set is
      the support plus the coordinates whose model gradient exceeds lam, and each
      sub-problem is solved exactly by feature-sign search, until the model's KKT
      violation is at most ``tol``. Hessian columns are all computed in ``fit``
      (``hessian="precomputed"``, d^2 floats of state) or when a coordinate first enters
      the working set (``"on_demand"``).
    - nuclear: accelerated proximal gradient with singular value thresholding on the model,
      warm-started, to a gradient-mapping norm of at most ``tol``.
    """

    params = {
        "tol": Param(
            float,
            1e-8,
            low=0.0,
            low_inclusive=False,
            doc="largest accepted optimality violation of the quadratic model",
        ),
        "hessian": Param(
            str,
            "precomputed",
            choices=("precomputed", "on_demand"),
            doc="compute every Hessian column in fit, or each column when first needed",
        ),
        "max_iter": Param(int, 100, low=1, doc="largest number of working-set updates per batch"),
    }

    def fit(self, problem: Problem) -> None:
        """Compute the smooth gradient at theta_hat and the Hessian (or its support columns)."""
        objective = problem.objective
        self.tracker = DeletionTracker(problem.n)
        self.theta_hat = problem.theta
        self.lam = objective.lam
        self.theta = problem.theta.copy()
        self.shift = GradientShift(problem)
        self.gradient = objective.smooth_gradient(problem.theta)
        if objective.penalty == "nuclear":
            self.A = objective.hessian(problem.theta)
            self.lipschitz = float(np.linalg.eigvalsh(self.A)[-1])
            return
        self.columns = HessianColumns(problem, precompute=self.hessian == "precomputed")
        self.columns.get(np.flatnonzero(problem.theta))

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the minimiser of the model for all deletions so far."""
        batch = self.tracker.add(indices)
        self.shift.add(batch)
        model_gradient = self.gradient + self.shift.shift()
        if self.theta_hat.ndim == 2:
            linear = self.A @ self.theta_hat - model_gradient
            self.theta, _ = solve_nuclear_qp(
                self.A, linear, self.lam, self.theta, tol=self.tol, lipschitz=self.lipschitz
            )
            return self.theta
        self.theta = self._minimise_l1_model(model_gradient)
        return self.theta

    def _minimise_l1_model(self, model_gradient: np.ndarray) -> np.ndarray:
        x = self.theta.copy()
        for _ in range(self.max_iter):
            delta = x - self.theta_hat
            moved = np.flatnonzero(delta)
            gradient = model_gradient + self.columns.get(moved) @ delta[moved]
            nonzero = x != 0
            violation = np.where(
                nonzero,
                np.abs(gradient + self.lam * np.sign(x)),
                np.maximum(np.abs(gradient) - self.lam, 0.0),
            )
            if violation.max() <= self.tol:
                return x

            working = np.flatnonzero(nonzero | (np.abs(gradient) > self.lam))
            block = self.columns.get(working)[working]
            linear = gradient[working] - block @ x[working]
            x[working] = solve_l1_qp(block, linear, self.lam, x[working])
        return x
