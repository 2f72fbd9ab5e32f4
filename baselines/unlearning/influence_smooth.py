"""``influence_smooth``: the jackknife step on every coordinate, ignoring the regulariser."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from trustbench import Method, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.jackknife import GradientShift
from trustbench.families.unlearning.objectives import Problem


@register_method("unlearning", "influence_smooth", kind="baseline")
class SmoothInfluence(Method):
    """Take the centred jackknife step on all coordinates as if the objective were smooth.

    Update: ``theta = theta_hat - H^{-1} E_D`` with H the full Hessian of the smooth part of
    F at theta_hat (factored once) and E_D the centred gradient shift. This is the
    classical influence-function update: it approximates argmin of the smooth part of
    F_{-D} plus the first-order change of nothing else, so it ignores that lam * R(theta)
    holds coordinates at zero (or singular values at zero) and returns a dense theta.
    """

    def fit(self, problem: Problem) -> None:
        """Factor the full Hessian of the smooth part at theta_hat."""
        self.tracker = DeletionTracker(problem.n)
        self.theta_hat = problem.theta
        self.factor = scipy.linalg.cho_factor(problem.objective.hessian(problem.theta))
        self.shift = GradientShift(problem)

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the smooth influence estimate."""
        batch = self.tracker.add(indices)
        self.shift.add(batch)
        return self.theta_hat - scipy.linalg.cho_solve(self.factor, self.shift.shift())
