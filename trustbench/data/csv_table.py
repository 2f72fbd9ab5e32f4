"""A clinical table from a local CSV file, for data the user keeps on their own machine.

The paper tier reads, for example, a local extract of MIMIC-III or eICU in this form: one row
per patient, a 0/1 label column, one column per group attribute, and feature columns (numeric
columns stay numbers, text columns are one-hot encoded).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trustbench.core.errors import ParameterError
from trustbench.data.tabular import (
    MIN_GROUP_SIZE,
    MIN_LABEL_COUNT,
    ClinicalTable,
    build_table,
    encode_features,
)


def load_csv_table(
    path: str | Path,
    *,
    name: str,
    label: str,
    group_columns: Sequence[str],
    drop_columns: Sequence[str] = (),
    min_group_size: int = MIN_GROUP_SIZE,
    min_label_count: int = MIN_LABEL_COUNT,
) -> ClinicalTable:
    """Load a CSV file as a `ClinicalTable`.

    Parameters
    ----------
    path : path
        The CSV file.
    name : str
        Identifier of the data set in metadata and logs.
    label : str
        Column with the binary label (0/1 or true/false).
    group_columns : sequence of str
        Columns with the group attributes; they are not features.
    drop_columns : sequence of str
        Columns that leak the outcome (follow-up times, existing risk scores); they are
        recorded in ``metadata.leaking_columns``.
    min_group_size, min_label_count : int
        Passed to `trustbench.data.tabular.drop_small_groups`.

    Raises
    ------
    ParameterError
        If the file is missing, a named column is absent, or the label is not binary.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"CSV file {str(path)!r} not found; pass the path of a local file")
    raw = pd.read_csv(path)

    named = [label, *group_columns, *drop_columns]
    absent = [column for column in named if column not in raw.columns]
    if absent:
        raise ParameterError(
            f"column(s) {absent} not found in {str(path)!r}; available: {sorted(raw.columns)}"
        )
    if raw[label].isna().any():
        raise ParameterError(f"label column {label!r} of {str(path)!r} has missing values")
    values = raw[label].astype(str).str.lower().map({"1": 1, "0": 0, "true": 1, "false": 0})
    if values.isna().any():
        raise ParameterError(
            f"label column {label!r} of {str(path)!r} has values "
            f"{sorted(raw[label].astype(str).unique())[:5]}; expected 0/1 or true/false"
        )

    rest = [c for c in raw.columns if c not in named]
    numeric = [c for c in rest if pd.api.types.is_numeric_dtype(raw[c])]
    categorical = [c for c in rest if c not in numeric]
    features = encode_features(raw, numeric=numeric, categorical=categorical)
    groups = (
        raw[list(group_columns)].astype(object).where(raw[list(group_columns)].notna(), "missing")
    )
    return build_table(
        name=name,
        description=f"local CSV file {path.name}",
        source_package="trustbench",
        licence="the user's own data; its terms are the user's",
        label_meaning=f"{label} = 1",
        features=features,
        label=values.to_numpy(dtype=np.int64),
        groups=groups,
        keep=np.ones(len(raw), dtype=bool),
        keep_reason="none",
        leaking_columns=tuple(drop_columns),
        excluded_columns=tuple(group_columns),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )
