"""``retrain_cold``: the exact minimiser of F_{-D}, solved from zero after every batch."""

from __future__ import annotations

import numpy as np

from trustbench import register_method
from trustbench.families.unlearning.solvers import solve
from trustbench_baselines.unlearning.retrain import Retrain


@register_method("unlearning", "retrain_cold", kind="reference")
class RetrainCold(Retrain):
    """Minimise F_{-D} from scratch after every batch.

    Update: theta_t = argmin F_{-D_t}(theta), solved like ``retrain`` but started at
    zero, which is what deleting without any saved state costs. Parameters are those of
    ``retrain``.
    """

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the minimiser of F_{-D}, solved from zero."""
        self.tracker.add(indices)
        theta, _ = solve(self.problem.objective, self.tracker.keep, None, tol=self.tol)
        return theta
