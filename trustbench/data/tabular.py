"""Clinical tables with a binary label and group attributes, and their preparation steps.

Every clinical loader in `trustbench.data` returns a `ClinicalTable`. The helpers here turn a
raw survival table into one: a label at a time horizon, one-hot encoded categories, missing
value indicators, and the removal of groups too small to test.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from trustbench.core.errors import ParameterError

logger = logging.getLogger(__name__)

MISSING_LEVEL = "missing"
MISSING_SUFFIX = "__missing"
GROUP_SEPARATOR = "|"

#: Smallest number of rows an intersectional group needs in the whole table.
MIN_GROUP_SIZE = 50
#: Smallest number of rows of each label an intersectional group needs in the whole table, so
#: that a stratified 60/20/20 split leaves both labels in its validation and test parts.
MIN_LABEL_COUNT = 10


@dataclass(frozen=True)
class TableMetadata:
    """Provenance of a table and the processing applied to it.

    Attributes
    ----------
    name : str
        Short identifier of the data set.
    description : str
        The cohort and the label, in one line.
    source_package : str
        The PyPI distribution that ships the file.
    source_version : str
        Its installed version.
    licence : str
        The distribution's licence, and the data's terms where they differ.
    label : str
        What the positive label means.
    n_rows : int
        Rows after every filter.
    prevalence : float
        Share of positive labels after every filter.
    group_columns : tuple of str
        The group attributes.
    leaking_columns : tuple of str
        Source columns dropped because they encode the outcome or follow-up.
    excluded_columns : tuple of str
        Source columns dropped for another reason (the sources of the group attributes).
    dropped_rows : dict of str to int
        Rows removed per reason.
    dropped_groups : dict of str to str
        Intersectional groups removed, with the reason.
    """

    name: str
    description: str
    source_package: str
    source_version: str
    licence: str
    label: str
    n_rows: int
    prevalence: float
    group_columns: tuple[str, ...]
    leaking_columns: tuple[str, ...] = ()
    excluded_columns: tuple[str, ...] = ()
    dropped_rows: Mapping[str, int] = field(default_factory=dict)
    dropped_groups: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form."""
        return {
            "name": self.name,
            "description": self.description,
            "source_package": self.source_package,
            "source_version": self.source_version,
            "licence": self.licence,
            "label": self.label,
            "n_rows": self.n_rows,
            "prevalence": self.prevalence,
            "group_columns": list(self.group_columns),
            "leaking_columns": list(self.leaking_columns),
            "excluded_columns": list(self.excluded_columns),
            "dropped_rows": dict(self.dropped_rows),
            "dropped_groups": dict(self.dropped_groups),
        }


@dataclass(frozen=True)
class ClinicalTable:
    """A prediction table: numeric features, a binary label and group attributes.

    Attributes
    ----------
    features : pandas.DataFrame
        Numeric features (float64). Categories are one-hot encoded with an explicit
        ``missing`` level; a numeric column with missing values keeps ``NaN`` there and
        gains a 0/1 indicator column ``<name>__missing``. The group attributes and the
        columns they were derived from are not among the features.
    label : numpy.ndarray
        Binary label (int64, 1 is the positive outcome), one per row.
    groups : pandas.DataFrame
        One string column per group attribute, aligned with ``features``.
    metadata : TableMetadata
        Source, licence, sizes and the columns and groups that were removed.
    """

    features: pd.DataFrame
    label: np.ndarray
    groups: pd.DataFrame
    metadata: TableMetadata

    def __post_init__(self) -> None:
        n = len(self.features)
        if len(self.label) != n or len(self.groups) != n:
            raise ValueError(
                f"table {self.metadata.name!r} has {n} feature rows, {len(self.label)} labels "
                f"and {len(self.groups)} group rows; they must be equal"
            )

    @property
    def group_labels(self) -> pd.Series:
        """Intersectional group of each row, such as ``"sex=female|race=black"``."""
        return intersectional_labels(self.groups)

    def subset(self, mask: np.ndarray) -> ClinicalTable:
        """Return the rows where ``mask`` is true, with a fresh index and row count."""
        mask = np.asarray(mask, dtype=bool)
        label = self.label[mask]
        metadata = replace(
            self.metadata,
            n_rows=int(mask.sum()),
            prevalence=float(label.mean()) if label.size else float("nan"),
        )
        return ClinicalTable(
            self.features.loc[mask].reset_index(drop=True),
            label,
            self.groups.loc[mask].reset_index(drop=True),
            metadata,
        )


def intersectional_labels(groups: pd.DataFrame) -> pd.Series:
    """Return the intersectional group of each row as ``"attr=value|attr=value"``.

    Raises
    ------
    ParameterError
        If ``groups`` has no columns.
    """
    if groups.shape[1] == 0:
        raise ParameterError("no group attribute columns given; pass at least one column")
    parts = [f"{column}=" + groups[column].astype(str) for column in groups.columns]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + GROUP_SEPARATOR + part
    return combined.rename("group")


def package_version(distribution: str) -> str:
    """Return the installed version of ``distribution``, or raise a clear error."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError as error:
        raise ParameterError(
            f"the data set needs the package {distribution!r}, which is not installed; "
            f"install it with `pip install {distribution}`"
        ) from error


def label_at_horizon(
    time: np.ndarray, event: np.ndarray, horizon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Turn survival data into a binary label "event by ``horizon``".

    Rows censored before the horizon have no label and are marked for removal.

    Parameters
    ----------
    time : array of float
        Follow-up time, in the unit of ``horizon``.
    event : array of bool
        Whether the event was observed at ``time``.
    horizon : float
        The time up to which an event counts as positive.

    Returns
    -------
    label : numpy.ndarray of int64
        1 where the event happened at or before the horizon.
    keep : numpy.ndarray of bool
        False where the row was censored before the horizon.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    label = (event & (time <= horizon)).astype(np.int64)
    keep = event | (time >= horizon)
    return label, keep


def encode_features(
    raw: pd.DataFrame, *, numeric: Sequence[str], categorical: Sequence[str]
) -> pd.DataFrame:
    """Return numeric features with categories one-hot encoded and missing values marked.

    Parameters
    ----------
    raw : pandas.DataFrame
        The source columns.
    numeric : sequence of str
        Columns kept as numbers. Each one with a missing value keeps ``NaN`` there and gains
        an indicator column ``<name>__missing``; imputation happens inside the model, fitted
        on training rows only.
    categorical : sequence of str
        Columns one-hot encoded, one 0/1 column per level, with missing values as their own
        level ``missing``.

    Returns
    -------
    pandas.DataFrame
        float64 columns in a fixed order: numeric, indicators, then one-hot columns.
    """
    missing = [c for c in (*numeric, *categorical) if c not in raw.columns]
    if missing:
        raise ParameterError(
            f"columns {missing} not found in the source table; available: {sorted(raw.columns)}"
        )
    numbers = raw[list(numeric)].apply(pd.to_numeric, errors="raise").astype(float)
    indicators = {
        f"{column}{MISSING_SUFFIX}": numbers[column].isna().astype(float)
        for column in numeric
        if numbers[column].isna().any()
    }
    blocks = [numbers.reset_index(drop=True)]
    if indicators:
        blocks.append(pd.DataFrame(indicators).reset_index(drop=True))
    for column in categorical:
        values = raw[column].astype(object).where(raw[column].notna(), MISSING_LEVEL).astype(str)
        dummies = pd.get_dummies(values, prefix=column, prefix_sep="=", dtype=float)
        blocks.append(dummies.reset_index(drop=True))
    return pd.concat(blocks, axis=1)


def drop_small_groups(
    table: ClinicalTable,
    *,
    min_group_size: int = MIN_GROUP_SIZE,
    min_label_count: int = MIN_LABEL_COUNT,
) -> ClinicalTable:
    """Remove intersectional groups too small to split and test, logging each one.

    Parameters
    ----------
    table : ClinicalTable
        The table.
    min_group_size : int
        Fewest rows a group needs.
    min_label_count : int
        Fewest rows of each label a group needs.

    Returns
    -------
    ClinicalTable
        The table without those groups; ``metadata.dropped_groups`` names each removed
        group with its reason and ``metadata.dropped_rows`` counts the rows.
    """
    if min_group_size < 1 or min_label_count < 0:
        raise ParameterError(
            f"invalid minimums min_group_size={min_group_size}, "
            f"min_label_count={min_label_count}; expected values >= 1 and >= 0"
        )
    labels = table.group_labels.to_numpy()
    reasons: dict[str, str] = {}
    for group in sorted(set(labels)):
        in_group = labels == group
        size = int(in_group.sum())
        positives = int(table.label[in_group].sum())
        negatives = size - positives
        if size < min_group_size:
            reasons[group] = f"{size} rows, fewer than the minimum of {min_group_size}"
        elif min(positives, negatives) < min_label_count:
            reasons[group] = (
                f"{positives} positive and {negatives} negative rows, fewer than the "
                f"minimum of {min_label_count} per label"
            )
    # INFO, not WARNING: every cell of a data set loads it again, and the reasons are also
    # kept in the metadata's dropped_groups, which every cell's record carries in its info.
    for group, reason in reasons.items():
        logger.info("data set %s: dropped group %s (%s)", table.metadata.name, group, reason)
    keep = ~np.isin(labels, list(reasons))
    result = table.subset(keep)
    dropped_rows = {**table.metadata.dropped_rows}
    if reasons:
        dropped_rows["groups below the minimum size"] = int((~keep).sum())
    metadata = replace(
        result.metadata,
        dropped_rows=dropped_rows,
        dropped_groups={**table.metadata.dropped_groups, **reasons},
    )
    if result.metadata.n_rows == 0:
        raise ParameterError(
            f"data set {table.metadata.name!r}: every group is below the minimum size "
            f"({min_group_size} rows, {min_label_count} per label); lower the minimums"
        )
    return replace(result, metadata=metadata)


def build_table(
    *,
    name: str,
    description: str,
    source_package: str,
    licence: str,
    label_meaning: str,
    features: pd.DataFrame,
    label: np.ndarray,
    groups: pd.DataFrame,
    keep: np.ndarray,
    keep_reason: str,
    leaking_columns: Sequence[str],
    excluded_columns: Sequence[str],
    min_group_size: int = MIN_GROUP_SIZE,
    min_label_count: int = MIN_LABEL_COUNT,
) -> ClinicalTable:
    """Assemble a `ClinicalTable` from encoded parts, apply ``keep`` and drop small groups.

    Parameters
    ----------
    name, description, source_package, licence : str
        As the fields of `TableMetadata`.
    label_meaning : str
        What the positive label means (`TableMetadata.label`).
    features, label, groups
        As the fields of `ClinicalTable`, for every source row.
    keep : array of bool
        Rows to keep; the others are counted under ``keep_reason``.
    keep_reason : str
        Why rows outside ``keep`` are removed.
    leaking_columns, excluded_columns : sequence of str
        As the fields of `TableMetadata`.
    min_group_size, min_label_count : int
        Passed to `drop_small_groups`.
    """
    keep = np.asarray(keep, dtype=bool)
    groups = groups.astype(str).reset_index(drop=True)
    metadata = TableMetadata(
        name=name,
        description=description,
        source_package=source_package,
        source_version=package_version(source_package),
        licence=licence,
        label=label_meaning,
        n_rows=len(label),
        prevalence=float(np.mean(label)),
        group_columns=tuple(groups.columns),
        leaking_columns=tuple(leaking_columns),
        excluded_columns=tuple(excluded_columns),
        dropped_rows={keep_reason: int((~keep).sum())} if (~keep).any() else {},
    )
    table = ClinicalTable(
        features.reset_index(drop=True), np.asarray(label, dtype=np.int64), groups, metadata
    )
    table = table.subset(keep)
    table = drop_small_groups(table, min_group_size=min_group_size, min_label_count=min_label_count)
    logger.info(
        "loaded %s: %d rows, %d features, prevalence %.3f, %d groups",
        name,
        table.metadata.n_rows,
        table.features.shape[1],
        table.metadata.prevalence,
        table.group_labels.nunique(),
    )
    return table
