"""``noop``: no update, the distance every unlearning method must beat."""

from __future__ import annotations

import numpy as np

from trustbench import Method, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.objectives import Problem


@register_method("unlearning", "noop", kind="reference")
class Noop(Method):
    """Return the full-data solution whatever is deleted.

    Update: theta_t = theta_hat. It approximates F_{-D} by F, so its distance to the
    retrained model is the scale that ``distance_ratio_to_noop`` divides by.
    """

    def fit(self, problem: Problem) -> None:
        """Store the full-data solution."""
        self.tracker = DeletionTracker(problem.n)
        self.theta = problem.theta

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Validate ``indices`` and return the full-data solution unchanged."""
        self.tracker.add(indices)
        return self.theta
