"""SUPPORT2 and RHC, the two ICU cohorts shipped inside SurvSet.

SurvSet (GPLv3) ships each table as a pandas pickle inside its installed package, processed
from the Vanderbilt Department of Biostatistics data repository. The file is located through
the package's distribution metadata and read with pandas, without importing SurvSet and
without network access.

NOTE: reading a pickle runs code from the file. Only the installed package's own file is
read, which is as trusted as the package's code, and never a user-supplied pickle.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pandas as pd

from trustbench.core.errors import ParameterError
from trustbench.data.tabular import (
    MIN_GROUP_SIZE,
    MIN_LABEL_COUNT,
    ClinicalTable,
    build_table,
    encode_features,
    label_at_horizon,
    package_version,
)

SOURCE = "survset"
LICENCE = (
    "SurvSet: GPLv3; data from the Vanderbilt Department of Biostatistics data repository "
    "(hbiostat.org), shared for research and teaching"
)
HORIZON_DAYS = 180.0


def read_survset_table(name: str) -> pd.DataFrame:
    """Return the SurvSet table ``name`` read from the installed package's resources.

    Raises
    ------
    ParameterError
        If SurvSet is not installed or does not ship the table.
    """
    package_version(SOURCE)
    relative = f"SurvSet/resources/pickles/{name}.pickle"
    path = Path(str(importlib.metadata.distribution(SOURCE).locate_file(relative)))
    if not path.is_file():
        raise ParameterError(
            f"SurvSet {package_version(SOURCE)} has no table {name!r} at {path}; "
            "install SurvSet 0.2.11 or later"
        )
    return pd.read_pickle(path)


def _race(values: pd.Series, kept: tuple[str, ...]) -> pd.Series:
    """Return race with every level outside ``kept`` (missing included) merged into other."""
    text = values.astype(str).str.lower()
    return text.where(text.isin(kept), "other")


def load_support2(
    *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load SUPPORT2, seriously ill hospitalised adults (Knaus et al., 1995).

    Label: death within 180 days of study entry (no row is censored before 180 days).
    Groups: ``sex`` x ``race`` (white, black, other; other merges Asian, Hispanic, other and
    missing, 524 rows). Dropped for leaking the outcome: the SUPPORT model's 2- and 6-month
    survival estimates (``surv2m``, ``surv6m``), the functional disability at 2 months
    (``sfdm2``, whose levels include death before follow-up), the do-not-resuscitate status
    (``dnr``, which records orders written after admission) and the follow-up time.

    Returns
    -------
    ClinicalTable
        9,105 rows.
    """
    raw = read_survset_table("support2")
    label, keep = label_at_horizon(raw["time"], raw["event"] == 1, HORIZON_DAYS)
    numeric = [
        "num_age", "num_num_co", "num_edu", "num_scoma", "num_hday", "num_sps", "num_meanbp",
        "num_wblc", "num_hrt", "num_resp", "num_temp", "num_pafi", "num_alb", "num_bili",
        "num_crea", "num_sod", "num_ph", "num_glucose", "num_bun", "num_urine", "num_adlp",
        "num_adls",
    ]  # fmt: skip
    categorical = [
        "fac_dzgroup", "fac_dzclass", "fac_diabetes", "fac_dementia", "fac_ca", "fac_income",
    ]  # fmt: skip
    features, groups = _features_and_groups(raw, numeric, categorical)
    return build_table(
        name="support2",
        description="SUPPORT study of seriously ill hospitalised adults, 1989-1994",
        source_package=SOURCE,
        licence=LICENCE,
        label_meaning="death within 180 days of study entry",
        features=features,
        label=label,
        groups=groups,
        keep=keep,
        keep_reason="censored before 180 days",
        leaking_columns=("surv2m", "surv6m", "sfdm2", "dnr", "time", "event"),
        excluded_columns=("sex", "race"),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )


def _features_and_groups(
    raw: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the encoded features without SurvSet's prefixes, and the sex x race groups."""
    features = encode_features(raw, numeric=numeric, categorical=categorical)
    features.columns = [c.removeprefix("num_").removeprefix("fac_") for c in features.columns]
    groups = pd.DataFrame(
        {
            "sex": raw["fac_sex"].astype(str).str.lower(),
            "race": _race(raw["fac_race"], ("white", "black")),
        }
    )
    return features, groups


def load_rhc(
    *, min_group_size: int = MIN_GROUP_SIZE, min_label_count: int = MIN_LABEL_COUNT
) -> ClinicalTable:
    """Load RHC, critically ill adults with or without right heart catheterisation.

    Connors et al. (1996). Label: death within 180 days of admission; rows censored before
    180 days are dropped. Groups: ``sex`` x ``race`` (white, black, other). The treatment
    (``swang1``, catheterisation in the first 24 hours) is a feature. Dropped for leaking the
    outcome: the SUPPORT model's 2-month survival estimate (``surv2md1``) and the follow-up
    time (SurvSet's ``time``, computed from the death and last-contact dates).

    Returns
    -------
    ClinicalTable
        About 5,700 rows.
    """
    raw = read_survset_table("rhc")
    label, keep = label_at_horizon(raw["time"], raw["event"] == 1, HORIZON_DAYS)
    leaking = {"num_surv2md1"}
    numeric = [c for c in raw.columns if c.startswith("num_") and c not in leaking]
    categorical = [
        c for c in raw.columns if c.startswith("fac_") and c not in ("fac_sex", "fac_race")
    ]
    features, groups = _features_and_groups(raw, numeric, categorical)
    return build_table(
        name="rhc",
        description="RHC study of critically ill adults in five US hospitals, 1989-1994",
        source_package=SOURCE,
        licence=LICENCE,
        label_meaning="death within 180 days of admission",
        features=features,
        label=label,
        groups=groups,
        keep=keep,
        keep_reason="censored before 180 days",
        leaking_columns=("surv2md1", "time", "event"),
        excluded_columns=("sex", "race"),
        min_group_size=min_group_size,
        min_label_count=min_label_count,
    )
