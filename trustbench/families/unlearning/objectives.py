"""Losses, regularisers and the objective that every unlearning method targets.

The target after deleting a set D of the n training points is the minimiser of

    F_{-D}(theta) = (1 / (n - |D|)) * sum_{i not in D} loss_i(theta)
                    + (mu / 2) * ||theta||_2^2 + lam * R(theta),

with ``lam`` and ``mu`` kept fixed and the loss averaged over the remaining points. This is
the only definition of the target in the family: methods, the reference solver and every
metric call `Objective.value`, `Objective.smooth_gradient` and `Objective.hessian` with a
mask ``keep`` of the remaining points. Keeping scikit-learn's ``C`` fixed instead (a sum
of losses rather than their mean) is a different target.

Losses
------
``logistic``: loss_i = log(1 + exp(-y_i x_i^T theta)) with y_i in {-1, +1}.
``squared``: loss_i = (y_i - x_i^T theta)^2 / 2; with a matrix ``y`` of shape (n, k) and
``theta`` of shape (d, k) it is the multi-response loss ||y_i - theta^T x_i||^2 / 2.

Regularisers
------------
``l1``: R(theta) = ||theta||_1. With the ridge term ``mu`` this is the elastic net;
scikit-learn's ``ElasticNet(alpha, l1_ratio)`` uses ``lam = alpha * l1_ratio`` and
``mu = alpha * (1 - l1_ratio)``.
``nuclear``: R(theta) = sum of the singular values of the (d, k) matrix theta.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from trustbench.core.errors import ParameterError

logger = logging.getLogger(__name__)

LOSSES = ("logistic", "squared")
PENALTIES = ("l1", "nuclear")


def soft_threshold(theta: np.ndarray, threshold: float) -> np.ndarray:
    """Return the proximal operator of ``threshold * ||.||_1`` at ``theta``."""
    return np.sign(theta) * np.maximum(np.abs(theta) - threshold, 0.0)


def elastic_net_prox(theta: np.ndarray, step: float, lam: float, mu: float) -> np.ndarray:
    """Return the proximal operator of ``step * (lam ||.||_1 + mu/2 ||.||_2^2)`` at ``theta``."""
    return soft_threshold(theta, step * lam) / (1.0 + step * mu)


def singular_value_threshold(theta: np.ndarray, threshold: float) -> np.ndarray:
    """Return the proximal operator of ``threshold * ||.||_*`` at the matrix ``theta``."""
    u, s, vt = np.linalg.svd(theta, full_matrices=False)
    shrunk = np.maximum(s - threshold, 0.0)
    rank = int(np.count_nonzero(shrunk))
    return (u[:, :rank] * shrunk[:rank]) @ vt[:rank]


def nuclear_norm(theta: np.ndarray) -> float:
    """Return the sum of the singular values of ``theta``."""
    return float(np.linalg.svd(theta, compute_uv=False).sum())


@dataclass
class Objective:
    """A regularised empirical risk on a fixed training set, evaluated on subsets of it.

    Every method takes the mask ``keep`` (boolean, shape (n,), True for a remaining
    point); ``None`` means all n points. Deleted rows enter with weight zero, so no
    method copies the feature matrix to drop rows.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Training features.
    y : ndarray of shape (n,) or (n, k)
        Labels in {-1, +1} for ``logistic``; responses for ``squared``.
    loss : {"logistic", "squared"}
        The per-point loss.
    penalty : {"l1", "nuclear"}
        The non-smooth regulariser R.
    lam : float
        Strength of R; must be positive.
    mu : float
        Ridge strength; must be non-negative.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 3)); y = np.sign(X[:, 0])
    >>> objective = Objective(X, y, loss="logistic", penalty="l1", lam=0.01, mu=1e-4)
    >>> round(objective.value(np.zeros(3)), 4)
    0.6931
    """

    X: np.ndarray
    y: np.ndarray
    loss: str
    penalty: str
    lam: float
    mu: float = 0.0
    _lipschitz: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ParameterError(f"invalid loss {self.loss!r}; expected one of {LOSSES}")
        if self.penalty not in PENALTIES:
            raise ParameterError(f"invalid penalty {self.penalty!r}; expected one of {PENALTIES}")
        if not (np.isfinite(self.lam) and self.lam > 0):
            raise ParameterError(
                f"invalid regularisation strength lam={self.lam!r}; pass a positive number"
            )
        if not (np.isfinite(self.mu) and self.mu >= 0):
            raise ParameterError(f"invalid ridge strength mu={self.mu!r}; pass a number >= 0")
        if self.X.ndim != 2 or self.X.shape[0] != self.y.shape[0]:
            raise ParameterError(
                f"X of shape {self.X.shape} and y of shape {self.y.shape} do not match; "
                "pass one row of X per label"
            )
        if self.penalty == "nuclear" and (self.loss != "squared" or self.y.ndim != 2):
            raise ParameterError(
                "the nuclear-norm penalty needs the squared loss with a matrix y of shape "
                f"(n, k), got loss {self.loss!r} and y of shape {self.y.shape}"
            )
        if self.loss == "logistic" and not np.all(np.isin(self.y, (-1.0, 1.0))):
            raise ParameterError("logistic loss needs labels in {-1, +1}; recode y first")

    @property
    def n(self) -> int:
        """Number of training points."""
        return int(self.X.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of a parameter: (d,) or (d, k) for a multi-response problem."""
        return (self.X.shape[1],) if self.y.ndim == 1 else (self.X.shape[1], self.y.shape[1])

    def _weights(self, keep: np.ndarray | None) -> tuple[np.ndarray | None, int]:
        if keep is None:
            return None, self.n
        count = int(np.count_nonzero(keep))
        if count == 0:
            raise ParameterError("every training point is deleted; keep at least one point")
        return keep, count

    def margins(self, theta: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Return ``X theta`` for all rows or for the row indices ``rows``."""
        features = self.X if rows is None else self.X[rows]
        return features @ theta

    def sample_losses(self, theta: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Return loss_i(theta) for all points or for the indices ``rows``."""
        z = self.margins(theta, rows)
        y = self.y if rows is None else self.y[rows]
        if self.loss == "logistic":
            return np.logaddexp(0.0, -y * z)
        residual = z - y
        return 0.5 * (residual**2 if residual.ndim == 1 else np.sum(residual**2, axis=1))

    def loss_derivative(self, z: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Return d loss_i / d z_i at margins ``z``, so that grad loss_i = x_i * derivative."""
        y = self.y if rows is None else self.y[rows]
        if self.loss == "logistic":
            return -y * expit(-y * z)
        return z - y

    def curvature(self, z: np.ndarray) -> np.ndarray:
        """Return d^2 loss_i / d z_i^2 at margins ``z`` (one for the squared loss)."""
        if self.loss == "logistic":
            p = expit(z)
            return p * (1.0 - p)
        return np.ones(z.shape[0])

    def penalty_value(self, theta: np.ndarray) -> float:
        """Return ``lam * R(theta)``."""
        if self.penalty == "l1":
            return self.lam * float(np.abs(theta).sum())
        return self.lam * nuclear_norm(theta)

    def value(self, theta: np.ndarray, keep: np.ndarray | None = None) -> float:
        """Return F_{-D}(theta): the mean loss over ``keep`` plus the ridge and lam * R."""
        mask, count = self._weights(keep)
        losses = self.sample_losses(theta)
        mean_loss = float(losses.sum() if mask is None else losses[mask].sum()) / count
        ridge = 0.5 * self.mu * float(np.sum(theta**2))
        return mean_loss + ridge + self.penalty_value(theta)

    def loss_gradient_sum(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Return the sum of grad loss_i(theta) over the row indices ``rows``."""
        derivative = self.loss_derivative(self.margins(theta, rows), rows)
        return self.X[rows].T @ derivative

    def smooth_gradient(
        self, theta: np.ndarray, keep: np.ndarray | None = None, z: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the gradient of the mean loss over ``keep`` plus the ridge term.

        ``z`` may pass precomputed margins ``X theta`` to save one product.
        """
        mask, count = self._weights(keep)
        derivative = self.loss_derivative(self.margins(theta) if z is None else z)
        if mask is not None:
            derivative = derivative * (mask if derivative.ndim == 1 else mask[:, None])
        return self.X.T @ derivative / count + self.mu * theta

    def hessian(
        self,
        theta: np.ndarray,
        keep: np.ndarray | None = None,
        columns: np.ndarray | None = None,
        z: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the Hessian of the smooth part, or its block on ``columns``.

        For the multi-response squared loss the Hessian acts on a (d, k) direction V as
        ``H @ V``, and the (d, d) matrix H is returned.

        Parameters
        ----------
        theta : ndarray
            Where to evaluate it.
        keep : ndarray of bool, optional
            Remaining points.
        columns : ndarray of int or bool, optional
            Coordinates of the square block ``H[columns][:, columns]``; all when omitted.
        z : ndarray, optional
            Precomputed margins ``X theta``.
        """
        mask, count = self._weights(keep)
        if self.loss == "squared":
            weights = np.ones(self.n)
        else:
            weights = self.curvature(self.margins(theta) if z is None else z)
        if mask is not None:
            weights = weights * mask
        block = self.X if columns is None else self.X[:, columns]
        hessian = block.T @ (block * (weights / count)[:, None])
        hessian[np.diag_indices_from(hessian)] += self.mu
        return hessian

    def hessian_columns(
        self, theta: np.ndarray, columns: np.ndarray, keep: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the columns ``columns`` of the full (d, d) Hessian, shape (d, len(columns))."""
        mask, count = self._weights(keep)
        weights = np.ones(self.n) if self.loss == "squared" else self.curvature(self.margins(theta))
        if mask is not None:
            weights = weights * mask
        block = self.X[:, columns] * (weights / count)[:, None]
        result = self.X.T @ block
        result[columns, np.arange(len(columns))] += self.mu
        return result

    def lambda_max(self, keep: np.ndarray | None = None) -> float:
        """Return the smallest ``lam`` for which zero minimises the objective.

        It is the dual norm of the smooth gradient at zero: the max-norm for ``l1``,
        the spectral norm for ``nuclear``.
        """
        gradient = self.smooth_gradient(np.zeros(self.shape), keep)
        if self.penalty == "l1":
            return float(np.abs(gradient).max())
        return float(np.linalg.norm(gradient, 2))

    def kkt_violation(
        self, theta: np.ndarray, keep: np.ndarray | None = None, gradient: np.ndarray | None = None
    ) -> float:
        """Return how far ``theta`` is from optimal for F_{-D} (zero at the minimiser).

        For ``l1`` it is the max over coordinates of the distance from the smooth
        gradient to ``-lam`` times the subdifferential of |theta_j|. For ``nuclear`` it is
        the norm of the gradient mapping ``L * (theta - prox(theta - gradient / L))`` with
        L the largest eigenvalue of the full-data Hessian.
        """
        if gradient is None:
            gradient = self.smooth_gradient(theta, keep)
        if self.penalty == "l1":
            nonzero = theta != 0
            violation = np.where(
                nonzero,
                np.abs(gradient + self.lam * np.sign(theta)),
                np.maximum(np.abs(gradient) - self.lam, 0.0),
            )
            return float(violation.max()) if violation.size else 0.0
        step = 1.0 / self.lipschitz()
        moved = singular_value_threshold(theta - step * gradient, step * self.lam)
        return float(np.linalg.norm(theta - moved) / step)

    def lipschitz(self) -> float:
        """Return the largest eigenvalue of the full-data Hessian (squared loss only)."""
        if self._lipschitz is None:
            if self.loss != "squared":
                raise ParameterError("lipschitz() is defined here for the squared loss only")
            self._lipschitz = float(np.linalg.eigvalsh(self.hessian(np.zeros(self.shape)))[-1])
        return self._lipschitz


@dataclass
class Problem:
    """A training problem with its full-data solution, as methods receive it in ``fit``.

    Attributes
    ----------
    name : str
        The data set.
    objective : Objective
        The objective on the full training set.
    theta : ndarray
        The full-data minimiser (KKT violation at most the reference tolerance).
    X_test, y_test : ndarray
        Held-out data for the test score.
    task : {"classification", "regression"}
        What the test score measures: accuracy or R^2.
    """

    name: str
    objective: Objective
    theta: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str

    @property
    def n(self) -> int:
        """Number of training points."""
        return self.objective.n

    def test_score(self, theta: np.ndarray) -> float:
        """Return test accuracy (classification) or test R^2 (regression) of ``theta``."""
        prediction = self.X_test @ theta
        if self.task == "classification":
            return float(np.mean(np.where(prediction >= 0, 1.0, -1.0) == self.y_test))
        residual = float(np.sum((self.y_test - prediction) ** 2))
        total = float(np.sum((self.y_test - self.y_test.mean(axis=0)) ** 2))
        return 1.0 - residual / total
