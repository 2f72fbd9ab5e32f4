"""Ordinary fine-tuning after erasure: full (every UNet weight) or LoRA adapters via peft.

The text encoder stays frozen, as in common Stable Diffusion fine-tuning scripts. Given the
same seed, two models see the same images, captions, prompt dropout, noise and timesteps
in the same order, which is what makes the un-erased control comparable step by step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from trustbench.families.resurgence.concepts import ConceptBatch

logger = logging.getLogger(__name__)

LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of one fine-tuning run.

    Attributes
    ----------
    mode : {"full", "lora"}
        Train every UNet weight, or rank-``lora_rank`` peft adapters on the attention
        projections (``to_q``, ``to_k``, ``to_v``, ``to_out.0``) of both attention layers.
    lr : float
        AdamW learning rate (0 keeps the weights fixed: the no-drift control).
    weight_decay : float
        AdamW's decoupled weight decay.
    steps : int
        Optimiser steps T.
    batch_size : int
        Images per step.
    lora_rank : int
        Adapter rank in ``lora`` mode (alpha equals the rank).
    prompt_dropout : float
        Probability that a caption is replaced by the null prompt.
    """

    mode: str = "full"
    lr: float = 2e-4
    weight_decay: float = 1e-2
    steps: int = 100
    batch_size: int = 16
    lora_rank: int = 4
    prompt_dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.mode not in ("full", "lora"):
            raise ValueError(f"invalid fine-tuning mode {self.mode!r}; expected 'full' or 'lora'")
        if self.steps < 0 or self.batch_size < 1:
            raise ValueError(
                f"invalid fine-tuning steps={self.steps!r} or batch_size={self.batch_size!r}; "
                "expected steps >= 0 and batch_size >= 1"
            )


def trainable_parameters(model, config: FinetuneConfig, seed: int) -> list[torch.nn.Parameter]:
    """Prepare ``model`` for fine-tuning in place and return the parameters to train.

    In ``lora`` mode peft adds adapters to the UNet. Their initialisation is seeded with
    ``seed``, so the erased model and its control start from the same adapters.
    """
    model.requires_grad_(False)
    if config.mode == "full":
        model.unet.requires_grad_(True)
        return list(model.unet.parameters())
    from peft import LoraConfig

    torch.manual_seed(seed)
    model.unet.add_adapter(
        LoraConfig(
            r=config.lora_rank,
            lora_alpha=config.lora_rank,
            target_modules=list(LORA_TARGETS),
            init_lora_weights="gaussian",
        )
    )
    return [p for n, p in model.unet.named_parameters() if "lora_" in n and p.requires_grad]


def finetune(
    model,
    data: ConceptBatch,
    config: FinetuneConfig,
    *,
    seed: int,
    eval_steps: Sequence[int] = (),
    evaluate: Callable[[int], None] | None = None,
) -> None:
    """Fine-tune ``model`` in place on ``data`` with the DDPM loss.

    Parameters
    ----------
    model : DiffusionModel
        The model to train.
    data : ConceptBatch
        Images and captions; it must not be empty.
    config : FinetuneConfig
        Optimiser settings.
    seed : int
        Seeds the data order, dropout, noise and timesteps.
    eval_steps : sequence of int
        Steps after which ``evaluate(step)`` is called (0 is before the first step).
    evaluate : callable, optional
        Called with the step count; the model is in evaluation mode without gradients.

    Raises
    ------
    ValueError
        If ``data`` is empty.
    """
    if len(data) == 0:
        raise ValueError(
            "the fine-tuning set is empty; pass at least one image with its caption "
            "(check the scenario's finetune_concepts and n_finetune_images)"
        )
    parameters = trainable_parameters(model, config, seed)
    optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    dtype = next(model.unet.parameters()).dtype
    with torch.no_grad():
        images = model.to_model_space(torch.from_numpy(data.images).to(dtype))
        null = model.encode([""])
    wanted = set(eval_steps)

    def check(step: int) -> None:
        if evaluate is not None and step in wanted:
            model.eval()
            with torch.no_grad():
                evaluate(step)

    check(0)
    for step in range(1, config.steps + 1):
        index = torch.randint(len(images), (config.batch_size,), generator=generator)
        drop = torch.rand(config.batch_size, generator=generator) < config.prompt_dropout
        noise = torch.randn((config.batch_size, *images.shape[1:]), generator=generator).to(dtype)
        timesteps = torch.randint(
            0, model.config.train_timesteps, (config.batch_size,), generator=generator
        )
        with torch.no_grad():
            context = model.encode([data.prompts[i] for i in index])
            context = torch.where(drop[:, None, None], null.expand_as(context), context)
        model.unet.train()
        loss = model.denoising_loss(images[index], context, noise, timesteps)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        check(step)
    model.eval().requires_grad_(False)
