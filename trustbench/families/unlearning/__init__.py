"""The unlearning family: online data removal for non-smooth regularisers.

Reruns Suriyakumar and Wilson, "Algorithms that Approximate Data Removal: New Results and
Limitations", NeurIPS 2022. Modules, in the order of a methods section: `data`,
`objectives` (the target F_{-D}), `solvers`, `jackknife` and `lowrank` (building blocks
of the methods in ``trustbench_baselines.unlearning``), `deletions`, `protocol`, `tuning`
(claim b), `scenarios`, `claims` and `plots`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from trustbench.core.claims import Claim
from trustbench.core.family import CellResult, Family, MetricSpec, Scenario
from trustbench.core.method import Method
from trustbench.core.registry import register_family


class UnlearningFamily(Family):
    """Deletion streams on l1, elastic-net and nuclear-norm regularised models.

    Methods implement ``fit(problem)``, which receives a
    `trustbench.families.unlearning.objectives.Problem` with the full-data solution, and
    ``delete(indices)``, which receives the indices of one batch and returns the estimate
    after every deletion so far.
    """

    name = "unlearning"
    title = (
        "Suriyakumar and Wilson, Algorithms that Approximate Data Removal: New Results and "
        "Limitations, NeurIPS 2022"
    )
    interface = ("fit", "delete")
    seeds_by_tier = {"smoke": 3, "cpu": 5, "paper": 5}
    metrics = (
        MetricSpec("seconds_per_batch", False, "s", "mean wall time of one delete call"),
        MetricSpec("setup_seconds", False, "s", "wall time of fit"),
        MetricSpec(
            "speedup_vs_retrain",
            True,
            "x",
            "retrain's median seconds per batch over the method's, same cell and batches",
        ),
        MetricSpec(
            "peak_memory_bytes",
            False,
            "B",
            "largest memory allocated during one delete call (tracemalloc)",
        ),
        MetricSpec("state_bytes", False, "B", "arrays the method keeps after fit"),
        MetricSpec(
            "distance_final", False, "", "relative distance to retrain after the last batch"
        ),
        MetricSpec("distance_mean", False, "", "relative distance to retrain, mean over batches"),
        MetricSpec(
            "distance_ratio_to_noop",
            False,
            "",
            "mean distance to retrain over noop's mean distance",
        ),
        MetricSpec("support_f1", True, "", "F1 of the support (rank) against retrain's"),
        MetricSpec("objective_gap", False, "", "F_{-D}(theta) - F_{-D}(theta_retrain), last batch"),
        MetricSpec("test_score", True, "", "test accuracy, or R^2 for regression, last batch"),
        MetricSpec(
            "lambda_change_rate",
            None,
            "",
            "CV scenarios: fraction of batches where retraining with CV picks another lam",
        ),
        MetricSpec(
            "lambda_shift_se",
            None,
            "",
            "CV scenarios: CV score gain of the new lam over the old, in standard errors",
        ),
        MetricSpec(
            "cv_distance_ratio",
            None,
            "",
            "CV scenarios: distance to retrain-with-CV over distance to retrain at old lam",
        ),
    )

    def scenarios(self, tier: str) -> list[Scenario]:
        """Return the scenarios of ``tier``."""
        from trustbench.families.unlearning.scenarios import scenarios_for

        return scenarios_for(tier)

    def run_cell(self, scenario: Scenario, method: Method, seed: int) -> CellResult:
        """Run ``method`` on ``scenario`` with ``seed`` with one BLAS thread."""
        from trustbench.families.unlearning.protocol import build_problem, run_stream
        from trustbench.families.unlearning.tuning import run_cv

        with threadpool_limits(limits=1):
            if scenario.config.get("protocol") == "cv":
                return run_cv(method, scenario.config, seed)
            problem = build_problem(scenario.config, seed)
            return run_stream(problem, method, scenario.config, seed)

    def claims(self) -> list[Claim]:
        """Return claims (a) and (b)."""
        from trustbench.families.unlearning.claims import family_claims

        return family_claims()

    def plots(self, records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
        """Write runtime-against-deletions and distance-ratio plots into ``out_dir``."""
        from trustbench.families.unlearning.plots import write_plots

        return write_plots(records, Path(out_dir))


register_family(UnlearningFamily())
