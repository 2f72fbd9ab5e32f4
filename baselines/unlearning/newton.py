"""``newton``: one proximal Newton step on the remaining data per deletion request."""

from __future__ import annotations

import numpy as np

from trustbench import Method, Param, register_method
from trustbench.families.unlearning.deletions import DeletionTracker
from trustbench.families.unlearning.objectives import Problem
from trustbench.families.unlearning.solvers import (
    nuclear_quadratic_terms,
    proximal_newton_step,
    solve_nuclear_qp,
)


@register_method("unlearning", "newton", kind="baseline")
class ProximalNewtonStep(Method):
    """Take one proximal Newton step on F_{-D} from the current estimate per request.

    In the style of the Newton-step removal of Guo et al. (ICML 2020) and Sekhari et al.
    (NeurIPS 2021), with the gradient and Hessian recomputed on the remaining data at the
    current estimate theta_{t-1} at every request:

        theta_t = argmin_theta  g^T (theta - theta_{t-1})
                                + (theta - theta_{t-1})^T H (theta - theta_{t-1}) / 2
                                + lam R(theta),

    with g and H the smooth gradient and Hessian of F_{-D_t} at theta_{t-1}.

    - l1: the model is minimised exactly over a working set made of the support of
      theta_{t-1} and the coordinates whose gradient exceeds lam, so coordinates can
      enter and leave. (A step that froze the support and the signs is unstable and is
      not used.) The step is taken in full, without line search.
    - nuclear: the model (exact for the squared loss) is minimised by accelerated
      proximal gradient to a gradient-mapping norm of at most ``tol``.
    """

    params = {
        "tol": Param(
            float,
            1e-8,
            low=0.0,
            low_inclusive=False,
            doc="largest accepted optimality violation of the nuclear-norm model",
        )
    }

    def fit(self, problem: Problem) -> None:
        """Start from the full-data solution; nothing is precomputed."""
        self.problem = problem
        self.tracker = DeletionTracker(problem.n)
        self.theta = problem.theta.copy()

    def delete(self, indices: np.ndarray) -> np.ndarray:
        """Delete ``indices`` and return the estimate after one Newton step."""
        self.tracker.add(indices)
        objective = self.problem.objective
        keep = self.tracker.keep
        if objective.penalty == "l1":
            step, _ = proximal_newton_step(objective, self.theta, keep)
            self.theta = self.theta + step
            return self.theta
        quadratic, linear = nuclear_quadratic_terms(objective, keep)
        self.theta, _ = solve_nuclear_qp(quadratic, linear, objective.lam, self.theta, tol=self.tol)
        return self.theta
