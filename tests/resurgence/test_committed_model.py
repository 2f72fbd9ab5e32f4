"""Checks of the committed base model, classifier and quality gate (about a minute)."""

import copy

import numpy as np
import pytest
import torch

from trustbench.core.registry import get_method
from trustbench.families.resurgence.classifier import DEFAULT_CLASSIFIER, load_classifier
from trustbench.families.resurgence.concepts import CONCEPTS
from trustbench.families.resurgence.data import CpuDomain
from trustbench.families.resurgence.measure import sample_and_score
from trustbench.families.resurgence.protocol import cpu_resources
from trustbench.families.resurgence.scenarios import scenarios_for
from trustbench.families.resurgence.train import DEFAULT_CHECKPOINT

#: Kept concepts must stay recognised at least this often right after erasure.
KEPT_ACCURACY_MIN = 0.6
#: How far the erased concept's detection rate must fall below the control's, per method.
#: uce with its defaults (lam = 1, s = 1) measured a drop of 0.42 on these prompts (seed 7).
DROP_MIN = {"mace": 0.5, "uce": 0.3}


@pytest.fixture(scope="module")
def committed():
    torch.set_num_threads(1)
    return cpu_resources(str(DEFAULT_CHECKPOINT), str(DEFAULT_CLASSIFIER))


def test_classifier_held_out_accuracy():
    classifier = load_classifier()
    assert classifier.recipe["held_out_accuracy"] >= 0.95


def test_committed_model_passes_gate(committed):
    _, _, gate = committed
    assert gate["passed"]
    assert min(gate["rates"].values()) >= gate["threshold"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["uce", "mace"])
def test_erasure_drops_detection_and_keeps_others(committed, name):
    model, classifier, _ = committed
    config = dict(scenarios_for("cpu")[0].config)
    domain = CpuDomain(config)
    erased = get_method("resurgence", name)().erase(
        copy.deepcopy(model), domain.erasure_target(0, model)
    )
    prompts = domain.detection_prompts(0)
    kept, labels = domain.kept_prompts(0)
    label = CONCEPTS.index(config["concept"])
    rates = {}
    for which, candidate in (("control", model), ("erased", erased)):
        scores = sample_and_score(
            candidate,
            classifier,
            (*prompts, *kept),
            seed=7,
            steps=config["sample_steps"],
            guidance_scale=config["guidance_scale"],
        )
        rates[which] = (
            float((scores.predictions[: len(prompts)] == label).mean()),
            float((scores.predictions[len(prompts) :] == np.asarray(labels)).mean()),
        )
    assert rates["erased"][0] <= rates["control"][0] - DROP_MIN[name], rates
    assert rates["erased"][1] >= KEPT_ACCURACY_MIN, rates
