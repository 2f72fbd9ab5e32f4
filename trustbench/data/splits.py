"""Train, validation and test splits stratified by label and group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from trustbench.core.errors import ParameterError
from trustbench.data.tabular import ClinicalTable


@dataclass(frozen=True)
class TableSplit:
    """Row indices of a table's train, validation and test parts (disjoint, sorted)."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def strata(table: ClinicalTable) -> np.ndarray:
    """Return the label x intersectional group cell of each row, as strings."""
    return (table.group_labels + "|label=" + table.label.astype(str)).to_numpy()


def stratified_split(
    table: ClinicalTable,
    *,
    seed: int,
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
) -> TableSplit:
    """Split ``table`` into train, validation and test parts, stratified by label x group.

    Parameters
    ----------
    table : ClinicalTable
        The table.
    seed : int
        Seed of the shuffling; the same seed gives the same split.
    validation_fraction, test_fraction : float
        Shares of the rows in the validation and test parts; the rest is for training.

    Returns
    -------
    TableSplit
        Sorted row indices of each part.

    Raises
    ------
    ParameterError
        If the fractions leave no training rows, or a label x group cell has fewer than
        two rows so that it cannot be stratified.

    Examples
    --------
    >>> from trustbench.data import load_clinical
    >>> split = stratified_split(load_clinical("whas500"), seed=0)
    >>> len(split.train) + len(split.validation) + len(split.test)
    500
    """
    for name, value in (
        ("validation_fraction", validation_fraction),
        ("test_fraction", test_fraction),
    ):
        if not 0.0 < value < 1.0:
            raise ParameterError(f"invalid {name} {value!r}; expected a value in (0, 1)")
    if validation_fraction + test_fraction >= 1.0:
        raise ParameterError(
            f"validation_fraction + test_fraction = {validation_fraction + test_fraction} "
            "leaves no training rows; keep their sum below 1"
        )

    cells = strata(table)
    values, counts = np.unique(cells, return_counts=True)
    if counts.min() < 3:
        raise ParameterError(
            f"data set {table.metadata.name!r}: cell {values[counts.argmin()]!r} has "
            f"{counts.min()} row(s), too few to stratify into three parts; raise the minimum "
            "group size when loading"
        )

    rows = np.arange(len(cells))
    rest, test = train_test_split(rows, test_size=test_fraction, stratify=cells, random_state=seed)
    share = validation_fraction / (1.0 - test_fraction)
    train, validation = train_test_split(
        rest, test_size=share, stratify=cells[rest], random_state=seed + 1
    )
    return TableSplit(np.sort(train), np.sort(validation), np.sort(test))


def stratified_subsample(table: ClinicalTable, *, n_rows: int, seed: int = 0) -> ClinicalTable:
    """Return ``n_rows`` rows of ``table`` drawn without replacement, stratified by label x group.

    A table with at most ``n_rows`` rows is returned unchanged.
    """
    if n_rows < 1:
        raise ParameterError(f"invalid n_rows {n_rows!r}; expected a positive number of rows")
    if len(table.label) <= n_rows:
        return table
    rows = np.arange(len(table.label))
    kept, _ = train_test_split(rows, train_size=n_rows, stratify=strata(table), random_state=seed)
    mask = np.zeros(len(rows), dtype=bool)
    mask[kept] = True
    return table.subset(mask)
