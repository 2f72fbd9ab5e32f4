"""The data sets of the family, their group attributes, and the split of one cell.

Six clinical tables ship inside installed packages (see `trustbench.data`): SUPPORT2 and RHC
(sex x race), flchain (sex x age group), ACTG 320 (sex x race), WHAS500 (gender x age group)
and the kidney transplant cohort (race x sex). The paper tier reads a local CSV file instead,
configured with `trustbench.core.config.data_path`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trustbench.core.config import data_path
from trustbench.core.errors import ParameterError
from trustbench.data import CLINICAL_LOADERS, ClinicalTable, load_clinical, stratified_split
from trustbench.data.csv_table import load_csv_table
from trustbench.data.splits import stratified_subsample

logger = logging.getLogger(__name__)

DATASETS = tuple(CLINICAL_LOADERS)


@dataclass(frozen=True)
class CellData:
    """The three parts of a table for one seed.

    Attributes
    ----------
    table : ClinicalTable
        The whole table (with ``group_columns`` only).
    train, validation, test : ClinicalTable
        Its stratified parts.
    """

    table: ClinicalTable
    train: ClinicalTable
    validation: ClinicalTable
    test: ClinicalTable


def load_table(config: Mapping[str, Any]) -> ClinicalTable:
    """Return the table a scenario names, restricted to its group attributes.

    The config names ``dataset`` and ``source``. Source ``"package"`` loads a bundled table.
    Source ``"csv"`` loads the local file configured under ``data_key``, with the columns
    named by ``label``, ``group_columns`` and ``drop_columns``. An optional ``group_columns`` keeps
    only those attributes, and an optional ``max_rows`` keeps a stratified subsample.

    Raises
    ------
    ParameterError
        If a named group attribute column is not in the table.
    """
    source = str(config.get("source", "package"))
    # The configured path enters the cache key, so a changed configuration is read anew.
    location = (
        str(data_path(str(config.get("data_key") or config["dataset"]))) if source == "csv" else ""
    )
    table = _cached_table(
        str(config["dataset"]),
        source,
        location,
        str(config.get("label", "")),
        tuple(config.get("group_columns") or ()),
        tuple(config.get("drop_columns") or ()),
        int(config.get("min_group_size", 50)),
        int(config.get("min_label_count", 10)),
    )
    wanted = tuple(config.get("group_columns") or table.groups.columns)
    absent = [c for c in wanted if c not in table.groups.columns]
    if absent:
        raise ParameterError(
            f"group attribute column(s) {absent} not found in data set {config['dataset']!r}; "
            f"available: {list(table.groups.columns)}"
        )
    if tuple(wanted) != tuple(table.groups.columns):
        table = ClinicalTable(
            table.features, table.label, table.groups[list(wanted)], table.metadata
        )
    if config.get("max_rows"):
        # The subsample is fixed (seed 0) so that every cell seed uses the same rows.
        table = stratified_subsample(table, n_rows=int(config["max_rows"]), seed=0)
    return table


@functools.lru_cache(maxsize=16)
def _cached_table(
    dataset: str,
    source: str,
    location: str,
    label: str,
    group_columns: tuple[str, ...],
    drop_columns: tuple[str, ...],
    min_group_size: int,
    min_label_count: int,
) -> ClinicalTable:
    if source == "package":
        return load_clinical(
            dataset, min_group_size=min_group_size, min_label_count=min_label_count
        )
    if source == "csv":
        return load_csv_table(
            location,
            name=dataset,
            label=label,
            group_columns=group_columns,
            drop_columns=drop_columns,
            min_group_size=min_group_size,
            min_label_count=min_label_count,
        )
    raise ParameterError(f"invalid data source {source!r}; expected 'package' or 'csv'")


def split_cell(table: ClinicalTable, config: Mapping[str, Any], seed: int) -> CellData:
    """Split ``table`` for ``seed``, stratified by label x intersectional group."""
    split = stratified_split(
        table,
        seed=seed,
        validation_fraction=float(config.get("validation_fraction", 0.2)),
        test_fraction=float(config.get("test_fraction", 0.2)),
    )
    return CellData(
        table,
        _rows(table, split.train),
        _rows(table, split.validation),
        _rows(table, split.test),
    )


def _rows(table: ClinicalTable, indices: np.ndarray) -> ClinicalTable:
    mask = np.zeros(len(table.label), dtype=bool)
    mask[indices] = True
    return table.subset(mask)


def group_levels(table: ClinicalTable) -> dict[str, tuple[str, ...]]:
    """Return the sorted values of each group attribute of ``table``."""
    return {c: tuple(sorted(pd.unique(table.groups[c].astype(str)))) for c in table.groups}
