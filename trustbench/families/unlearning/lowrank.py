"""Tangent spaces of low-rank matrices, for the jackknife steps under the nuclear norm.

At a rank-r matrix theta = U S V^T the nuclear norm is smooth along the manifold of rank-r
matrices, whose tangent space is T = {U M^T + N V^T}. Its subgradient there is U V^T plus
any W with U^T W = 0, W V = 0 and spectral norm at most one. Restricting a step to T with
U V^T fixed is the low-rank analogue of keeping the support and the signs of an l1
solution fixed.
"""

from __future__ import annotations

import numpy as np

RANK_TOL = 1e-10


def numerical_rank(theta: np.ndarray, tol: float = RANK_TOL) -> int:
    """Return the number of singular values above ``tol`` times the largest."""
    singular = np.linalg.svd(theta, compute_uv=False)
    if singular.size == 0 or singular[0] == 0:
        return 0
    return int(np.count_nonzero(singular > tol * singular[0]))


def tangent_basis(theta: np.ndarray, rank: int) -> np.ndarray:
    """Return an orthonormal basis of the tangent space at ``theta``, shape (d * k, t).

    Columns are row-major vectorisations of u_a v_b^T over the full singular bases with
    a < rank or b < rank, so t = rank * (d + k - rank).
    """
    d, k = theta.shape
    u, _, vt = np.linalg.svd(theta, full_matrices=True)
    pairs = np.zeros((d, k), dtype=bool)
    pairs[:rank, :] = True
    pairs[:, :rank] = True
    a, b = np.nonzero(pairs)
    basis = u[:, a][:, None, :] * vt.T[:, b][None, :, :]
    return basis.reshape(d * k, a.size)


def reduced_hessian(hessian: np.ndarray, basis: np.ndarray, k: int) -> np.ndarray:
    """Return ``basis^T (A kron I_k) basis``: the Hessian V -> A V restricted to the basis."""
    d = hessian.shape[0]
    directions = basis.T.reshape(-1, d, k)
    applied = np.einsum("ij,tjk->tik", hessian, directions).reshape(directions.shape[0], d * k)
    return applied @ basis


def retract(theta: np.ndarray, rank: int) -> np.ndarray:
    """Return the best rank-``rank`` approximation of ``theta`` (truncated SVD)."""
    u, s, vt = np.linalg.svd(theta, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank]
