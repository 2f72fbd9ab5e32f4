import logging
import socket

import numpy as np
import pandas as pd
import pytest

from trustbench.core.errors import ParameterError
from trustbench.data import CLINICAL_LOADERS, load_clinical, stratified_split
from trustbench.data.csv_table import load_csv_table
from trustbench.data.splits import strata, stratified_subsample
from trustbench.data.tabular import MISSING_SUFFIX, package_version

EXPECTED = {
    # name: (group columns, leaking columns, rows before small groups are dropped or fewer)
    "support2": (("sex", "race"), ("surv2m", "surv6m", "sfdm2"), 9105),
    "rhc": (("sex", "race"), ("surv2md1",), 5735),
    "flchain": (("sex", "age_group"), ("chapter", "futime"), 7874),
    "actg320": (("sex", "race"), ("time",), 1151),
    "whas500": (("gender", "age_group"), ("lenfol",), 500),
    "kidney_transplant": (("race", "sex"), ("time",), 863),
}


@pytest.fixture(scope="module", params=sorted(CLINICAL_LOADERS))
def table(request):
    return load_clinical(request.param)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted in a loader test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_loader_reads_without_network(no_network):
    for name in CLINICAL_LOADERS:
        assert load_clinical(name).metadata.n_rows > 0


def test_loader_features_are_numeric(table):
    assert (table.features.dtypes == np.float64).all()
    assert not table.features.columns.duplicated().any()


def test_loader_label_is_binary(table):
    assert table.label.dtype == np.int64
    assert set(np.unique(table.label)) == {0, 1}


def test_loader_metadata_matches_table(table):
    meta = table.metadata
    assert meta.n_rows == len(table.label) == len(table.features) == len(table.groups)
    assert meta.prevalence == pytest.approx(table.label.mean())
    assert meta.source_version == package_version(meta.source_package)
    assert meta.licence
    groups, leaking, max_rows = EXPECTED[meta.name]
    assert meta.n_rows <= max_rows
    assert tuple(table.groups.columns) == groups
    assert set(leaking) <= set(meta.leaking_columns)


def test_loader_drops_leaking_and_group_columns(table):
    meta = table.metadata
    names = {c.split("=")[0].removesuffix(MISSING_SUFFIX) for c in table.features.columns}
    assert not names & set(meta.leaking_columns)
    assert not names & set(meta.excluded_columns)
    assert not names & set(table.groups.columns)


def test_loader_marks_missing_values(table):
    for column in table.features.columns[table.features.isna().any()]:
        indicator = table.features[f"{column}{MISSING_SUFFIX}"]
        assert (indicator == table.features[column].isna()).all()


def test_loader_groups_meet_minimum(table):
    labels = table.group_labels
    for group in labels.unique():
        rows = (labels == group).to_numpy()
        assert rows.sum() >= 50
        assert min(table.label[rows].sum(), (1 - table.label[rows]).sum()) >= 10


def test_small_groups_dropped_with_reason(caplog):
    with caplog.at_level(logging.INFO, logger="trustbench.data.tabular"):
        table = load_clinical("kidney_transplant")
    dropped = table.metadata.dropped_groups
    assert "race=black|sex=female" in dropped
    assert "35 rows" in dropped["race=black|sex=female"]
    assert "race=black|sex=female" not in set(table.group_labels)
    assert table.metadata.dropped_rows["groups below the minimum size"] > 0
    assert "dropped group race=black|sex=female" in caplog.text


def test_raising_minimum_drops_more_groups():
    loose = load_clinical("whas500", min_group_size=10)
    strict = load_clinical("whas500", min_group_size=100)
    assert strict.group_labels.nunique() < loose.group_labels.nunique()


def test_unknown_dataset_names_choices():
    with pytest.raises(ParameterError, match="unknown clinical data set 'mimic'.*support2"):
        load_clinical("mimic")


def test_split_is_disjoint_and_complete():
    table = load_clinical("whas500")
    split = stratified_split(table, seed=3)
    parts = np.concatenate([split.train, split.validation, split.test])
    assert len(parts) == len(np.unique(parts)) == len(table.label)


def test_split_is_stratified_by_label_and_group():
    table = load_clinical("flchain")
    split = stratified_split(table, seed=1)
    cells = strata(table)
    for cell, total in zip(*np.unique(cells, return_counts=True), strict=True):
        in_test = int((cells[split.test] == cell).sum())
        in_validation = int((cells[split.validation] == cell).sum())
        assert abs(in_test - 0.2 * total) <= 1.5, cell
        assert abs(in_validation - 0.2 * total) <= 1.5, cell


def test_split_depends_on_seed_only():
    table = load_clinical("whas500")
    first, again, other = (stratified_split(table, seed=s) for s in (0, 0, 1))
    assert np.array_equal(first.test, again.test)
    assert not np.array_equal(first.test, other.test)


def test_split_rejects_bad_fractions():
    table = load_clinical("whas500")
    with pytest.raises(ParameterError, match="leaves no training rows"):
        stratified_split(table, seed=0, validation_fraction=0.5, test_fraction=0.5)


def test_subsample_keeps_group_shares():
    table = load_clinical("flchain")
    small = stratified_subsample(table, n_rows=1000)
    assert small.metadata.n_rows == 1000
    assert small.label.mean() == pytest.approx(table.label.mean(), abs=0.01)


def _write_csv(path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, n),
            "sex": rng.choice(["female", "male"], n),
            "race": rng.choice(["white", "black"], n),
            "age": rng.normal(60, 10, n).round(),
            "lactate": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 1.0, n)),
            "unit": rng.choice(["micu", "sicu", None], n),
            "los_days": rng.gamma(2.0, 2.0, n),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_csv_table_loads_local_file(tmp_path):
    raw = _write_csv(tmp_path / "cohort.csv")
    table = load_csv_table(
        tmp_path / "cohort.csv",
        name="cohort",
        label="label",
        group_columns=["sex", "race"],
        drop_columns=["los_days"],
    )
    assert table.metadata.n_rows == len(raw)
    assert "lactate__missing" in table.features.columns
    assert "unit=missing" in table.features.columns
    assert "los_days" not in table.features.columns
    assert list(table.groups.columns) == ["sex", "race"]


def test_csv_table_missing_column_is_named(tmp_path):
    _write_csv(tmp_path / "cohort.csv")
    with pytest.raises(ParameterError, match=r"\['ethnicity'\] not found"):
        load_csv_table(
            tmp_path / "cohort.csv", name="c", label="label", group_columns=["ethnicity"]
        )


def test_csv_table_rejects_non_binary_label(tmp_path):
    frame = _write_csv(tmp_path / "cohort.csv")
    frame["label"] = frame["label"] + 1
    frame.to_csv(tmp_path / "cohort.csv", index=False)
    with pytest.raises(ParameterError, match="expected 0/1"):
        load_csv_table(tmp_path / "cohort.csv", name="c", label="label", group_columns=["sex"])
