"""``retrain_cold``: the exact minimiser of F_{-D}, solved from zero after every batch."""

from __future__ import annotations

import numpy as np

from trustbench import Method, Param, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.objectives import Problem
from trustbench.families.unlearning.solvers import REFERENCE_TOL, solve


@register_method("unlearning", "retrain_cold", kind="reference")
class RetrainCold(Method):
    """Minimise F_{-D} from scratch after every batch.

    Update: theta_t = argmin F_{-D_t}(theta), solved like ``retrain`` but started at
    zero, which is what deleting without any saved state costs.
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
        """Keep a reference to the problem; nothing else is precomputed."""
        self.problem = problem
        self.tracker = DeletionTracker(problem.n)

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the minimiser of F_{-D}, solved from zero."""
        self.tracker.add(indices)
        theta, _ = solve(self.problem.objective, self.tracker.keep, None, tol=self.tol)
        return theta
