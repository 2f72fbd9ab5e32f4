"""``pij``: the proximal infinitesimal jackknife on the support of the full-data solution."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from trustbench import Method, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.jackknife import GradientShift
from trustbench.families.unlearning.lowrank import (
    numerical_rank,
    reduced_hessian,
    retract,
    tangent_basis,
)
from trustbench.families.unlearning.objectives import Problem


@register_method("unlearning", "pij", kind="proposed")
class ProximalJackknife(Method):
    """Take the centred jackknife step with the support (or the rank) of theta_hat fixed.

    Approximates argmin F_{-D} by one Newton step from theta_hat on the smooth part with
    the non-smooth term linearised at theta_hat:

    - l1: on the support S of theta_hat, with the signs of theta_hat fixed,
      ``theta_S = theta_hat_S - H_SS^{-1} E_D[S]`` and ``theta_j = 0`` off S, where H is the
      Hessian of the smooth part of F at theta_hat and E_D the centred gradient shift
      (`trustbench.families.unlearning.jackknife`). ``H_SS`` is factored once (Cholesky) in
      ``fit``; a batch costs the deleted points' gradients on S and two triangular solves.
    - nuclear: the same step restricted to the tangent space T of the rank-r matrix
      theta_hat (with U V^T fixed), ``vec(Delta) = -Q (Q^T (A kron I) Q)^{-1} Q^T vec(E_D)``
      for an orthonormal basis Q of T, followed by a truncation back to rank r.

    Exact when nothing is deleted (E_D = 0); accurate while the support or rank of the
    retrained solution stays that of theta_hat.
    """

    def fit(self, problem: Problem) -> None:
        """Factor the Hessian on the support (or tangent space) of theta_hat."""
        self.tracker = DeletionTracker(problem.n)
        self.theta_hat = problem.theta
        objective = problem.objective
        if objective.penalty == "l1":
            self.support = np.flatnonzero(problem.theta)
            hessian = objective.hessian(problem.theta, columns=self.support)
            self.factor = scipy.linalg.cho_factor(hessian)
            self.shift = GradientShift(problem, columns=self.support)
            return
        self.rank = numerical_rank(problem.theta)
        self.basis = tangent_basis(problem.theta, self.rank)
        hessian = objective.hessian(problem.theta)
        self.factor = scipy.linalg.cho_factor(
            reduced_hessian(hessian, self.basis, problem.theta.shape[1])
        )
        self.shift = GradientShift(problem)

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the jackknife estimate for all deletions so far."""
        batch = self.tracker.add(indices)
        self.shift.add(batch)
        if self.theta_hat.ndim == 1:
            theta = np.zeros_like(self.theta_hat)
            step = scipy.linalg.cho_solve(self.factor, self.shift.shift())
            theta[self.support] = self.theta_hat[self.support] - step
            return theta
        coordinates = scipy.linalg.cho_solve(self.factor, self.basis.T @ self.shift.shift().ravel())
        step = (self.basis @ coordinates).reshape(self.theta_hat.shape)
        return retract(self.theta_hat - step, self.rank)
