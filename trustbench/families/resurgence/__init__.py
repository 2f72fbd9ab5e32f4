"""The resurgence family: erased concepts coming back after fine-tuning.

Reruns Suriyakumar, Alur, Sekhari, Raghavan and Wilson, "Unstable Unlearning: The Hidden
Risk of Concept Resurgence in Diffusion Models", arXiv 2410.08074 (2024).

Modules, in the order of a methods section:

- `concepts` (images and prompts), `text_encoder` and `model` (the base model);
- `checkpoint` and `train` (its committed weights), `classifier` and `quality` (the
  detector and the quality gate);
- `erasure` (building blocks of the methods in ``trustbench_baselines.resurgence``),
  `finetune`, `measure`, `data`, `scenarios` and `protocol` (the cell);
- `claims`, `plots`, and `paper` (Stable Diffusion v1.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trustbench.core.claims import Claim
from trustbench.core.family import CellResult, Family, MetricSpec, Scenario
from trustbench.core.method import Method
from trustbench.core.registry import register_family

CELL_THREADS = 1


class ResurgenceFamily(Family):
    """Erase a concept, fine-tune on other concepts, and measure whether it returns.

    Methods implement ``erase(model, target)``: they receive a copy of the base model (a
    `trustbench.families.resurgence.model.DiffusionModel`, or the Stable Diffusion
    adapter of `paper` at the paper tier) and an
    `trustbench.families.resurgence.erasure.ErasureTarget`, and return the erased model.
    A scenario may set ``erasure_params`` (for example ``{"lam": 100.0}``); they replace
    the method's own values of the parameters it declares.
    """

    name = "resurgence"
    title = (
        "Suriyakumar, Alur, Sekhari, Raghavan, Wilson, Unstable Unlearning: The Hidden Risk "
        "of Concept Resurgence in Diffusion Models, arXiv 2410.08074, 2024"
    )
    interface = ("erase",)
    seeds_by_tier = {"smoke": 3, "cpu": 5, "paper": 5}
    metrics = (
        MetricSpec(
            "resurgence_rate_normalised",
            None,
            "",
            "R(T) of detection over the control's rate: e.g. d_e(T)/d_c(T) - d_e(0)/d_c(0)",
        ),
        MetricSpec("loss_resurgence", None, "", "e(T) - e(0), e = erased loss gap / control's"),
        MetricSpec("resurgence_rate", None, "", "R(T) = detection rate at T minus at T = 0"),
        MetricSpec(
            "detection_erased_t0", False, "", "erased concept's detection right after erasure"
        ),
        MetricSpec("detection_erased_final", False, "", "erased concept's detection at the last T"),
        MetricSpec("detection_control_final", None, "", "the control's detection at the last T"),
        MetricSpec("detection_base", None, "", "the base model's detection rate (control, T=0)"),
        MetricSpec("erasure_drop", True, "", "control minus erased detection at T = 0"),
        MetricSpec("loss_signal_t0", False, "", "e(0): erased loss gap over the control's"),
        MetricSpec("loss_signal_final", False, "", "e(T) at the last T"),
        MetricSpec("loss_gap_raw_change", None, "", "g_erased(T) - g_erased(0), not normalised"),
        MetricSpec("kept_accuracy_t0", True, "", "kept concepts recognised after erasure"),
        MetricSpec("kept_accuracy_final", True, "", "kept concepts recognised at the last T"),
        MetricSpec("kept_accuracy_control_final", None, "", "the control's kept accuracy, last T"),
        MetricSpec("none_rate_final", False, "", "erased-prompt samples classified as no concept"),
        MetricSpec(
            "finetune_similarity",
            None,
            "",
            "cosine similarity of fine-tuning and erased prompts' text vectors",
        ),
        MetricSpec("gate_min_rate", True, "", "lowest per-concept rate of the quality gate"),
        MetricSpec("erase_seconds", False, "s", "wall time of erase"),
        MetricSpec("finetune_seconds", False, "s", "wall time of the erased model's fine-tuning"),
        MetricSpec("sampling_seconds", False, "s", "wall time of sampling, erased model"),
        MetricSpec("scoring_seconds", False, "s", "wall time of the loss probes, erased model"),
    )

    def scenarios(self, tier: str) -> list[Scenario]:
        """Return the scenarios of ``tier``."""
        from trustbench.families.resurgence.scenarios import scenarios_for

        return scenarios_for(tier)

    def run_cell(self, scenario: Scenario, method: Method, seed: int) -> CellResult:
        """Run one cell with `CELL_THREADS` torch thread(s)."""
        import torch

        from trustbench.families.resurgence.protocol import run_cell

        torch.set_num_threads(CELL_THREADS)
        return run_cell(scenario.config, method, seed, code=self.code_hash())

    def claims(self) -> list[Claim]:
        """Return the resurgence claims and their controls."""
        from trustbench.families.resurgence.claims import family_claims

        return family_claims()

    def plots(self, records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
        """Write resurgence curves and the sample grid into ``out_dir``."""
        from trustbench.families.resurgence.plots import write_plots

        return write_plots(records, Path(out_dir))


register_family(ResurgenceFamily())
