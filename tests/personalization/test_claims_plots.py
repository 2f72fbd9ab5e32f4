import importlib.metadata

import pytest

from trustbench.core.claims import Verdict
from trustbench.core.registry import get_family, list_methods
from trustbench.families.personalization.claims import build_claims, violation_counts


def record(scenario, method, seed, violation, tier="cpu"):
    return {
        "family": "personalization",
        "scenario": scenario,
        "method": method,
        "params": {},
        "seed": seed,
        "tier": tier,
        "status": "ok",
        "metrics": {
            "any_violation": float(violation),
            "rationality_violations": float(violation),
            "envy_violations": 0.0,
        },
        "series": {"group": ["g=a", "g=b"], "gain": [0.01, -0.02],
                   "gain_ci_low": [-0.01, -0.05], "gain_ci_high": [0.03, 0.01],
                   "p_rationality_holm": [1.0, 0.5]},
        "info": {"risk": "auc"},
    }  # fmt: skip


def records_for(violating_standard, violating_assigned, settings=3, seeds=3):
    out = []
    for index in range(settings):
        scenario = f"whas500-model{index}"
        for seed in range(seeds):
            out.append(record(scenario, "onehot", seed, index < violating_standard))
            out.append(record(scenario, "intersectional", seed, 0))
            out.append(record(scenario, "assigned", seed, index < violating_assigned))
    return out


def claims_by_name():
    return {claim.name: claim for claim in build_claims()}


def test_claim_holds_when_share_reached_and_assigned_clean():
    claims = claims_by_name()
    result = claims["fair_use"].evaluate(records_for(1, 0), "cpu")
    assert result.verdict is Verdict.HOLDS, result.summary()


def test_claim_fails_below_stated_share():
    result = claims_by_name()["standard_personalization_violates_fair_use"].evaluate(
        records_for(0, 0, settings=4), "cpu"
    )
    assert result.verdict is Verdict.FAILS
    assert result.effect == 0.0


def test_claim_fails_when_assigned_violates():
    result = claims_by_name()["assigned_has_no_violation"].evaluate(records_for(2, 1), "cpu")
    assert result.verdict is Verdict.FAILS
    assert "whas500-model0" in result.detail


def test_minority_of_seeds_is_not_a_violating_setting():
    records = records_for(0, 0, settings=1)
    records.append(record("whas500-model0", "assigned", 9, 1))
    result = claims_by_name()["assigned_has_no_violation"].evaluate(records, "cpu")
    assert result.verdict is Verdict.HOLDS


def test_claim_inconclusive_with_too_few_seeds():
    result = claims_by_name()["fair_use"].evaluate(records_for(1, 0, seeds=1), "cpu")
    assert result.verdict is Verdict.INCONCLUSIVE


def test_violation_counts_per_method_dataset_model():
    rows = violation_counts(records_for(1, 0, settings=2), tier="cpu")
    onehot = [r for r in rows if r["method"] == "onehot"]
    assert [(r["dataset"], r["model"], r["seeds_with_violation"]) for r in onehot] == [
        ("whas500", "model0", 3),
        ("whas500", "model1", 0),
    ]


def test_plots_written_per_dataset(tmp_path):
    paths = get_family("personalization").plots(records_for(1, 0), tmp_path)
    assert [p.name for p in paths] == ["personalization_gains_whas500.png"]
    assert paths[0].stat().st_size > 1000


def test_methods_registered_through_entry_point():
    names = {cls.name: cls.kind for cls in list_methods("personalization")}
    assert names["generic"] == "reference"
    assert names["assigned"] == "proposed"
    for name in ("onehot", "intersectional", "decoupled"):
        assert names[name] == "baseline"
    points = importlib.metadata.entry_points(group="trustbench.methods")
    assert "trustbench_baselines.personalization" in {p.value for p in points}


@pytest.mark.parametrize(("tier", "count"), [("smoke", 4), ("cpu", 24), ("paper", 4)])
def test_scenarios_per_tier(tier, count):
    scenarios = get_family("personalization").scenarios(tier)
    assert len(scenarios) == count
    assert len({s.name for s in scenarios}) == count


def test_tables_report_counts_and_gains():
    tables = get_family("personalization").tables(records_for(1, 0, settings=2), "cpu")
    titles = [title for title, _, _ in tables]
    assert titles[0].startswith("Fair-use violations")
    _, headers, rows = tables[1]
    assert headers[:4] == ["setting", "method", "group", "gain"]
    first = rows[0]
    assert first[:3] == ["whas500-model0", "assigned", "g=a"]
    assert first[3] == "+0.010"
    assert first[4] == "[-0.010, +0.030]"
