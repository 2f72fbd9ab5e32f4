"""Clinical tables shipped inside scikit-survival: flchain, ACTG 320 and WHAS500.

scikit-survival (GPL-3.0-or-later) reads each table from an ARFF file inside its own
installed package (`sksurv.datasets.load_*`), so nothing is downloaded.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from trustbench.data.tabular import (
    MIN_GROUP_SIZE,
    MIN_LABEL_COUNT,
    ClinicalTable,
    build_table,
    encode_features,
    label_at_horizon,
)

SOURCE = "scikit-survival"
LICENCE = "scikit-survival: GPL-3.0-or-later"
DAYS_PER_YEAR = 365.25


def load_flchain(
    *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load the serum free light chain cohort (Olmsted County; Dispenzieri et al., 2012).

    Label: death within 5 years of the blood sample; rows censored before 5 years are dropped.
    Groups: ``sex`` x ``age_group`` (under 60, 60-69, 70-79, 80 and over). Age itself is the
    source of a group attribute and is not a feature. ``chapter`` (the cause of death) and the
    follow-up time leak the outcome and are dropped.

    Returns
    -------
    ClinicalTable
        About 7,700 rows before small groups are dropped.
    """
    from sksurv.datasets import load_flchain as _load

    raw, outcome = _load()
    label, keep = label_at_horizon(outcome["futime"], outcome["death"], 5 * DAYS_PER_YEAR)
    features = encode_features(
        raw,
        numeric=["creatinine", "kappa", "lambda"],
        categorical=["flc.grp", "mgus", "sample.yr"],
    )
    groups = pd.DataFrame(
        {
            "sex": raw["sex"].astype(str).map({"F": "female", "M": "male"}),
            "age_group": _age_bins(raw["age"], (60, 70, 80)),
        }
    )
    return build_table(
        name="flchain",
        description="Olmsted County serum free light chain cohort, 1995-2003",
        source_package=SOURCE,
        licence=LICENCE + "; data from the R package survival (LGPL-2 or later)",
        label_meaning="death within 5 years of the blood sample",
        features=features,
        label=label,
        groups=groups,
        keep=keep,
        keep_reason="censored before 5 years",
        leaking_columns=("chapter", "futime", "death"),
        excluded_columns=("age", "sex"),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )


def load_actg320(
    *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load the ACTG 320 AIDS clinical trial (Hammer et al., 1997; Hosmer, Lemeshow and May).

    Label: an AIDS-defining event or death during the trial's follow-up (at most 364 days).
    The trial stopped early, so most rows are censored before a common horizon; dropping
    them would leave too few rows, and the label is the observed event indicator instead.
    Groups: ``sex`` x ``race`` (white, black, hispanic, other; other merges the Asian or
    Pacific Islander and American Indian codes, 25 rows in all). The follow-up time is dropped.

    Returns
    -------
    ClinicalTable
        At most 1,151 rows; groups with fewer than ``min_label_count`` events are dropped.
    """
    from sksurv.datasets import load_aids as _load

    raw, outcome = _load(endpoint="aids")
    label = np.asarray(outcome["censor"], dtype=np.int64)
    features = encode_features(
        raw,
        numeric=["age", "cd4", "priorzdv"],
        categorical=["hemophil", "ivdrug", "karnof", "strat2", "tx", "txgrp"],
    )
    race = (
        raw["raceth"]
        .astype(str)
        .map({"1": "white", "2": "black", "3": "hispanic", "4": "other", "5": "other"})
    )
    groups = pd.DataFrame(
        {"sex": raw["sex"].astype(str).map({"1": "male", "2": "female"}), "race": race}
    )
    return build_table(
        name="actg320",
        description="ACTG 320 trial of indinavir in HIV-infected adults",
        source_package=SOURCE,
        licence=LICENCE + "; data from Hosmer, Lemeshow and May, Applied Survival Analysis",
        label_meaning="AIDS-defining event or death during follow-up (up to 364 days)",
        features=features,
        label=label,
        groups=groups,
        keep=np.ones(len(label), dtype=bool),
        keep_reason="none",
        leaking_columns=("time", "censor"),
        excluded_columns=("sex", "raceth"),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )


def load_whas500(
    *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load the Worcester Heart Attack Study, 500-patient sample (Hosmer, Lemeshow and May).

    Label: death within 1 year of admission (no row is censored before 1 year).
    Groups: ``gender`` x ``age_group`` (under 70, 70 and over); age is not a feature.
    The follow-up time is dropped. Length of stay (``los``) is kept: the prediction is made
    at discharge, when it is known.

    Returns
    -------
    ClinicalTable
        500 rows.
    """
    from sksurv.datasets import load_whas500 as _load

    raw, outcome = _load()
    label, keep = label_at_horizon(outcome["lenfol"], outcome["fstat"], DAYS_PER_YEAR)
    features = encode_features(
        raw,
        numeric=["bmi", "diasbp", "hr", "los", "sysbp"],
        categorical=["afb", "av3", "chf", "cvd", "miord", "mitype", "sho"],
    )
    groups = pd.DataFrame(
        {
            "gender": raw["gender"].astype(str).map({"0": "male", "1": "female"}),
            "age_group": _age_bins(raw["age"], (70,)),
        }
    )
    return build_table(
        name="whas500",
        description="Worcester Heart Attack Study, 500 patients admitted 1997-2001",
        source_package=SOURCE,
        licence=LICENCE + "; data from Hosmer, Lemeshow and May, Applied Survival Analysis",
        label_meaning="death within 1 year of admission",
        features=features,
        label=label,
        groups=groups,
        keep=keep,
        keep_reason="censored before 1 year",
        leaking_columns=("lenfol", "fstat"),
        excluded_columns=("age", "gender"),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )


def _age_bins(age: pd.Series, edges: tuple[int, ...]) -> pd.Series:
    """Return labels such as ``"<60"``, ``"60-69"`` and ``">=80"`` for integer edges."""
    if age.isna().any():
        raise ValueError("age has missing values; every row needs an age for its age group")
    values = age.to_numpy(dtype=float)
    labels = np.empty(len(values), dtype=object)
    labels[values < edges[0]] = f"<{edges[0]}"
    for low, high in itertools.pairwise(edges):
        labels[(values >= low) & (values < high)] = f"{low}-{high - 1}"
    labels[values >= edges[-1]] = f">={edges[-1]}"
    return pd.Series(labels, index=age.index, dtype=str)
