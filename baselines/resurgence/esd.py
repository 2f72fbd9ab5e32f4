"""Erased Stable Diffusion: fine-tuning against negatively guided noise predictions."""

from __future__ import annotations

import copy
import logging

import torch

import trustbench
from trustbench.families.resurgence.erasure import ErasureTarget

logger = logging.getLogger(__name__)


@trustbench.register_method("resurgence", "esd", kind="baseline")
class ErasedStableDiffusion(trustbench.Method):
    """ESD-x (Gandikota et al., ICCV 2023): fine-tune the cross-attention layers only.

    With ε* the frozen original model, c the erased prompt and ∅ the null prompt, the
    parameters of every ``attn2`` minimise::

        || ε(x_t, c, t) - [ε*(x_t, ∅, t) - η (ε*(x_t, c, t) - ε*(x_t, ∅, t))] ||²

    so the prompt pushes samples away from the concept. NOTE: ESD draws x_t by sampling
    the frozen model; here x_t is a noised example image of the concept, which needs no
    sampling loop.

    Parameters
    ----------
    eta : float
        η, the negative guidance scale.
    steps : int
        Optimiser steps.
    lr : float
        Adam learning rate.
    batch_size : int
        Images per step.
    """

    params = {
        "eta": trustbench.Param(float, 1.0, low=0.0),
        "steps": trustbench.Param(int, 60, low=1),
        "lr": trustbench.Param(float, 5e-4, low=0.0),
        "batch_size": trustbench.Param(int, 16, low=1),
    }

    def erase(self, model, target: ErasureTarget):
        """Return ``model`` with its cross-attention layers fine-tuned in place."""
        frozen = copy.deepcopy(model).requires_grad_(False)
        trained = [p for m in model.cross_attention_layers().values() for p in m.parameters()]
        for parameter in trained:
            parameter.requires_grad_(True)
        optimizer = torch.optim.Adam(trained, lr=self.lr)
        generator = torch.Generator().manual_seed(target.seed)
        with torch.no_grad():
            images = model.to_model_space(torch.from_numpy(target.images))
        with torch.no_grad():
            null = model.encode([""])
        for _ in range(self.steps):
            index = torch.randint(len(images), (self.batch_size,), generator=generator)
            with torch.no_grad():
                context = model.encode([target.image_prompts[i] for i in index])
            noise = torch.randn(images[index].shape, generator=generator)
            timesteps = torch.randint(
                0, model.config.train_timesteps, (self.batch_size,), generator=generator
            )
            noisy = model.scheduler.add_noise(images[index], noise, timesteps)
            with torch.no_grad():
                both = frozen.predict_noise(
                    torch.cat([noisy, noisy]),
                    torch.cat([timesteps] * 2),
                    torch.cat([null.expand_as(context), context]),
                )
                unconditional, conditional = both.chunk(2)
                goal = unconditional - self.eta * (conditional - unconditional)
            loss = torch.nn.functional.mse_loss(
                model.predict_noise(noisy, timesteps, context), goal
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.requires_grad_(False)
        return model
