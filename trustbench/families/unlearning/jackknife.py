"""The centred gradient shift that every infinitesimal-jackknife method starts from.

At the full-data solution theta_hat, let gbar be the mean loss gradient over all n points.
After deleting a set D of m points, the gradient of the remaining mean loss at theta_hat is

    (1 / (n - m)) * sum_{i not in D} grad loss_i
        = gbar - (1 / (n - m)) * sum_{i in D} (grad loss_i - gbar),

which costs only the deleted points' gradients. The shift of the smooth gradient of
F_{-D} at theta_hat is therefore

    E_D = -(1 / (n - m)) * sum_{i in D} (grad loss_i(theta_hat) - gbar).

The centring by gbar is what makes the step target the fixed-lam objective. The
uncentred shift ``-(1 / (n - m)) * sum_{i in D} grad loss_i`` differs from E_D by
``-(m / (n - m)) * gbar``, and gbar = -mu theta_hat - lam s is not zero at a regularised
solution, so a step built on it carries a bias of order m / (n - m) that does not vanish
when the deleted points are typical.
"""

from __future__ import annotations

import numpy as np

from trustbench.families.unlearning.objectives import Problem


class GradientShift:
    """Running sum of the deleted points' loss gradients at theta_hat, and E_D from it.

    Parameters
    ----------
    problem : Problem
        The problem; theta_hat is ``problem.theta``.
    columns : ndarray of int, optional
        Keep only these coordinates (rows of theta), to save work when a method needs
        E_D on a support only.
    """

    def __init__(self, problem: Problem, columns: np.ndarray | None = None) -> None:
        objective = problem.objective
        self.X = objective.X
        self.n = objective.n
        self.columns = columns
        self.derivative = objective.loss_derivative(objective.margins(problem.theta))
        full_mean = objective.X.T @ self.derivative / self.n
        self.mean_gradient = full_mean if columns is None else full_mean[columns]
        self.deleted_sum = np.zeros_like(self.mean_gradient)
        self.deleted = 0

    def add(self, batch: np.ndarray) -> None:
        """Add the loss gradients at theta_hat of the points in ``batch``."""
        rows = self.X[batch] if self.columns is None else self.X[np.ix_(batch, self.columns)]
        self.deleted_sum += rows.T @ self.derivative[batch]
        self.deleted += batch.size

    def shift(self) -> np.ndarray:
        """Return E_D for all points added so far (the centred form)."""
        centred = self.deleted_sum - self.deleted * self.mean_gradient
        return -centred / (self.n - self.deleted)

    def uncentred_shift(self) -> np.ndarray:
        """Return ``-(1 / (n - m)) * sum_{i in D} grad loss_i``, the fixed-C shift.

        Kept to show, in tests and docs, the step that no method of this family uses.
        """
        return -self.deleted_sum / (self.n - self.deleted)
