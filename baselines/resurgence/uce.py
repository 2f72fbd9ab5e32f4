"""Unified concept editing: a closed-form edit of the cross-attention projections."""

from __future__ import annotations

import logging

import torch

import trustbench
from trustbench.families.resurgence.erasure import (
    ErasureTarget,
    closed_form_edit,
    exact_preserving_edit,
    projection,
    token_matrix,
)

logger = logging.getLogger(__name__)


def edit_projections(model, target: ErasureTarget, *, lam: float, preservation_weight: float):
    """Apply the closed-form edit to every ``to_k`` and ``to_v`` of ``attn2`` in place.

    Returns the token matrices (C, Cp) used, for callers that refine further.
    """
    erase_tokens = token_matrix(model, target.prompts)
    anchor_tokens = token_matrix(model, target.anchor_prompts)
    preserve_tokens = token_matrix(model, target.preserve_prompts)
    for layer in model.cross_attention_layers():
        for kind in ("to_k", "to_v"):
            linear = projection(model, f"{layer}.{kind}")
            weight = linear.weight.data
            targets = weight.double() @ anchor_tokens
            if target.exact_preservation:
                new, _ = exact_preserving_edit(
                    weight, erase_tokens, targets, preserve_tokens, lam=lam
                )
            else:
                new = closed_form_edit(
                    weight,
                    erase_tokens,
                    targets,
                    preserve_tokens,
                    lam=lam,
                    preservation_weight=preservation_weight,
                )
            with torch.no_grad():
                linear.weight.copy_(new)
    return erase_tokens, preserve_tokens


@trustbench.register_method("resurgence", "uce", kind="baseline")
class UnifiedConceptEditing(trustbench.Method):
    """Closed-form edit of the key and value projections (Gandikota et al., WACV 2024).

    For each cross-attention projection W (``to_k`` and ``to_v``), with C the token
    vectors of the erased prompts, V* = W C_a the outputs of the same tokens of the
    anchor prompts (the erased word replaced by the mapping concept) and Cp the token
    vectors of the prompts to preserve::

        W' = (λW + V* Cᵀ + s W Cp Cpᵀ)(λI + C Cᵀ + s Cp Cpᵀ)⁻¹

    With ``target.exact_preservation`` the edit is instead restricted to the orthogonal
    complement of span(Cp) (see ``exact_preserving_edit``), so W'Cp = W Cp exactly.

    Parameters
    ----------
    lam : float
        λ, the pull towards the original weights (erasure regularisation).
    preservation_weight : float
        s, the weight of the preserved prompts' outputs.
    """

    params = {
        "lam": trustbench.Param(float, 1.0, low=1e-8),
        "preservation_weight": trustbench.Param(float, 1.0, low=0.0),
    }

    def erase(self, model, target: ErasureTarget):
        """Return ``model`` with its projections edited in place."""
        edit_projections(model, target, lam=self.lam, preservation_weight=self.preservation_weight)
        return model
