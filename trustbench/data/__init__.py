"""Loaders for data that ships inside installed packages; nothing is downloaded at run time.

The clinical tables (`load_clinical`) each return a `ClinicalTable`: numeric features, a
binary label, group attributes and metadata with the source package, licence and sizes.
"""

from __future__ import annotations

from collections.abc import Callable

from trustbench.core.errors import ParameterError
from trustbench.data.lifelines_tables import load_kidney_transplant
from trustbench.data.sksurv_tables import load_actg320, load_flchain, load_whas500
from trustbench.data.splits import TableSplit, stratified_split
from trustbench.data.survset_tables import load_rhc, load_support2
from trustbench.data.tabular import (
    MIN_GROUP_SIZE,
    MIN_LABEL_COUNT,
    ClinicalTable,
    TableMetadata,
    intersectional_labels,
)

CLINICAL_LOADERS: dict[str, Callable[..., ClinicalTable]] = {
    "support2": load_support2,
    "rhc": load_rhc,
    "flchain": load_flchain,
    "actg320": load_actg320,
    "whas500": load_whas500,
    "kidney_transplant": load_kidney_transplant,
}


def load_clinical(
    name: str, *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load the clinical table ``name``.

    Parameters
    ----------
    name : str
        One of the keys of `CLINICAL_LOADERS`.
    min_group_size, min_label_count : int
        Intersectional groups with fewer rows, or fewer rows of either label, are dropped
        (and logged).

    Raises
    ------
    ParameterError
        If ``name`` is unknown or its source package is not installed.

    Examples
    --------
    >>> table = load_clinical("whas500")
    >>> table.metadata.n_rows, list(table.groups.columns)
    (500, ['gender', 'age_group'])
    """
    if name not in CLINICAL_LOADERS:
        raise ParameterError(
            f"unknown clinical data set {name!r}; available: {', '.join(CLINICAL_LOADERS)}"
        )
    return CLINICAL_LOADERS[name](min_group_size=min_group_size, min_label_count=min_label_count)


__all__ = [
    "CLINICAL_LOADERS",
    "MIN_GROUP_SIZE",
    "MIN_LABEL_COUNT",
    "ClinicalTable",
    "TableMetadata",
    "TableSplit",
    "intersectional_labels",
    "load_clinical",
    "stratified_split",
]
