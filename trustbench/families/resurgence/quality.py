"""The quality gate: a base model must draw every concept before anything is erased.

For each concept of `concepts.CONCEPTS`, ``n_per_concept`` samples from training-template
prompts are classified; the gate passes when every concept's recognition rate reaches
``threshold``. The result is stored next to the checkpoint (``NAME.gate.json``, keyed by
the checkpoint's SHA-256) so cells read it instead of sampling again. Run
``python -m trustbench.families.resurgence.quality`` to measure it for the committed model.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from trustbench.core.errors import TrustbenchError
from trustbench.families.resurgence.concepts import CONCEPTS
from trustbench.families.resurgence.measure import detection_prompts, sample_and_score

logger = logging.getLogger(__name__)

THRESHOLD = 0.8
GATE_SETTINGS = {"n_per_concept": 50, "seed": 12345, "sample_steps": 10, "guidance_scale": 1.5}


class QualityGateError(TrustbenchError):
    """The base model fails the quality gate."""


def gate_path(checkpoint: Path) -> Path:
    """Return the file that stores the gate result of ``checkpoint``."""
    return Path(checkpoint).with_suffix(".gate.json")


def measure_gate(
    model, classifier, *, n_per_concept: int, seed: int, sample_steps: int, guidance_scale: float
) -> dict[str, float]:
    """Return each concept's recognition rate among samples of its prompts."""
    rates = {}
    for index, concept in enumerate(CONCEPTS):
        prompts = detection_prompts(concept, n_per_concept, seed + index)
        scores = sample_and_score(
            model,
            classifier,
            prompts,
            seed=seed + index,
            steps=sample_steps,
            guidance_scale=guidance_scale,
        )
        rates[concept] = scores.rate(index)
    return rates


def write_gate(
    model,
    classifier,
    checkpoint: Path,
    *,
    threshold: float = THRESHOLD,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure the gate of ``model`` (loaded from ``checkpoint``) and store the result."""
    settings = dict(settings or GATE_SETTINGS)
    start = time.perf_counter()
    rates = measure_gate(model, classifier, **settings)
    result = {
        "sha256": model.sha256,
        "rates": rates,
        "threshold": threshold,
        "passed": bool(min(rates.values()) >= threshold),
        "settings": settings,
        "seconds": round(time.perf_counter() - start, 1),
    }
    path = gate_path(checkpoint)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(temporary, path)
    logger.info("quality gate of %s: %s", checkpoint, rates)
    return result


def require_gate(model, checkpoint: Path) -> dict[str, Any]:
    """Return the stored gate result of ``model`` or raise if it failed or is missing.

    Raises
    ------
    QualityGateError
        If no result for this checkpoint's SHA-256 is stored, or a concept's rate is
        below the threshold.
    """
    path = gate_path(checkpoint)
    if not path.is_file() or json.loads(path.read_text()).get("sha256") != model.sha256:
        raise QualityGateError(
            f"no quality-gate result for checkpoint {str(checkpoint)!r} (sha256 "
            f"{model.sha256[:12]}...); measure it with "
            f"`python -m trustbench.families.resurgence.quality --checkpoint {checkpoint}`"
        )
    result = json.loads(path.read_text())
    failing = {c: r for c, r in result["rates"].items() if r < result["threshold"]}
    if failing:
        concept, rate = min(failing.items(), key=lambda item: item[1])
        raise QualityGateError(
            f"base model {str(checkpoint)!r} fails the quality gate: samples of {concept!r} "
            f"are recognised at {rate:.0%}, below {result['threshold']:.0%} (failing: "
            f"{', '.join(sorted(failing))}); train it longer before erasing anything"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure and store the gate of a checkpoint from the command line."""
    import torch

    from trustbench.families.resurgence.checkpoint import load_model
    from trustbench.families.resurgence.classifier import DEFAULT_CLASSIFIER, load_classifier
    from trustbench.families.resurgence.train import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(description="Measure a base model's quality gate.")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--classifier", type=Path, default=DEFAULT_CLASSIFIER)
    parser.add_argument("--n-per-concept", type=int, default=GATE_SETTINGS["n_per_concept"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(1)
    settings = {**GATE_SETTINGS, "n_per_concept": args.n_per_concept}
    result = write_gate(
        load_model(args.checkpoint),
        load_classifier(args.classifier),
        args.checkpoint,
        settings=settings,
    )
    print(json.dumps(result, indent=2))
    print("mean rate", float(np.mean(list(result["rates"].values()))))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
