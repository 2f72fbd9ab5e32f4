"""Deletion requests: the streams a cell replays and the validation of each batch.

Orders
------
``random``: a uniformly random permutation of the training points.
``largest_loss``: the points with the largest loss at the full-data solution first, the
  points a model fits worst and whose removal moves it most.
``one_class``: random points of the positive class (label +1) only, which shifts the
  class balance; it needs a classification problem.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from trustbench.core.errors import ParameterError
from trustbench.families.unlearning.objectives import Problem

logger = logging.getLogger(__name__)

ORDERS = ("random", "largest_loss", "one_class")


class DeletionTracker:
    """The set of deleted points of one method, updated batch by batch.

    Parameters
    ----------
    n : int
        Number of training points.

    Attributes
    ----------
    keep : ndarray of bool, shape (n,)
        True for a remaining point.
    deleted : int
        Number of points deleted so far.

    Examples
    --------
    >>> tracker = DeletionTracker(5)
    >>> tracker.add([0, 3]).tolist()
    [0, 3]
    >>> tracker.keep.tolist()
    [False, True, True, False, True]
    """

    def __init__(self, n: int) -> None:
        self.keep = np.ones(n, dtype=bool)
        self.deleted = 0

    @property
    def remaining(self) -> int:
        """Number of remaining points."""
        return self.keep.size - self.deleted

    def add(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Validate a batch of training-point indices, mark them deleted and return them.

        Raises
        ------
        ParameterError
            If the batch is empty, not integer, repeats an index, holds an index outside
            ``[0, n)``, holds an index deleted before, or would delete every point.
        """
        batch = check_batch(indices, self.keep.size)
        again = batch[~self.keep[batch]]
        if again.size:
            raise ParameterError(
                f"index {int(again[0])} was already deleted in an earlier batch; "
                "request each point's deletion once"
            )
        if batch.size >= self.remaining:
            raise ParameterError(
                f"deleting {batch.size} points would leave none of the {self.remaining} "
                "remaining points; keep at least one"
            )
        self.keep[batch] = False
        self.deleted += batch.size
        return batch


def check_batch(indices: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """Return ``indices`` as an int array after checking it is a valid batch for n points."""
    batch = np.asarray(indices)
    if batch.ndim != 1 or batch.size == 0:
        raise ParameterError(
            f"invalid deletion batch {indices!r}; pass a non-empty 1-d list of point indices"
        )
    if not np.issubdtype(batch.dtype, np.integer):
        raise ParameterError(
            f"invalid deletion batch of dtype {batch.dtype}; pass integer point indices"
        )
    outside = batch[(batch < 0) | (batch >= n)]
    if outside.size:
        raise ParameterError(
            f"index {int(outside[0])} is out of range for {n} training points; "
            f"pass indices in [0, {n - 1}]"
        )
    values, counts = np.unique(batch, return_counts=True)
    if (counts > 1).any():
        raise ParameterError(
            f"index {int(values[counts > 1][0])} appears more than once in the batch; "
            "list each point once"
        )
    return batch.astype(np.intp)


def deletion_stream(
    problem: Problem, *, order: str, n_batches: int, batch_size: int, seed: int
) -> list[np.ndarray]:
    """Return ``n_batches`` disjoint batches of ``batch_size`` indices in the given order.

    Raises
    ------
    ParameterError
        On an unknown order, a batch size below one, a stream longer than the candidate
        points, or ``one_class`` on a regression problem.
    """
    if order not in ORDERS:
        raise ParameterError(f"invalid deletion order {order!r}; expected one of {ORDERS}")
    if batch_size < 1 or n_batches < 1:
        raise ParameterError(
            f"invalid stream of {n_batches} batches of {batch_size} points; pass positive sizes"
        )
    rng = np.random.default_rng(seed)
    objective = problem.objective
    if order == "random":
        candidates = rng.permutation(objective.n)
    elif order == "largest_loss":
        losses = objective.sample_losses(problem.theta)
        candidates = np.argsort(-losses, kind="stable")
    else:
        if problem.task != "classification":
            raise ParameterError(
                f"deletion order 'one_class' needs a classification problem, "
                f"got {problem.task} data {problem.name!r}; use 'random' or 'largest_loss'"
            )
        candidates = rng.permutation(np.flatnonzero(objective.y > 0))
    needed = n_batches * batch_size
    if needed >= candidates.size:
        raise ParameterError(
            f"a stream of {n_batches} x {batch_size} points needs more than the "
            f"{candidates.size} candidate points of order {order!r}; delete fewer"
        )
    return [candidates[i * batch_size : (i + 1) * batch_size] for i in range(n_batches)]
