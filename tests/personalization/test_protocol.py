import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import trustbench.families.personalization.protocol as protocol
from trustbench.core.errors import ParameterError
from trustbench.core.registry import get_family, get_method
from trustbench.families.personalization.data import load_table, split_cell
from trustbench.families.personalization.fairuse import holm
from trustbench.families.personalization.interface import group_ids, reporting
from trustbench.families.personalization.metrics import metric_value
from trustbench.families.personalization.models import EstimatorFactory
from trustbench.families.personalization.protocol import AuditSettings, audit_fair_use


@pytest.fixture(scope="module")
def family():
    return get_family("personalization")


@pytest.fixture(scope="module")
def whas_logreg(family):
    return family.scenario("smoke", "whas500-logreg")


def method(name, **params):
    return get_method("personalization", name)(**params)


def test_gain_matches_sklearn_recomputation(family, whas_logreg):
    result = family.run_cell(whas_logreg, method("onehot"), seed=2)

    config = whas_logreg.config
    data = split_cell(load_table(config), config, 2)
    problem = protocol.build_problem(data, config, 2)
    onehot = method("onehot")
    onehot.fit(problem)
    own = onehot.predict_proba(data.test.features, data.test.groups)
    generic = problem.generic_model().predict_proba(data.test.features)[:, 1]
    ids = group_ids(data.test.groups)

    group = result.series["group"][1]
    rows = ids == group
    y = data.test.label[rows]
    expected = roc_auc_score(y, own[rows]) - roc_auc_score(y, generic[rows])
    assert result.series["gain"][1] == expected
    assert result.series["auc_generic"][1] == roc_auc_score(y, generic[rows])


def test_cell_is_pure_function_of_seed(family, whas_logreg):
    first = family.run_cell(whas_logreg, method("decoupled"), seed=1)
    again = family.run_cell(whas_logreg, method("decoupled"), seed=1)
    other = family.run_cell(whas_logreg, method("decoupled"), seed=2)
    assert first.metrics == again.metrics
    assert first.series == again.series
    assert first.series["gain"] != other.series["gain"]


def test_cell_result_is_json_and_finite(family, whas_logreg):
    result = family.run_cell(whas_logreg, method("intersectional"), seed=0)
    assert all(np.isfinite(v) for v in result.metrics.values())
    json.dumps({"series": result.series, "info": result.info})
    n_groups = int(result.metrics["groups_tested"])
    assert len(result.info["envy_tests"]) == n_groups * (n_groups - 1)
    assert set(result.info["envy_freeness_matrix"]) == set(result.series["group"])


def test_holm_counts_match_series(family, whas_logreg):
    result = family.run_cell(whas_logreg, method("decoupled"), seed=0)
    alpha = result.info["alpha"]
    assert result.series["p_rationality_holm"] == holm(result.series["p_rationality"])
    corrected = sum(p < alpha for p in result.series["p_rationality_holm"])
    raw = sum(p < alpha for p in result.series["p_rationality"])
    assert result.metrics["rationality_violations"] == corrected
    assert result.metrics["rationality_violations_uncorrected"] == raw
    assert corrected <= raw


def test_generic_has_zero_gain_and_no_violation(family, whas_logreg):
    result = family.run_cell(whas_logreg, method("generic"), seed=0)
    assert result.series["gain"] == [0.0] * len(result.series["gain"])
    assert result.metrics["any_violation"] == 0.0
    assert result.series["p_rationality"] == [1.0] * len(result.series["gain"])


def test_missing_group_column_raises(family, whas_logreg):
    broken = dict(whas_logreg.config, group_columns=["gender", "ethnicity"])
    scenario = type(whas_logreg)(name="broken", config=broken)
    with pytest.raises(ParameterError, match=r"\['ethnicity'\] not found in data set 'whas500'"):
        family.run_cell(scenario, method("onehot"), seed=0)
    assert family.run_cell(whas_logreg, method("onehot"), seed=0).metrics["groups_tested"] == 4


def test_single_class_group_is_skipped_with_reason():
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.integers(0, 2, 60), np.zeros(20, dtype=int)])
    groups = np.array(["g=a"] * 60 + ["g=b"] * 20)
    p = np.clip(0.3 + 0.4 * y + 0.2 * rng.random(80), 0, 1)
    audit = audit_fair_use(
        y, groups, p, p, {"g=a": p, "g=b": p}, AuditSettings(n_resamples=50), seed=0
    )
    assert audit.groups == ["g=a"]
    assert "single class" in audit.skipped["g=b"]
    assert set(audit.matrix) == {"g=a"}


class FailsOnSmallData(ClassifierMixin, BaseEstimator):
    """A classifier that raises on fewer than 50 training rows, as a broken model would."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y):  # noqa: N803 (scikit-learn's signature)
        if len(X) < 50:
            raise ValueError(f"cannot fit on {len(X)} rows")
        self.model_ = LogisticRegression(max_iter=500).fit(X.fillna(0.0), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):  # noqa: N803
        return self.model_.predict_proba(X.fillna(0.0))


class FailingFactory(EstimatorFactory):
    def __call__(self, random_state):
        return FailsOnSmallData(random_state)


def test_estimator_failing_for_one_group_is_skipped(family, whas_logreg, monkeypatch):
    monkeypatch.setattr(protocol, "EstimatorFactory", FailingFactory)
    protocol._generic_model.cache_clear()
    try:
        result = family.run_cell(whas_logreg, method("decoupled"), seed=0)
    finally:
        protocol._generic_model.cache_clear()
    skipped = {
        g: reason for g, reason in result.info["skipped_groups"].items() if " reporting " not in g
    }
    assert len(skipped) == 4 - result.metrics["groups_tested"] == 1
    assert all("fit on" in reason and "failed" in reason for reason in skipped.values())
    assert result.metrics["groups_tested"] >= 1
    assert all(np.isfinite(v) for v in result.metrics.values())


def test_assigned_is_fair_on_validation(whas_logreg):
    config = whas_logreg.config
    data = split_cell(load_table(config), config, 0)
    problem = protocol.build_problem(data, config, 0)
    assigned = method("assigned")
    assigned.fit(problem)
    generic = problem.generic_model()
    ids = group_ids(problem.groups_validation)
    X = problem.X_validation  # noqa: N806
    for group in problem.groups:
        rows = ids == group
        y = problem.y_validation[rows]
        own = assigned.predict_proba(X.loc[rows], problem.groups_validation.loc[rows])
        base = metric_value("auc", y, generic.predict_proba(X.loc[rows])[:, 1])
        assert metric_value("auc", y, own) >= base
        for other in problem.groups:
            report = reporting(problem.groups_validation.loc[rows], other)
            envied = assigned.predict_proba(X.loc[rows], report)
            assert metric_value("auc", y, own) >= metric_value("auc", y, envied)
    assert set(assigned.report["assignment"]) == set(problem.groups)


def test_bad_predictions_fail_the_cell(family, whas_logreg):
    from trustbench.core.errors import CellError

    class Overconfident:
        name = "overconfident"
        fit_failures = {}

        def fit(self, problem):
            pass

        def predict_proba(self, features, groups):
            return np.full(len(features), 1.5)

    with pytest.raises(CellError, match=r"outside \[0, 1\]"):
        family.run_cell(whas_logreg, Overconfident(), seed=0)


def test_paper_tier_reads_local_csv(family, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n = 600
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["white", "black"], n)
    x = rng.normal(size=n)
    label = (x + 0.5 * (sex == "male") + rng.normal(size=n) > 0).astype(int)
    pd.DataFrame({"label": label, "sex": sex, "race": race, "x": x}).to_csv(
        tmp_path / "cohort.csv", index=False
    )
    monkeypatch.setenv("TRUSTBENCH_DATA_PERSONALIZATION", str(tmp_path / "cohort.csv"))
    scenario = family.scenario("paper", "local_csv-logreg")
    result = family.run_cell(scenario, method("onehot"), seed=0)
    assert result.metrics["groups_tested"] == 4
    assert result.info["dataset"]["n_rows"] == n
    assert result.info["n_resamples"] == 10_000


def test_paper_tier_without_path_names_the_setting(family, monkeypatch, tmp_path):
    monkeypatch.delenv("TRUSTBENCH_DATA_PERSONALIZATION", raising=False)
    monkeypatch.chdir(tmp_path)
    scenario = family.scenario("paper", "local_csv-mlp")
    with pytest.raises(Exception, match="TRUSTBENCH_DATA_PERSONALIZATION"):
        family.run_cell(scenario, method("generic"), seed=0)
