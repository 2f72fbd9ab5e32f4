"""Claims from papers and their verdicts on a set of records.

A claim compares a metric against a threshold or against another method, seed by seed.
The bootstrap interval of the mean effect decides the verdict. It is ``holds`` when the
whole interval lies on the claimed side and ``fails`` when it lies wholly on the other side.
It is ``inconclusive`` when the interval straddles the boundary or too few seeds finished.
"""

from __future__ import annotations

import abc
import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustbench.core.stats import bootstrap_ci

Record = Mapping[str, Any]


class Verdict(enum.StrEnum):
    """Outcome of a claim on the records of one tier."""

    HOLDS = "holds"
    FAILS = "fails"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value


@dataclass
class ClaimResult:
    """A claim's verdict with its effect size and interval.

    Attributes
    ----------
    claim : str
        Name of the claim.
    verdict : Verdict
        The outcome.
    effect : float
        Mean effect over seeds (NaN when nothing could be computed).
    ci_low, ci_high : float
        Bootstrap 95% interval of the mean effect.
    seeds : list of int
        Seeds that entered the computation.
    detail : str
        One sentence explaining the verdict.
    parts : list of ClaimResult
        Results of the sub-claims of a composite claim.
    """

    claim: str
    verdict: Verdict
    effect: float
    ci_low: float
    ci_high: float
    seeds: list[int]
    detail: str
    parts: list[ClaimResult] = field(default_factory=list)

    def summary(self) -> str:
        """Return the verdict, effect, interval and seeds on one line."""
        return (
            f"{self.claim}: {self.verdict} (effect {self.effect:.4g}, 95% CI "
            f"[{self.ci_low:.4g}, {self.ci_high:.4g}], seeds {self.seeds}); {self.detail}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form."""
        return {
            "claim": self.claim,
            "verdict": self.verdict.value,
            "effect": _json_float(self.effect),
            "ci_low": _json_float(self.ci_low),
            "ci_high": _json_float(self.ci_high),
            "seeds": list(self.seeds),
            "detail": self.detail,
            "parts": [part.to_dict() for part in self.parts],
        }


def _json_float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class Claim(abc.ABC):
    """Base class of a claim.

    Parameters
    ----------
    name : str
        Short identifier, unique within the family.
    statement : str
        The claim in one sentence, as the paper makes it.
    source : str
        Where the paper makes it (paper and section, table or figure).
    metric : str
        The metric the claim is about.
    expected : mapping of str to Verdict or str
        The verdict expected at each tier; the benchmark asserts it.
    min_seeds : int
        Fewest seeds with finished cells for a verdict other than ``inconclusive``.
    """

    def __init__(
        self,
        *,
        name: str,
        statement: str,
        source: str,
        metric: str,
        expected: Mapping[str, Verdict | str],
        min_seeds: int = 3,
    ) -> None:
        self.name = name
        self.statement = statement
        self.source = source
        self.metric = metric
        self.expected = {tier: Verdict(value) for tier, value in expected.items()}
        self.min_seeds = min_seeds

    @abc.abstractmethod
    def evaluate(self, records: Sequence[Record], tier: str) -> ClaimResult:
        """Return the verdict of this claim on ``records`` of ``tier``."""

    def _verdict(
        self, effects: Mapping[int, float], *, boundary: float, side: str, what: str
    ) -> ClaimResult:
        """Turn per-seed effects into a result, comparing their mean with ``boundary``.

        ``side`` is ``"above"`` when the claim is that the effect exceeds the boundary,
        ``"below"`` when it is that the effect is under it.
        """
        seeds = sorted(effects)
        if len(seeds) < max(self.min_seeds, 1):
            return ClaimResult(
                self.name,
                Verdict.INCONCLUSIVE,
                math.nan,
                math.nan,
                math.nan,
                seeds,
                f"{len(seeds)} seed(s) with finished cells for {what}; "
                f"the claim needs at least {self.min_seeds}",
            )
        values = np.array([effects[s] for s in seeds], dtype=float)
        low, high = bootstrap_ci(values)
        effect = float(values.mean())
        if side == "above":
            claimed, opposite = low > boundary, high < boundary
        else:
            claimed, opposite = high < boundary, low > boundary
        if claimed:
            verdict = Verdict.HOLDS
        elif opposite:
            verdict = Verdict.FAILS
        else:
            verdict = Verdict.INCONCLUSIVE
        detail = f"{what}: mean {effect:.4g}, claimed {side} {boundary:.4g}"
        return ClaimResult(self.name, verdict, effect, low, high, seeds, detail)


def select(
    records: Sequence[Record], *, tier: str, scenario: str | None = None, method: str | None = None
) -> list[Record]:
    """Return the finished records that match ``tier``, ``scenario`` and ``method``."""
    return [
        r
        for r in records
        if r["status"] == "ok"
        and r["tier"] == tier
        and (scenario is None or r["scenario"] == scenario)
        and (method is None or r["method"] == method)
    ]


def metric_by_seed(records: Sequence[Record], metric: str) -> dict[int, float]:
    """Return ``metric`` per seed; with several records per seed their mean is used."""
    grouped: dict[int, list[float]] = {}
    for record in records:
        value = record["metrics"].get(metric)
        if value is not None:
            grouped.setdefault(int(record["seed"]), []).append(float(value))
    return {seed: float(np.mean(values)) for seed, values in grouped.items()}


class ThresholdClaim(Claim):
    """A claim that one method's metric lies above or below a threshold.

    Parameters
    ----------
    method, scenario : str
        The cells the claim reads.
    threshold : float
        The boundary.
    direction : {"above", "below"}
        The claimed side.
    **kwargs
        Passed to `Claim`.

    Examples
    --------
    >>> claim = ThresholdClaim(name="fast", statement="pij is 100x faster", source="Sec. 5",
    ...     metric="speedup_vs_retrain", method="pij", scenario="synthetic_d1000",
    ...     threshold=100.0, direction="above", expected={"cpu": "holds"})
    >>> claim.evaluate([], "cpu").verdict
    <Verdict.INCONCLUSIVE: 'inconclusive'>
    """

    def __init__(
        self, *, method: str, scenario: str, threshold: float, direction: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if direction not in ("above", "below"):
            raise ValueError(f"invalid direction {direction!r}; expected 'above' or 'below'")
        self.method = method
        self.scenario = scenario
        self.threshold = threshold
        self.direction = direction

    def evaluate(self, records: Sequence[Record], tier: str) -> ClaimResult:
        """Compare the per-seed metric of the method with the threshold."""
        chosen = select(records, tier=tier, scenario=self.scenario, method=self.method)
        effects = metric_by_seed(chosen, self.metric)
        what = f"{self.metric} of {self.method} on {self.scenario}"
        return self._verdict(effects, boundary=self.threshold, side=self.direction, what=what)


class ComparisonClaim(Claim):
    """A claim that a method's metric is lower or higher than a baseline's, paired by seed.

    The effect is the per-seed difference ``method - baseline``.

    Parameters
    ----------
    method, baseline, scenario : str
        The cells the claim compares.
    direction : {"lower", "higher"}
        The claimed direction of the method against the baseline.
    margin : float
        The difference must clear this margin (default 0).
    **kwargs
        Passed to `Claim`.
    """

    def __init__(
        self,
        *,
        method: str,
        baseline: str,
        scenario: str,
        direction: str,
        margin: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if direction not in ("lower", "higher"):
            raise ValueError(f"invalid direction {direction!r}; expected 'lower' or 'higher'")
        self.method = method
        self.baseline = baseline
        self.scenario = scenario
        self.direction = direction
        self.margin = margin

    def evaluate(self, records: Sequence[Record], tier: str) -> ClaimResult:
        """Compare the method with the baseline on the seeds both finished."""
        ours = metric_by_seed(
            select(records, tier=tier, scenario=self.scenario, method=self.method), self.metric
        )
        theirs = metric_by_seed(
            select(records, tier=tier, scenario=self.scenario, method=self.baseline), self.metric
        )
        differences = {seed: ours[seed] - theirs[seed] for seed in ours.keys() & theirs.keys()}
        what = f"{self.metric} of {self.method} minus {self.baseline} on {self.scenario}"
        if self.direction == "lower":
            return self._verdict(differences, boundary=-self.margin, side="below", what=what)
        return self._verdict(differences, boundary=self.margin, side="above", what=what)


class AllOf(Claim):
    """A claim made of several claims: it holds when all hold and fails when one fails.

    The reported effect and interval are those of the first part that does not hold
    (or of the first part when all hold).
    """

    def __init__(self, *, claims: Sequence[Claim], **kwargs: Any) -> None:
        kwargs.setdefault("metric", ", ".join(sorted({c.metric for c in claims})))
        super().__init__(**kwargs)
        if not claims:
            raise ValueError(f"AllOf claim {self.name!r} needs at least one part")
        self.claims = list(claims)

    def evaluate(self, records: Sequence[Record], tier: str) -> ClaimResult:
        """Evaluate every part and combine their verdicts."""
        parts = [claim.evaluate(records, tier) for claim in self.claims]
        verdicts = {part.verdict for part in parts}
        if Verdict.FAILS in verdicts:
            verdict = Verdict.FAILS
        elif Verdict.INCONCLUSIVE in verdicts:
            verdict = Verdict.INCONCLUSIVE
        else:
            verdict = Verdict.HOLDS
        lead = next((p for p in parts if p.verdict is not Verdict.HOLDS), parts[0])
        holding = sum(p.verdict is Verdict.HOLDS for p in parts)
        detail = f"{holding} of {len(parts)} parts hold; first other: {lead.claim}: {lead.detail}"
        if verdict is Verdict.HOLDS:
            detail = f"all {len(parts)} parts hold"
        seeds = sorted({s for p in parts for s in p.seeds})
        return ClaimResult(
            self.name, verdict, lead.effect, lead.ci_low, lead.ci_high, seeds, detail, parts
        )
