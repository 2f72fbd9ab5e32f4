"""``retrain``: the exact minimiser of F_{-D}, warm-started from the previous one."""

from __future__ import annotations

import numpy as np

from trustbench import Method, Param, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.objectives import Problem
from trustbench.families.unlearning.solvers import REFERENCE_TOL, solve


@register_method("unlearning", "retrain", kind="reference")
class Retrain(Method):
    """Minimise F_{-D} again after every batch, starting from the previous minimiser.

    Update: theta_t = argmin F_{-D_t}(theta), by proximal Newton with an active set for
    the l1 penalty and by accelerated proximal gradient for the nuclear norm, started at
    theta_{t-1}, to an optimality violation of at most ``tol``. It approximates nothing:
    it is the target every other method is measured against.
    """

    params = {
        "tol": Param(
            float,
            REFERENCE_TOL,
            low=0.0,
            low_inclusive=False,
            doc="largest accepted KKT violation (l1) or gradient-mapping norm (nuclear)",
        )
    }

    def fit(self, problem: Problem) -> None:
        """Store the full-data solution as the first warm start."""
        self.problem = problem
        self.tracker = DeletionTracker(problem.n)
        self.theta = problem.theta.copy()

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the minimiser of F_{-D} on the remaining points."""
        self.tracker.add(indices)
        self.theta, _ = solve(self.problem.objective, self.tracker.keep, self.theta, tol=self.tol)
        return self.theta
