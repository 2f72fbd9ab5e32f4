"""The claim: standard personalization often violates fair use, and assignment removes it.

A setting is a (data set x model class) scenario. A method *violates fair use* in a setting
when, in a majority of the seeds, at least one group shows a significant rationality or
envy-freeness violation after Holm's correction (the per-cell metric ``any_violation``).

Stated before measuring: the claim holds at a tier when standard personalization (``onehot``
or ``intersectional``) violates fair use in at least `VIOLATION_SHARE` of the settings and
``assigned`` violates it in none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trustbench.core.claims import AllOf, Claim, ClaimResult, Verdict, select
from trustbench.core.stats import bootstrap_ci

#: Share of settings in which standard personalization must violate fair use. Suriyakumar,
#: Ghassemi and Ustun call violations prevalent, not universal. One in three settings is
#: "common", and it allows for the lower power of tests on held-out splits of 100 to 1,800 rows.
VIOLATION_SHARE = 1 / 3
STANDARD_METHODS = ("onehot", "intersectional")
REMEDY = "assigned"
SOURCE = "Suriyakumar, Ghassemi and Ustun, ICML 2023, empirical study of clinical tasks"


def violating_settings(
    records: Sequence[Mapping[str, Any]], *, tier: str, method: str
) -> tuple[dict[str, bool], list[int]]:
    """Return, per scenario, whether ``method`` violates fair use in a majority of seeds.

    Returns
    -------
    verdicts : dict of str to bool
        One entry per scenario with finished cells of ``method``.
    seeds : list of int
        The seeds seen.
    """
    by_scenario: dict[str, dict[int, float]] = {}
    for record in select(records, tier=tier, method=method):
        value = record["metrics"].get("any_violation")
        if value is not None:
            by_scenario.setdefault(record["scenario"], {})[int(record["seed"])] = float(value)
    seeds = sorted({seed for values in by_scenario.values() for seed in values})
    verdicts = {
        scenario: float(np.mean(list(values.values()))) > 0.5
        for scenario, values in by_scenario.items()
    }
    return verdicts, seeds


def violation_counts(records: Sequence[Mapping[str, Any]], *, tier: str) -> list[dict[str, Any]]:
    """Return one row per (method, scenario): seeds with a violation and violations per seed.

    The scenario name is ``"<data set>-<model class>"``.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for record in select(records, tier=tier):
        key = (record["method"], record["scenario"])
        dataset, _, model = record["scenario"].partition("-")
        row = rows.setdefault(
            key,
            {
                "method": record["method"],
                "dataset": dataset,
                "model": model,
                "seeds": 0,
                "seeds_with_violation": 0,
                "rationality_violations": 0.0,
                "envy_violations": 0.0,
            },
        )
        metrics = record["metrics"]
        row["seeds"] += 1
        row["seeds_with_violation"] += int(metrics.get("any_violation", 0.0) > 0)
        row["rationality_violations"] += metrics.get("rationality_violations", 0.0)
        row["envy_violations"] += metrics.get("envy_violations", 0.0)
    return sorted(rows.values(), key=lambda r: (r["method"], r["dataset"], r["model"]))


class StandardPersonalizationViolates(Claim):
    """Standard personalization violates fair use in at least a stated share of settings."""

    def __init__(self, *, share: float = VIOLATION_SHARE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.share = share

    def evaluate(self, records: Sequence[Mapping[str, Any]], tier: str) -> ClaimResult:
        """Count settings where onehot or intersectional violates fair use."""
        per_method = [violating_settings(records, tier=tier, method=m) for m in STANDARD_METHODS]
        scenarios = sorted(set().union(*(verdicts for verdicts, _ in per_method)))
        seeds = sorted(set().union(*(set(s) for _, s in per_method)))
        if not scenarios or len(seeds) < self.min_seeds:
            return _inconclusive(self.name, seeds, f"{len(scenarios)} settings, {len(seeds)} seeds")
        flags = [any(verdicts.get(s, False) for verdicts, _ in per_method) for s in scenarios]
        share = float(np.mean(flags))
        low, high = bootstrap_ci(np.asarray(flags, dtype=float))
        verdict = Verdict.HOLDS if share >= self.share else Verdict.FAILS
        violating = [s for s, flag in zip(scenarios, flags, strict=True) if flag]
        detail = (
            f"onehot or intersectional violates fair use in {sum(flags)} of {len(scenarios)} "
            f"settings (share {share:.2f}, stated minimum {self.share:.2f}): "
            f"{', '.join(violating) or 'none'}"
        )
        return ClaimResult(self.name, verdict, share, low, high, seeds, detail)


class AssignedHasNoViolation(Claim):
    """The assigned remedy violates fair use in no setting."""

    def evaluate(self, records: Sequence[Mapping[str, Any]], tier: str) -> ClaimResult:
        """Count settings where assigned violates fair use; the claim holds at zero."""
        verdicts, seeds = violating_settings(records, tier=tier, method=REMEDY)
        if not verdicts or len(seeds) < self.min_seeds:
            return _inconclusive(self.name, seeds, f"{len(verdicts)} settings, {len(seeds)} seeds")
        flags = np.asarray([verdicts[s] for s in sorted(verdicts)], dtype=float)
        low, high = bootstrap_ci(flags)
        violating = [s for s in sorted(verdicts) if verdicts[s]]
        verdict = Verdict.FAILS if violating else Verdict.HOLDS
        detail = (
            f"assigned violates fair use in {len(violating)} of {len(verdicts)} settings: "
            f"{', '.join(violating) or 'none'}"
        )
        return ClaimResult(self.name, verdict, float(flags.mean()), low, high, seeds, detail)


def _inconclusive(name: str, seeds: list[int], what: str) -> ClaimResult:
    return ClaimResult(
        name, Verdict.INCONCLUSIVE, math.nan, math.nan, math.nan, seeds, f"too few results: {what}"
    )


#: Expected verdicts per tier. The paper tier keeps the paper's claim. The smoke and cpu tiers
#: expect what was measured on the bundled tables (docs/personalization.md gives the counts):
#: standard personalization violated fair use in 4 of 24 cpu settings, fewer than a third,
#: and assigned violated it in 4, because its choice among many candidates on small
#: validation groups does not carry over to test rows.
EXPECTED_VIOLATES = {"smoke": "fails", "cpu": "fails", "paper": "holds"}
EXPECTED_ASSIGNED = {"smoke": "fails", "cpu": "fails", "paper": "holds"}
EXPECTED_COMBINED = {"smoke": "fails", "cpu": "fails", "paper": "holds"}


def build_claims() -> list[Claim]:
    """Return the family's claim: both parts and their conjunction."""
    violates = StandardPersonalizationViolates(
        name="standard_personalization_violates_fair_use",
        statement=(
            "Personalizing with group attributes (onehot or intersectional) violates "
            f"rationality or envy-freeness for some group in at least {VIOLATION_SHARE:.0%} "
            "of (data set x model class) settings"
        ),
        source=SOURCE,
        metric="any_violation",
        expected=EXPECTED_VIOLATES,
    )
    assigned = AssignedHasNoViolation(
        name="assigned_has_no_violation",
        statement="Assigning each group its preferred model leaves no fair-use violation",
        source=SOURCE,
        metric="any_violation",
        expected=EXPECTED_ASSIGNED,
    )
    combined = AllOf(
        name="fair_use",
        statement=(
            "Standard personalization often violates fair use on clinical data, and the "
            "assigned remedy shows no violation on test data"
        ),
        source=SOURCE,
        claims=[violates, assigned],
        expected=EXPECTED_COMBINED,
    )
    return [violates, assigned, combined]
