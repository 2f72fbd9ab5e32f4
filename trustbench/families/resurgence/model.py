"""The cpu tier's text-to-image diffusion model.

A diffusers `UNet2DConditionModel` on 16x16 RGB images whose only cross-attention layers
work at 8x8 (the second down block, the middle block and the first up block), conditioned
on the token vectors of `TextEncoder`. Training minimises the DDPM noise-prediction loss
(epsilon parametrisation, squared-cosine schedule of 1000 steps); sampling runs DDIM with
classifier-free guidance against the null prompt.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DConditionModel
from torch import nn

from trustbench.families.resurgence.concepts import IMAGE_SIZE, vocabulary
from trustbench.families.resurgence.text_encoder import PromptTokenizer, TextEncoder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes the architecture; stored in every checkpoint.

    Attributes
    ----------
    words : tuple of str
        Vocabulary of the text encoder.
    max_length : int
        Token positions per prompt.
    text_dim, text_layers, text_heads : int
        Text encoder width, depth and heads; ``text_dim`` is the cross-attention width.
    channels : tuple of int
        UNet block widths at 16x16 and 8x8.
    attention_head_dim : int
        Width of one cross-attention head.
    train_timesteps : int
        Length of the DDPM noise schedule.
    """

    words: tuple[str, ...] = field(default_factory=vocabulary)
    max_length: int = 10
    text_dim: int = 64
    text_layers: int = 2
    text_heads: int = 4
    channels: tuple[int, int] = (32, 64)
    attention_head_dim: int = 16
    train_timesteps: int = 1000

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Build a configuration from `to_dict`'s output."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(
                f"unknown model configuration keys {unknown}; expected {sorted(names)}"
            )
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def build_unet(config: ModelConfig) -> UNet2DConditionModel:
    """Return a freshly initialised UNet with cross-attention at 8x8 only."""
    return UNet2DConditionModel(
        sample_size=IMAGE_SIZE,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=tuple(config.channels),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=config.text_dim,
        attention_head_dim=config.attention_head_dim,
        norm_num_groups=8,
    )


def build_scheduler(config: ModelConfig) -> DDPMScheduler:
    """Return the DDPM training schedule."""
    return DDPMScheduler(
        num_train_timesteps=config.train_timesteps,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="epsilon",
        clip_sample=True,
    )


class Denoiser(nn.Module):
    """Noise prediction, denoising loss and guided DDIM sampling shared by both tiers.

    A subclass sets ``unet``, ``scheduler`` (DDPM), ``config.train_timesteps`` and
    ``latent_shape`` and writes ``encode``, ``to_model_space``, ``from_model_space`` and
    ``concept_token_mask``.
    """

    latent_shape: tuple[int, int, int]

    def predict_noise(
        self, noisy: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor
    ) -> torch.Tensor:
        """Return the UNet's noise prediction for images (batch, 3, 16, 16)."""
        return self.unet(noisy, timesteps, encoder_hidden_states=context).sample

    def denoising_loss(
        self,
        images: torch.Tensor,
        context: torch.Tensor,
        noise: torch.Tensor,
        timesteps: torch.Tensor,
        *,
        reduce: bool = True,
    ) -> torch.Tensor:
        """Return the squared error of the noise prediction at the given noise and steps.

        With ``reduce=False`` the result has one value per image.
        """
        noisy = self.scheduler.add_noise(images, noise, timesteps)
        error = (self.predict_noise(noisy, timesteps, context) - noise) ** 2
        return error.mean() if reduce else error.flatten(1).mean(1)

    @torch.no_grad()
    def sample(
        self,
        prompts: Sequence[str],
        *,
        generator: torch.Generator,
        steps: int = 25,
        guidance_scale: float = 1.5,
    ) -> torch.Tensor:
        """Generate one image per prompt with DDIM and classifier-free guidance.

        Returns
        -------
        torch.Tensor
            Pixel images of shape (len(prompts), 3, H, W) in [-1, 1].
        """
        ddim = DDIMScheduler.from_config(self.scheduler.config)
        ddim.set_timesteps(steps)
        context = self.encode(list(prompts))
        null = self.encode([""]).expand_as(context)
        both = torch.cat([null, context])
        images = torch.randn(
            (len(prompts), *self.latent_shape), generator=generator, dtype=context.dtype
        )
        for t in ddim.timesteps:
            unconditional, conditional = self.predict_noise(
                torch.cat([images, images]), t.expand(2 * len(prompts)), both
            ).chunk(2)
            guided = unconditional + guidance_scale * (conditional - unconditional)
            images = ddim.step(guided, t, images).prev_sample
        return self.from_model_space(images)

    def cross_attention_layers(self) -> dict[str, nn.Module]:
        """Return the UNet's cross-attention modules (``attn2``) by name."""
        return {
            name: module
            for name, module in self.unet.named_modules()
            if name.endswith("attn2") and getattr(module, "is_cross_attention", False)
        }


class DiffusionModel(Denoiser):
    """Text encoder, UNet and noise schedule of the cpu tier's text-to-image model.

    Parameters
    ----------
    config : ModelConfig
        The architecture.
    """

    latent_shape = (3, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = PromptTokenizer(config.words, config.max_length)
        self.text_encoder = TextEncoder(
            len(self.tokenizer),
            config.max_length,
            config.text_dim,
            config.text_layers,
            config.text_heads,
        )
        self.unet = build_unet(config)
        self.scheduler = build_scheduler(config)

    def encode(self, prompts: Sequence[str]) -> torch.Tensor:
        """Return token vectors of shape (len(prompts), max_length, text_dim)."""
        return self.text_encoder(self.tokenizer(prompts))

    def to_model_space(self, images: torch.Tensor) -> torch.Tensor:
        """Return images in the space the UNet denoises: pixels in [-1, 1] here."""
        return images

    def from_model_space(self, samples: torch.Tensor) -> torch.Tensor:
        """Return pixel images in [-1, 1] for samples of the UNet's space."""
        return samples.clamp(-1.0, 1.0)

    def concept_token_mask(self, prompts: Sequence[str], word: str) -> torch.Tensor:
        """Return a (len(prompts), max_length) bool mask of the positions of ``word``."""
        return self.tokenizer(list(prompts)) == self.tokenizer.ids[word]
