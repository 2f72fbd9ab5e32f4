"""Building blocks of the erasure methods in ``trustbench_baselines.resurgence``.

An erasure edits a `DiffusionModel`'s cross-attention layers (``attn2``: the only place
the prompt enters the UNet). The closed-form edits act on the key and value projections
``to_k`` and ``to_v``, matrices W of shape (inner_dim, text_dim) applied to the text
encoder's token vectors c. This module provides:

- `ErasureTarget`: what to erase, what to map it to, what to preserve, and example images
  with masks;
- `token_matrix`: the token vectors of a list of prompts as columns;
- `closed_form_edit`: the regularised least-squares edit shared by UCE and MACE's first
  stage, and `exact_preserving_edit`, its variant constrained to leave preserved tokens'
  projections unchanged;
- `train_attention_adapters`: MACE's second stage, one low-rank adapter on ``to_k`` per
  concept trained to remove the concept tokens' attention inside the concept's mask;
- `AttentionRecorder`: an attention processor that keeps the attention probabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErasureTarget:
    """Everything an erasure method receives about the concept to erase.

    Attributes
    ----------
    concept : str
        The concept word, for example ``"circle"``.
    prompts : tuple of str
        Captions that name the concept.
    anchor_prompts : tuple of str
        The same captions with the concept word replaced by the mapping concept, one per
        prompt; an erased prompt should behave like its anchor.
    mapping_concept : str
        The word that replaces the concept (a trained concept or an unseen word).
    preserve_prompts : tuple of str
        Captions whose projections the edit should keep (other concepts, null prompt).
    images : numpy.ndarray
        Images of the concept, shape (n, 3, 16, 16) in [-1, 1].
    masks : numpy.ndarray
        Their concept pixels, shape (n, 16, 16), bool.
    image_prompts : tuple of str
        One caption from ``prompts`` per image.
    exact_preservation : bool
        Whether a closed-form edit must leave every preserved token's projection exactly
        unchanged (the negative-control scenario) rather than trade it off with a weight.
    seed : int
        Seed for any randomness of the erasure.
    """

    concept: str
    prompts: tuple[str, ...]
    anchor_prompts: tuple[str, ...]
    mapping_concept: str
    preserve_prompts: tuple[str, ...]
    images: np.ndarray
    masks: np.ndarray
    image_prompts: tuple[str, ...]
    exact_preservation: bool = False
    seed: int = 0


@torch.no_grad()
def token_matrix(model, prompts: Sequence[str]) -> torch.Tensor:
    """Return the token vectors of ``prompts`` as columns, shape (text_dim, n * max_length).

    Columns are ordered prompt by prompt, position by position, so the matrices of two
    prompt lists of equal length pair tokens at the same position. Float64.
    """
    vectors = model.encode(list(prompts))
    return vectors.reshape(-1, vectors.shape[-1]).T.double()


def closed_form_edit(
    weight: torch.Tensor,
    erase_tokens: torch.Tensor,
    targets: torch.Tensor,
    preserve_tokens: torch.Tensor,
    *,
    lam: float,
    preservation_weight: float,
) -> torch.Tensor:
    """Return W' = (λW + V* Cᵀ + s W Cp Cpᵀ)(λI + C Cᵀ + s Cp Cpᵀ)⁻¹.

    W' minimises ``||W'C - V*||² + s ||W'Cp - W Cp||² + λ ||W' - W||²``, so it solves the
    normal equations ``W'(λI + CCᵀ + s CpCpᵀ) = λW + V*Cᵀ + s W CpCpᵀ``.

    Parameters
    ----------
    weight : torch.Tensor
        W, shape (out, d).
    erase_tokens : torch.Tensor
        C, shape (d, n), token vectors to remap.
    targets : torch.Tensor
        V*, shape (out, n), the outputs they should map to.
    preserve_tokens : torch.Tensor
        Cp, shape (d, m), token vectors whose outputs should stay.
    lam : float
        λ > 0, the pull towards the original weights (the erasure's regularisation).
    preservation_weight : float
        s >= 0.

    Returns
    -------
    torch.Tensor
        W' in the dtype of ``weight``.
    """
    if lam <= 0:
        raise ValueError(f"invalid regularisation lam={lam!r}; expected a positive number")
    w = weight.double()
    preserved = preserve_tokens @ preserve_tokens.T
    lhs = lam * torch.eye(w.shape[1], dtype=w.dtype) + erase_tokens @ erase_tokens.T
    lhs = lhs + preservation_weight * preserved
    rhs = lam * w + targets @ erase_tokens.T + preservation_weight * w @ preserved
    # W' lhs = rhs with lhs symmetric, so W'ᵀ = lhs⁻¹ rhsᵀ.
    return torch.linalg.solve(lhs, rhs.T).T.to(weight.dtype)


def exact_preserving_edit(
    weight: torch.Tensor,
    erase_tokens: torch.Tensor,
    targets: torch.Tensor,
    preserve_tokens: torch.Tensor,
    *,
    lam: float,
    rtol: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the closed-form edit constrained to W'Cp = W Cp, and the basis Q it uses.

    The edit is ΔW = A Qᵀ with Q an orthonormal basis of the complement of span(Cp), so
    preserved tokens' outputs cannot change. A minimises ``||(W + AQᵀ)C - V*||² + λ||A||²``
    and solves ``A (QᵀC CᵀQ + λI) = (V* - WC) CᵀQ``.

    Directions whose singular value in Cp is at least ``rtol`` times the largest count as
    preserved. By default ``rtol`` is 10 * d * the machine epsilon of ``weight``'s dtype, so
    that rounding noise in Cp does not leave a direction open to the edit.

    Returns
    -------
    new_weight : torch.Tensor
        W + A Qᵀ in the dtype of ``weight``.
    basis : torch.Tensor
        Q, shape (d, k), float64; k = 0 when Cp spans every direction, and then the edit
        is zero.
    """
    w = weight.double()
    if rtol is None:
        rtol = 10 * w.shape[1] * torch.finfo(weight.dtype).eps
    u, singular, _ = torch.linalg.svd(preserve_tokens, full_matrices=True)
    rank = int((singular > rtol * singular.max()).sum()) if singular.numel() else 0
    basis = u[:, rank:]
    if basis.shape[1] == 0:
        logger.warning(
            "preserved tokens span all %d directions; the exact edit is zero", w.shape[1]
        )
        return weight.clone(), basis
    projected = basis.T @ erase_tokens
    lhs = projected @ projected.T + lam * torch.eye(basis.shape[1], dtype=w.dtype)
    rhs = (targets - w @ erase_tokens) @ projected.T
    adapter = torch.linalg.solve(lhs, rhs.T).T
    return (w + adapter @ basis.T).to(weight.dtype), basis


class AttentionRecorder:
    """Attention processor that computes plain attention and keeps its probabilities.

    Attributes
    ----------
    maps : list of torch.Tensor
        One tensor per call, shape (batch * heads, queries, tokens).
    """

    def __init__(self) -> None:
        self.maps: list[torch.Tensor] = []

    def __call__(
        self,
        attn,
        hidden_states,
        encoder_hidden_states=None,
        attention_mask=None,
        temb=None,
        **kwargs,
    ):
        """Return the attention output of ``attn`` and record its probabilities."""
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))
        key = attn.head_to_batch_dim(attn.to_k(context))
        value = attn.head_to_batch_dim(attn.to_v(context))
        probabilities = attn.get_attention_scores(query, key, None)
        self.maps.append(probabilities)
        output = attn.batch_to_head_dim(torch.bmm(probabilities, value))
        return attn.to_out[1](attn.to_out[0](output))


def mask_on_grid(masks: torch.Tensor, queries: int) -> torch.Tensor:
    """Resize masks (n, 1, H, W) to the square attention grid of ``queries`` pixels.

    Returns a float tensor of shape (n, queries) with values in [0, 1].
    """
    side = round(queries**0.5)
    return torch.nn.functional.interpolate(masks, size=(side, side), mode="area").flatten(1)


def train_attention_adapters(
    model,
    target: ErasureTarget,
    *,
    rank: int,
    steps: int,
    lr: float,
    batch_size: int = 16,
) -> dict[str, torch.Tensor]:
    """Train a rank-``rank`` adapter ΔW = BA on every ``to_k`` of ``attn2``.

    The loss is the attention that queries inside the concept's mask (downsampled to the
    attention grid) pay to the concept word's token, summed over those queries and
    averaged over layers and heads, at random noise levels. Returns ΔW per layer name
    (``"<layer>.to_k"``); the model itself is left unchanged.
    """
    generator = torch.Generator().manual_seed(target.seed)
    layers = model.cross_attention_layers()
    originals = {f"unet.{n}.to_k.weight": m.to_k.weight.detach() for n, m in layers.items()}
    factors = {}
    for name, weight in originals.items():
        down = torch.randn(rank, weight.shape[1], generator=generator) / weight.shape[1] ** 0.5
        factors[name] = (
            torch.zeros(weight.shape[0], rank, requires_grad=True),
            down.requires_grad_(True),
        )
    optimizer = torch.optim.Adam([p for pair in factors.values() for p in pair], lr=lr)
    recorder = AttentionRecorder()
    saved = {name: module.processor for name, module in layers.items()}
    for module in layers.values():
        module.set_processor(recorder)
    images = model.to_model_space(torch.from_numpy(target.images))
    masks = torch.from_numpy(target.masks).float()[:, None]
    try:
        for _ in range(steps):
            index = torch.randint(len(images), (min(batch_size, len(images)),), generator=generator)
            prompts = [target.image_prompts[i] for i in index]
            positions = model.concept_token_mask(prompts, target.concept).float()
            noise = torch.randn(images[index].shape, generator=generator)
            timesteps = torch.randint(
                0, model.config.train_timesteps // 2, (len(index),), generator=generator
            )
            noisy = model.scheduler.add_noise(images[index], noise, timesteps)
            with torch.no_grad():
                context = model.encode(prompts)
            weights = {name: originals[name] + up @ down for name, (up, down) in factors.items()}
            recorder.maps.clear()
            functional_call(
                model.unet,
                {k.removeprefix("unet."): v for k, v in weights.items()},
                (noisy, timesteps),
                {"encoder_hidden_states": context},
                strict=False,
            )
            loss = torch.zeros(())
            for probabilities in recorder.maps:
                heads = probabilities.shape[0] // len(index)
                maps = probabilities.reshape(len(index), heads, *probabilities.shape[1:])
                on_concept = (maps * positions[:, None, None, :]).sum(-1)
                grid = mask_on_grid(masks[index], maps.shape[2])
                loss = loss + (on_concept * grid[:, None, :]).sum((1, 2)).mean() / heads
            loss = loss / len(recorder.maps)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        for name, module in layers.items():
            module.set_processor(saved[name])
    logger.debug("attention adapters trained for %d steps, final loss %.4f", steps, loss.item())
    return {
        name.removeprefix("unet.").removesuffix(".weight"): (up @ down).detach()
        for name, (up, down) in factors.items()
    }


def projection(model, name: str) -> torch.nn.Linear:
    """Return the linear layer ``name`` (for example ``"<layer>.to_k"``) of the UNet."""
    return model.unet.get_submodule(name)
