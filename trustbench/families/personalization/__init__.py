"""The personalization family: fair use of group attributes in clinical prediction.

Reruns Suriyakumar, Ghassemi and Ustun, "When Personalization Harms: Reconsidering the Use of
Group Attributes in Prediction", ICML 2023. The modules follow a methods section. `data`
holds the tables and group attributes, `models` the four model classes, and `interface` what
a method receives and implements. `metrics` computes per-group metrics, gains and the
envy-freeness matrix, and `fairuse` the bootstrap tests with Holm's correction. `protocol`
runs one cell; `scenarios`, `claims`, `plots` and `report` (leaderboard tables) follow.
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
from trustbench.families.personalization.interface import INTERFACE


class PersonalizationFamily(Family):
    """Generic, personalized and assigned models audited for rationality and envy-freeness.

    Methods implement ``fit(problem)``, which receives a
    `trustbench.families.personalization.interface.PersonalizationProblem`, and
    ``predict_proba(features, groups)``, which returns the probability of label 1 for rows
    reporting ``groups``.
    """

    name = "personalization"
    title = (
        "Suriyakumar, Ghassemi and Ustun, When Personalization Harms: Reconsidering the Use "
        "of Group Attributes in Prediction, ICML 2023"
    )
    interface = INTERFACE
    seeds_by_tier = {"smoke": 3, "cpu": 3, "paper": 5}
    metrics = (
        MetricSpec("any_violation", False, "",
                   "1 if some group has a significant violation (Holm-corrected)"),
        MetricSpec("rationality_violations", False, "groups",
                   "groups worse off than with the generic model (Holm-corrected)"),
        MetricSpec("rationality_violations_uncorrected", False, "groups",
                   "the same without Holm's correction"),
        MetricSpec("envy_violations", False, "pairs",
                   "(group, reported group) pairs better off misreporting (Holm-corrected)"),
        MetricSpec("envy_violations_uncorrected", False, "pairs",
                   "the same without Holm's correction"),
        MetricSpec("worst_gain", True, "", "smallest gain over the generic model of any group"),
        MetricSpec("mean_gain", True, "", "mean gain over the generic model across groups"),
        MetricSpec("test_auc", True, "", "AUC of the method on all held-out rows"),
        MetricSpec("test_auc_generic", True, "", "AUC of the generic model on the same rows"),
        MetricSpec("groups_tested", None, "groups", "groups with both labels in held-out rows"),
        MetricSpec("groups_skipped", None, "groups", "groups skipped, with reasons in info"),
    )  # fmt: skip

    def scenarios(self, tier: str) -> list[Scenario]:
        """Return one scenario per (data set x model class) of ``tier``."""
        from trustbench.families.personalization.scenarios import build_scenarios

        return build_scenarios(tier)

    def run_cell(self, scenario: Scenario, method: Method, seed: int) -> CellResult:
        """Fit ``method`` and audit its fair use on ``scenario`` with ``seed``, one thread."""
        from trustbench.families.personalization.protocol import run_cell

        with threadpool_limits(limits=1):
            return run_cell(scenario.config, method, seed)

    def claims(self) -> list[Claim]:
        """Return the fair-use claim and its two parts."""
        from trustbench.families.personalization.claims import build_claims

        return build_claims()

    def plots(self, records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
        """Write one picture of per-group gains per data set."""
        from trustbench.families.personalization.plots import plot_all

        return plot_all(records, Path(out_dir))

    def tables(
        self, records: Sequence[Mapping[str, Any]], tier: str
    ) -> list[tuple[str, list[str], list[list[Any]]]]:
        """Return the violation counts and per-group gains as (title, headers, rows) tables."""
        from trustbench.families.personalization.report import gain_table, violation_table

        return [violation_table(records, tier), gain_table(records, tier)]


register_family(PersonalizationFamily())
