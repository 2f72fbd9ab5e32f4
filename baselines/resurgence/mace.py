"""Mass concept erasure: closed-form refinement, attention adapters, closed-form fusion."""

from __future__ import annotations

import logging

import torch

import trustbench
from trustbench.families.resurgence.erasure import (
    ErasureTarget,
    closed_form_edit,
    projection,
    token_matrix,
    train_attention_adapters,
)
from trustbench_baselines.resurgence.uce import edit_projections

logger = logging.getLogger(__name__)


@trustbench.register_method("resurgence", "mace", kind="proposed")
class MassConceptErasure(trustbench.Method):
    """MACE (Lu et al., CVPR 2024), the method whose erasures the resurgence paper breaks.

    1. Closed-form refinement of every cross-attention ``to_k`` and ``to_v``, as in
       `uce`: W₁ = (λW + V* Cᵀ + s W Cp Cpᵀ)(λI + C Cᵀ + s Cp Cpᵀ)⁻¹, with V* the
       projections of the anchor prompts (mapping concept) and Cp the token vectors of
       the prompts to preserve.
    2. One low-rank adapter per concept, ΔWᵢ = Bᵢ Aᵢ of rank r on each ``to_k``, trained
       for ``adapter_steps`` Adam steps at ``adapter_lr`` to minimise the attention that
       pixels inside the concept's mask pay to the concept word.
    3. Closed-form fusion of the adapters into one weight per layer,
       W₂ = (λW₁ + Σᵢ (W₁ + ΔWᵢ) Cᵢ Cᵢᵀ + s W₁ Cp Cpᵀ)(λI + Σᵢ Cᵢ Cᵢᵀ + s Cp Cpᵀ)⁻¹,
       so each concept's tokens get their adapter's keys while preserved tokens keep W₁'s.

    This benchmark erases one concept per run, so the sum in step 3 has one term.

    Parameters
    ----------
    lam : float
        λ of steps 1 and 3 (erasure regularisation).
    preservation_weight : float
        s of steps 1 and 3.
    rank : int
        r, the adapters' rank.
    adapter_steps : int
        Optimiser steps of each adapter.
    adapter_lr : float
        Adam learning rate of the adapters.
    """

    params = {
        "lam": trustbench.Param(float, 1.0, low=1e-8),
        "preservation_weight": trustbench.Param(float, 1.0, low=0.0),
        "rank": trustbench.Param(int, 1, low=1),
        "adapter_steps": trustbench.Param(int, 40, low=0),
        "adapter_lr": trustbench.Param(float, 1e-2, low=0.0),
    }

    def erase(self, model, target: ErasureTarget):
        """Return ``model`` with the three steps applied in place."""
        _, preserve_tokens = edit_projections(
            model, target, lam=self.lam, preservation_weight=self.preservation_weight
        )
        if self.adapter_steps == 0:
            return model
        adapters = train_attention_adapters(
            model, target, rank=self.rank, steps=self.adapter_steps, lr=self.adapter_lr
        )
        concept_tokens = token_matrix(model, target.prompts)
        for name, delta in adapters.items():
            linear = projection(model, name)
            refined = linear.weight.data
            targets = (refined + delta).double() @ concept_tokens
            fused = closed_form_edit(
                refined,
                concept_tokens,
                targets,
                preserve_tokens,
                lam=self.lam,
                preservation_weight=self.preservation_weight,
            )
            with torch.no_grad():
                linear.weight.copy_(fused)
        return model
