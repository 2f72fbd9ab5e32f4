import copy

import numpy as np
import pytest
import torch

from trustbench.core.registry import get_method
from trustbench.families.resurgence.data import CpuDomain, erasure_target
from trustbench.families.resurgence.erasure import (
    closed_form_edit,
    exact_preserving_edit,
    token_matrix,
)
from trustbench.families.resurgence.finetune import FinetuneConfig, finetune
from trustbench.families.resurgence.scenarios import scenarios_for


def test_closed_form_edit_solves_normal_equations():
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(12, 6, generator=generator, dtype=torch.float64)
    erase = torch.randn(6, 9, generator=generator, dtype=torch.float64)
    targets = torch.randn(12, 9, generator=generator, dtype=torch.float64)
    preserve = torch.randn(6, 20, generator=generator, dtype=torch.float64)
    lam, s = 0.5, 2.0
    edited = closed_form_edit(weight, erase, targets, preserve, lam=lam, preservation_weight=s)
    lhs = lam * torch.eye(6, dtype=torch.float64) + erase @ erase.T + s * preserve @ preserve.T
    rhs = lam * weight + targets @ erase.T + s * weight @ preserve @ preserve.T
    residual = (edited @ lhs - rhs).abs().max().item()
    assert residual < 1e-10 * rhs.abs().max().item()


def test_uce_edit_on_model_solves_normal_equations(tiny_model, smoke_config):
    target = erasure_target(smoke_config, 0, tuple(tiny_model.config.words))
    original = copy.deepcopy(tiny_model)
    method = get_method("resurgence", "uce")(lam=0.3, preservation_weight=2.0)
    method.erase(tiny_model, target)
    erase = token_matrix(original, target.prompts)
    anchors = token_matrix(original, target.anchor_prompts)
    preserve = token_matrix(original, target.preserve_prompts)
    dim = erase.shape[0]
    lhs = 0.3 * torch.eye(dim, dtype=torch.float64) + erase @ erase.T + 2.0 * preserve @ preserve.T
    for layer in tiny_model.cross_attention_layers():
        for kind in ("to_k", "to_v"):
            before = original.unet.get_submodule(f"{layer}.{kind}").weight.double()
            after = tiny_model.unet.get_submodule(f"{layer}.{kind}").weight.double()
            rhs = 0.3 * before + before @ anchors @ erase.T + 2.0 * before @ preserve @ preserve.T
            residual = (after @ lhs - rhs).abs().max().item()
            assert residual < 1e-4 * rhs.abs().max().item(), (layer, kind, residual)
            assert not torch.allclose(after, before)


def test_exact_edit_keeps_preserved_outputs():
    generator = torch.Generator().manual_seed(1)
    weight = torch.randn(10, 8, generator=generator, dtype=torch.float64)
    erase = torch.randn(8, 5, generator=generator, dtype=torch.float64)
    targets = torch.randn(10, 5, generator=generator, dtype=torch.float64)
    preserve = torch.randn(8, 3, generator=generator, dtype=torch.float64)
    edited, basis = exact_preserving_edit(weight, erase, targets, preserve, lam=0.1)
    assert basis.shape == (8, 5)
    assert torch.allclose(edited @ preserve, weight @ preserve, atol=1e-10)
    assert (edited @ erase - targets).norm() < (weight @ erase - targets).norm()


def exact_config():
    found = {s.name: s for s in scenarios_for("smoke")}
    config = copy.deepcopy(dict(found["exact_preservation"].config))
    config["n_finetune_images"] = 32
    return config


def test_exact_preservation_trajectory_is_control_plus_edit(tiny_model):
    # Float64, because Adam turns float32 rounding noise in near-zero gradients (a bias
    # right before a group norm) into full-size steps.
    tiny_model = tiny_model.double()
    config = exact_config()
    domain = CpuDomain(config)
    target = domain.erasure_target(0, tiny_model)
    control = copy.deepcopy(tiny_model)
    erased = get_method("resurgence", "uce")().erase(copy.deepcopy(tiny_model), target)
    edit = {
        n: p - q
        for (n, p), q in zip(erased.unet.named_parameters(), control.unet.parameters(), strict=True)
    }
    changed = [n for n, delta in edit.items() if delta.abs().max() > 0]
    assert changed and all(n.endswith(("to_k.weight", "to_v.weight")) for n in changed)
    settings = FinetuneConfig(**{**config["finetune"], "steps": 6, "lr": 1e-3})
    data = domain.finetune_data(0)
    finetune(control, data, settings, seed=3)
    finetune(erased, data, settings, seed=3)
    for (name, after_erased), after_control in zip(
        erased.unet.named_parameters(), control.unet.parameters(), strict=True
    ):
        moved = (after_control - tiny_model.unet.get_parameter(name)).abs().max().item()
        assert moved > 0 or name in changed, name
        difference = (after_erased - after_control - edit[name]).abs().max().item()
        assert difference < 1e-9, (name, difference)


def test_inexact_preservation_trajectory_departs(tiny_model):
    tiny_model = tiny_model.double()
    config = exact_config()
    config["exact_preservation"] = False
    config["preserve_templates"] = "preserve"
    config["finetune"]["weight_decay"] = 0.0
    domain = CpuDomain(config)
    control = copy.deepcopy(tiny_model)
    erased = get_method("resurgence", "uce")().erase(
        copy.deepcopy(tiny_model), domain.erasure_target(0, tiny_model)
    )
    edit = {
        n: p - q
        for (n, p), q in zip(erased.unet.named_parameters(), control.unet.parameters(), strict=True)
    }
    settings = FinetuneConfig(**{**config["finetune"], "steps": 6, "lr": 1e-3})
    data = domain.finetune_data(0)
    finetune(control, data, settings, seed=3)
    finetune(erased, data, settings, seed=3)
    largest = max(
        (a - b - edit[n]).abs().max().item()
        for (n, a), b in zip(erased.unet.named_parameters(), control.unet.parameters(), strict=True)
    )
    assert largest > 1e-5


@pytest.mark.parametrize("name", ["mace", "esd", "none"])
def test_erasure_methods_run_on_tiny_model(tiny_model, smoke_config, name):
    smoke_config["n_erase_images"] = 8
    target = erasure_target(smoke_config, 0, tuple(tiny_model.config.words))
    params = {}
    if name == "mace":
        params = {"adapter_steps": 2}
    elif name == "esd":
        params = {"steps": 2}
    original = copy.deepcopy(tiny_model)
    erased = get_method("resurgence", name)(**params).erase(tiny_model, target)
    moved = max(
        (a - b).abs().max().item()
        for a, b in zip(erased.unet.parameters(), original.unet.parameters(), strict=True)
    )
    assert (moved == 0) == (name == "none")
    assert np.isfinite(moved)
