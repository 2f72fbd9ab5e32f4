"""The reference solver of F_{-D} and the quadratic subproblems that methods share.

- `solve_l1_qp`: minimise ``c^T x + x^T M x / 2 + lam ||x||_1`` exactly for a small dense
  positive definite M, by feature-sign search (Lee, Battle, Raina and Ng, NIPS 2006):
  guess the signs, solve the linear system on the active set, and line-search over the
  points where a coordinate crosses zero.
- `proximal_newton`: the reference solver for the ``l1`` penalty. Each iteration forms
  the Hessian on a working set (the support plus the coordinates that violate the
  optimality conditions), solves the quadratic model with `solve_l1_qp` and backtracks
  on F_{-D}. It stops at a KKT violation of at most ``tol``.
- `solve_nuclear_qp`: accelerated proximal gradient (FISTA with adaptive restart) on
  ``<theta, Q theta> / 2 - <b, theta> + lam ||theta||_*``. For the squared loss this is
  the objective itself, so it is also the reference solver for the nuclear norm; it stops
  when the gradient-mapping norm is at most ``tol``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from trustbench.families.unlearning.objectives import Objective, singular_value_threshold

logger = logging.getLogger(__name__)

REFERENCE_TOL = 1e-8


class SolverError(RuntimeError):
    """A solver that stopped before reaching its tolerance."""


@dataclass
class SolveInfo:
    """Outcome of a solve: iterations used and the final optimality measure."""

    iterations: int
    violation: float


def _l1_qp_value(matrix: np.ndarray, c: np.ndarray, lam: float, x: np.ndarray) -> float:
    return float(c @ x + 0.5 * x @ matrix @ x + lam * np.abs(x).sum())


def _l1_qp_violation(gradient: np.ndarray, x: np.ndarray, lam: float) -> np.ndarray:
    return np.where(
        x != 0,
        np.abs(gradient + lam * np.sign(x)),
        np.maximum(np.abs(gradient) - lam, 0.0),
    )


def solve_l1_qp(
    matrix: np.ndarray,
    c: np.ndarray,
    lam: float,
    x0: np.ndarray | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int | None = None,
) -> np.ndarray:
    """Minimise ``c^T x + x^T M x / 2 + lam * ||x||_1`` by feature-sign search.

    Parameters
    ----------
    matrix : ndarray of shape (m, m)
        M, symmetric positive definite.
    c : ndarray of shape (m,)
        Linear term.
    lam : float
        l1 strength.
    x0 : ndarray of shape (m,), optional
        Warm start; zero when omitted.
    tol : float
        Largest accepted violation of the optimality conditions.
    max_iter : int, optional
        Largest number of sign-pattern updates; ``10 * m + 50`` by default.

    Returns
    -------
    ndarray of shape (m,)
        The minimiser. If ``max_iter`` is reached first, the best point found is
        returned and a warning is logged.
    """
    size = c.shape[0]
    x = np.zeros(size) if x0 is None else np.array(x0, dtype=float)
    limit = 10 * size + 50 if max_iter is None else max_iter
    single = False
    for _ in range(limit):
        gradient = c + matrix @ x
        violation = _l1_qp_violation(gradient, x, lam)
        if size == 0 or violation.max() <= tol:
            return x

        # Activate zero coordinates only once the current active set is optimal; after a
        # step without descent, activate only the largest violator.
        signs = np.sign(x)
        if violation[x != 0].max(initial=0.0) <= tol:
            entering = np.flatnonzero((x == 0) & (np.abs(gradient) > lam + tol))
            if single:
                entering = entering[[int(np.argmax(np.abs(gradient[entering])))]]
            signs[entering] = -np.sign(gradient[entering])

        proposal = _sign_fixed_minimiser(matrix, c, lam, signs, signs != 0)
        best = _line_search(matrix, c, lam, x, proposal)
        if best is None:
            if single:
                break
            single = True
            continue
        single = False
        x = best
    logger.warning(
        "solve_l1_qp stopped above tolerance %.1e (max violation %.2e)", tol, float(violation.max())
    )
    return x


def _sign_fixed_minimiser(
    matrix: np.ndarray, c: np.ndarray, lam: float, signs: np.ndarray, active: np.ndarray
) -> np.ndarray:
    block = matrix[np.ix_(active, active)]
    rhs = -(c[active] + lam * signs[active])
    proposal = np.zeros_like(c)
    try:
        proposal[active] = scipy.linalg.solve(block, rhs, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        proposal[active] = np.linalg.lstsq(block, rhs, rcond=None)[0]
    return proposal


def _line_search(
    matrix: np.ndarray, c: np.ndarray, lam: float, x: np.ndarray, proposal: np.ndarray
) -> np.ndarray | None:
    """Return the best point on the segment from x to proposal, or None without descent."""
    direction = proposal - x
    crossing = np.flatnonzero((x != 0) & (np.sign(proposal) != np.sign(x)))
    crossing_steps = -x[crossing] / direction[crossing]
    inside = (crossing_steps > 0) & (crossing_steps < 1)
    crossing, crossing_steps = crossing[inside], crossing_steps[inside]
    order = np.argsort(crossing_steps)
    crossing, crossing_steps = crossing[order], crossing_steps[order]
    steps = np.append(crossing_steps, 1.0)
    points = x[None, :] + steps[:, None] * direction[None, :]
    points[np.arange(crossing.size), crossing] = 0.0
    values = (
        points @ c
        + 0.5 * np.einsum("ij,jk,ik->i", points, matrix, points)
        + lam * np.abs(points).sum(axis=1)
    )
    if crossing.size == 0:
        # No coordinate changes sign, so the proposal minimises the objective on the
        # segment; accept it even when the decrease is below rounding error.
        return points[-1]
    # A tie within rounding error still counts: stopping at a breakpoint sets a coordinate
    # to zero, which changes the sign pattern, so the search cannot cycle on it.
    current = _l1_qp_value(matrix, c, lam, x)
    best = int(np.argmin(values))
    if values[best] > current + 1e-13 * max(1.0, abs(current)):
        return None
    return points[best]


def _working_set(theta: np.ndarray, gradient: np.ndarray, lam: float, max_new: int) -> np.ndarray:
    support = theta != 0
    violators = np.flatnonzero(~support & (np.abs(gradient) > lam))
    if violators.size > max_new:
        order = np.argsort(-np.abs(gradient[violators]))
        violators = violators[order[:max_new]]
    working = support.copy()
    working[violators] = True
    return np.flatnonzero(working)


def proximal_newton_step(
    objective: Objective,
    theta: np.ndarray,
    keep: np.ndarray | None,
    *,
    z: np.ndarray | None = None,
    gradient: np.ndarray | None = None,
    qp_tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the full proximal Newton step from ``theta`` and its working set (``l1``).

    The step minimises the second-order model of the smooth part of F_{-D} at ``theta``
    plus ``lam * ||.||_1`` over the working set: the support of ``theta`` plus the zero
    coordinates whose gradient exceeds ``lam`` (at most ``max(50, |support|)`` of them, the
    largest first). Coordinates outside the working set stay at zero.
    """
    z = objective.margins(theta) if z is None else z
    if gradient is None:
        gradient = objective.smooth_gradient(theta, keep, z=z)
    max_new = max(50, int(np.count_nonzero(theta)))
    working = _working_set(theta, gradient, objective.lam, max_new)
    hessian = objective.hessian(theta, keep, columns=working, z=z)
    linear = gradient[working] - hessian @ theta[working]
    solution = solve_l1_qp(hessian, linear, objective.lam, theta[working], tol=qp_tol)
    step = np.zeros_like(theta)
    step[working] = solution - theta[working]
    return step, working


def proximal_newton(
    objective: Objective,
    keep: np.ndarray | None = None,
    theta0: np.ndarray | None = None,
    *,
    tol: float = REFERENCE_TOL,
    max_iter: int = 100,
) -> tuple[np.ndarray, SolveInfo]:
    """Minimise F_{-D} for the ``l1`` penalty to a KKT violation of at most ``tol``.

    Parameters
    ----------
    objective : Objective
        The problem; its penalty must be ``l1``.
    keep : ndarray of bool, optional
        The remaining points.
    theta0 : ndarray, optional
        Warm start; zero when omitted.
    tol : float
        Largest accepted KKT violation (`Objective.kkt_violation`).
    max_iter : int
        Largest number of Newton iterations.

    Returns
    -------
    theta : ndarray
        The minimiser.
    info : SolveInfo
        Iterations and final KKT violation.

    Raises
    ------
    SolverError
        If the tolerance is not reached within ``max_iter`` iterations.
    """
    theta = np.zeros(objective.shape) if theta0 is None else np.array(theta0, dtype=float)
    z = objective.margins(theta)
    value = objective.value(theta, keep)
    for iteration in range(max_iter + 1):
        gradient = objective.smooth_gradient(theta, keep, z=z)
        violation = objective.kkt_violation(theta, keep, gradient=gradient)
        if violation <= tol:
            return theta, SolveInfo(iteration, violation)
        if iteration == max_iter:
            break

        step, working = proximal_newton_step(objective, theta, keep, z=z, gradient=gradient)
        decrease = float(gradient @ step) + objective.lam * (
            np.abs(theta + step).sum() - np.abs(theta).sum()
        )
        dz = objective.X[:, working] @ step[working]
        t = 1.0
        # Near the solution the predicted decrease falls below the rounding error of F,
        # where backtracking cannot tell better from worse: take the full step there.
        negligible = -decrease <= 1e-13 * max(1.0, abs(value))
        while True:
            candidate = theta + t * step
            candidate_z = z + t * dz
            candidate_value = _value_from_margins(objective, candidate, candidate_z, keep)
            if negligible or candidate_value <= value + 1e-4 * t * decrease or t < 1e-10:
                break
            t *= 0.5
        theta, z, value = candidate, candidate_z, candidate_value
    raise SolverError(
        f"proximal Newton stopped at KKT violation {violation:.2e} > tol {tol:.1e} after "
        f"{max_iter} iterations; raise max_iter or the tolerance"
    )


def _value_from_margins(
    objective: Objective, theta: np.ndarray, z: np.ndarray, keep: np.ndarray | None
) -> float:
    if objective.loss == "logistic":
        losses = np.logaddexp(0.0, -objective.y * z)
    else:
        losses = 0.5 * (z - objective.y) ** 2
    mean_loss = float(losses.mean() if keep is None else losses[keep].mean())
    return mean_loss + 0.5 * objective.mu * float(theta @ theta) + objective.penalty_value(theta)


def solve_nuclear_qp(
    quadratic: np.ndarray,
    linear: np.ndarray,
    lam: float,
    theta0: np.ndarray | None = None,
    *,
    tol: float = REFERENCE_TOL,
    max_iter: int = 20_000,
    lipschitz: float | None = None,
) -> tuple[np.ndarray, SolveInfo]:
    """Minimise ``<theta, Q theta> / 2 - <b, theta> + lam * ||theta||_*`` over (d, k) matrices.

    FISTA with step ``1 / L`` (L the largest eigenvalue of Q) and a restart of the
    momentum whenever the objective would increase (O'Donoghue and Candes, 2015).

    Parameters
    ----------
    quadratic : ndarray of shape (d, d)
        Q, symmetric positive definite.
    linear : ndarray of shape (d, k)
        b, the linear term.
    lam : float
        Nuclear-norm strength.
    theta0 : ndarray of shape (d, k), optional
        Warm start; zero when omitted.
    tol : float
        Largest accepted norm of the gradient mapping ``L * (theta - prox(...))``.
    max_iter : int
        Largest number of iterations.
    lipschitz : float, optional
        Largest eigenvalue of Q when known.

    Returns
    -------
    theta : ndarray of shape (d, k)
        The minimiser, a proximal point (so its small singular values are exactly zero).
    info : SolveInfo
        Iterations and final gradient-mapping norm.

    Raises
    ------
    SolverError
        If the tolerance is not reached within ``max_iter`` iterations.
    """
    lipschitz = float(np.linalg.eigvalsh(quadratic)[-1]) if lipschitz is None else lipschitz
    step = 1.0 / lipschitz
    theta = np.zeros_like(linear) if theta0 is None else np.array(theta0, dtype=float)
    extrapolated = theta.copy()
    momentum = 1.0
    mapping = np.inf
    for iteration in range(1, max_iter + 1):
        gradient = quadratic @ extrapolated - linear
        updated = singular_value_threshold(extrapolated - step * gradient, step * lam)
        mapping = float(np.linalg.norm(extrapolated - updated)) / step
        if mapping <= tol:
            return updated, SolveInfo(iteration, mapping)

        restart = float(np.sum((extrapolated - updated) * (updated - theta))) > 0
        next_momentum = 1.0 if restart else 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum**2))
        extrapolated = updated + ((momentum - 1.0) / next_momentum) * (updated - theta)
        if restart:
            extrapolated = updated.copy()
        theta, momentum = updated, next_momentum
    raise SolverError(
        f"proximal gradient stopped at gradient-mapping norm {mapping:.2e} > tol {tol:.1e} "
        f"after {max_iter} iterations; raise max_iter or the tolerance"
    )


def nuclear_quadratic_terms(
    objective: Objective, keep: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return (Q, b) with F_{-D} = <theta, Q theta>/2 - <b, theta> + lam ||theta||_* + const."""
    quadratic = objective.hessian(np.zeros(objective.shape), keep)
    weights = np.ones(objective.n) if keep is None else keep.astype(float)
    linear = objective.X.T @ (objective.y * weights[:, None]) / weights.sum()
    return quadratic, linear


def solve(
    objective: Objective,
    keep: np.ndarray | None = None,
    theta0: np.ndarray | None = None,
    *,
    tol: float = REFERENCE_TOL,
) -> tuple[np.ndarray, SolveInfo]:
    """Minimise F_{-D} with the reference solver for the objective's penalty.

    Raises
    ------
    SolverError
        If the solver stops above ``tol``.
    """
    if objective.penalty == "l1":
        return proximal_newton(objective, keep, theta0, tol=tol)
    quadratic, linear = nuclear_quadratic_terms(objective, keep)
    return solve_nuclear_qp(quadratic, linear, objective.lam, theta0, tol=tol)
