"""A small family and methods used by the harness tests, loaded as a plugin file.

The family ``demo`` estimates the mean of a Gaussian sample; each method returns an
estimate, and the cell reports its absolute error. Methods that misbehave on purpose test
the runner's isolation of failures.
"""

from __future__ import annotations

import os
import time

import numpy as np

from trustbench import Method, Param, register_method
from trustbench.core.claims import ComparisonClaim, ThresholdClaim
from trustbench.core.family import CellResult, Family, MetricSpec, Scenario
from trustbench.core.registry import register_family


class DemoFamily(Family):
    name = "demo"
    title = "Demo family for harness tests"
    interface = ("estimate",)
    metrics = (MetricSpec("abs_error", higher_is_better=False),)
    seeds_by_tier = {"smoke": 3, "cpu": 4, "paper": 4}

    def scenarios(self, tier):
        size = {"smoke": 50, "cpu": 200, "paper": 1000}[tier]
        return [Scenario("gauss", {"n": size, "sleep": float(os.environ.get("DEMO_SLEEP", "0"))})]

    def run_cell(self, scenario, method, seed):
        rng = np.random.default_rng(seed)
        sample = rng.normal(1.0, 1.0, size=scenario.config["n"])
        time.sleep(scenario.config["sleep"])
        estimate = method.estimate(sample)
        return CellResult({"abs_error": abs(estimate - 1.0), "estimate": estimate})

    def claims(self):
        return [
            ThresholdClaim(
                name="mean_accurate",
                statement="the sample mean is within 0.5 of the truth",
                source="demo",
                metric="abs_error",
                method="mean",
                scenario="gauss",
                threshold=0.5,
                direction="below",
                expected={"smoke": "holds", "cpu": "holds"},
            ),
            ComparisonClaim(
                name="mean_beats_zero",
                statement="the mean beats the constant zero",
                source="demo",
                metric="abs_error",
                method="mean",
                baseline="zero",
                scenario="gauss",
                direction="lower",
                expected={"smoke": "holds"},
            ),
        ]


register_family(DemoFamily())


@register_method("demo", "mean", kind="proposed")
class Mean(Method):
    params = {"shift": Param(float, 0.0, doc="added to the estimate")}

    def estimate(self, sample):
        return float(np.mean(sample)) + self.shift


@register_method("demo", "zero", kind="reference")
class Zero(Method):
    def estimate(self, sample):
        return 0.0
