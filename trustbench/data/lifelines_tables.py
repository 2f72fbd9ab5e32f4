"""The kidney transplant cohort shipped inside lifelines.

lifelines (MIT) reads ``kidney_transplant.csv`` from its own installed package
(`lifelines.datasets.load_kidney_transplant`), so nothing is downloaded.
"""

from __future__ import annotations

import pandas as pd

from trustbench.data.tabular import (
    MIN_GROUP_SIZE,
    MIN_LABEL_COUNT,
    ClinicalTable,
    build_table,
    encode_features,
    label_at_horizon,
)

SOURCE = "lifelines"
HORIZON_DAYS = 3 * 365.25


def load_kidney_transplant(
    *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load the kidney transplant cohort (Klein and Moeschberger, 1997, data set D.3).

    Label: death within 3 years of transplant; rows censored before 3 years are dropped.
    Groups: ``race`` x ``sex``, decoded from the source's three indicator columns (the fourth
    combination, white female, is the row with all three at zero). The only feature is age,
    so the generic model is a function of age alone. The follow-up time is dropped.

    Returns
    -------
    ClinicalTable
        About 580 rows before small groups are dropped (the black female group has 35
        rows and is dropped at the default minimum of 50).
    """
    from lifelines.datasets import load_kidney_transplant as _load

    raw = _load()
    label, keep = label_at_horizon(raw["time"], raw["death"] == 1, HORIZON_DAYS)
    black = (raw["black_male"] == 1) | (raw["black_female"] == 1)
    male = (raw["black_male"] == 1) | (raw["white_male"] == 1)
    groups = pd.DataFrame(
        {
            "race": black.map({True: "black", False: "white"}),
            "sex": male.map({True: "male", False: "female"}),
        }
    )
    features = encode_features(raw, numeric=["age"], categorical=[])
    return build_table(
        name="kidney_transplant",
        description="kidney transplant recipients, Ohio State University, 1982-1992",
        source_package=SOURCE,
        licence="lifelines: MIT; data from Klein and Moeschberger, Survival Analysis (1997)",
        label_meaning="death within 3 years of transplant",
        features=features,
        label=label,
        groups=groups,
        keep=keep,
        keep_reason="censored before 3 years",
        leaking_columns=("time", "death"),
        excluded_columns=("black_male", "white_male", "black_female"),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )
