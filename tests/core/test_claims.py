import pytest

from trustbench.core.claims import AllOf, ComparisonClaim, ThresholdClaim, Verdict
from trustbench.core.stats import bootstrap_ci


def _records(method, values, metric="m", scenario="s"):
    return [
        {
            "family": "f",
            "scenario": scenario,
            "method": method,
            "params": {},
            "seed": seed,
            "tier": "cpu",
            "status": "ok",
            "metrics": {metric: v},
            "series": {},
            "info": {},
        }
        for seed, v in enumerate(values)
    ]


def _threshold(direction="above", threshold=1.0, min_seeds=3):
    return ThresholdClaim(
        name="t",
        statement="s",
        source="src",
        metric="m",
        method="a",
        scenario="s",
        threshold=threshold,
        direction=direction,
        expected={"cpu": "holds"},
        min_seeds=min_seeds,
    )


def test_threshold_holds_when_interval_above():
    result = _threshold().evaluate(_records("a", [2.0, 2.1, 1.9, 2.05]), "cpu")
    assert result.verdict is Verdict.HOLDS
    assert result.ci_low > 1.0


def test_threshold_fails_when_interval_below():
    result = _threshold().evaluate(_records("a", [0.2, 0.3, 0.25]), "cpu")
    assert result.verdict is Verdict.FAILS


def test_threshold_inconclusive_when_straddling():
    result = _threshold().evaluate(_records("a", [0.5, 1.5, 0.6, 1.4]), "cpu")
    assert result.verdict is Verdict.INCONCLUSIVE


def test_too_few_seeds_inconclusive():
    result = _threshold(min_seeds=5).evaluate(_records("a", [2.0, 2.0, 2.0]), "cpu")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "needs at least 5" in result.detail


def test_failed_records_ignored():
    records = _records("a", [2.0, 2.0, 2.0])
    records[0]["status"] = "failed"
    result = _threshold().evaluate(records, "cpu")
    assert result.seeds == [1, 2]
    assert result.verdict is Verdict.INCONCLUSIVE


def test_comparison_paired_by_seed():
    claim = ComparisonClaim(
        name="c",
        statement="s",
        source="src",
        metric="m",
        method="a",
        baseline="b",
        scenario="s",
        direction="lower",
        expected={"cpu": "holds"},
    )
    # Large spread across seeds, consistent paired difference of -0.1.
    records = _records("a", [1.0, 5.0, 9.0]) + _records("b", [1.1, 5.1, 9.1])
    result = claim.evaluate(records, "cpu")
    assert result.verdict is Verdict.HOLDS
    assert result.effect == pytest.approx(-0.1)


def test_all_of_fails_if_any_fails():
    claim = AllOf(
        name="all",
        statement="s",
        source="src",
        expected={"cpu": "holds"},
        claims=[_threshold(), _threshold(direction="below", threshold=0.0)],
    )
    result = claim.evaluate(_records("a", [2.0, 2.1, 1.9]), "cpu")
    assert result.verdict is Verdict.FAILS
    assert len(result.parts) == 2


def test_bootstrap_deterministic_and_ordered():
    values = [0.1, 0.4, 0.35, 0.2, 0.3]
    assert bootstrap_ci(values) == bootstrap_ci(values)
    low, high = bootstrap_ci(values)
    assert low < sum(values) / len(values) < high


def test_bootstrap_rejects_empty():
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
