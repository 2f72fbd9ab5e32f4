"""Train the cpu tier's base text-to-image model.

Run ``python -m trustbench.families.resurgence.train --out PATH.safetensors``. The model
learns the DDPM loss on a fixed pool of generator shapes and training-split digits with
every caption of the training templates; 10% of captions are dropped to the null prompt
so that classifier-free guidance works. Weights are averaged (EMA) and the average is
saved, atomically, every ``--save-every`` steps and at the end, with the command line,
seed, data and configuration as the recipe.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from trustbench.families.resurgence.checkpoint import save_model
from trustbench.families.resurgence.concepts import sample_mixed
from trustbench.families.resurgence.model import DiffusionModel, ModelConfig

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
DEFAULT_CHECKPOINT = ASSETS / "base_model.safetensors"
PROMPT_DROPOUT = 0.1


def learning_rate(step: int, *, total: int, peak: float, warmup: int = 200) -> float:
    """Return the learning rate at ``step``: linear warm-up, then cosine decay to peak/10."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def train_base_model(
    out: Path,
    *,
    steps: int,
    batch_size: int,
    peak_lr: float,
    seed: int,
    pool_size: int,
    ema_decay: float,
    save_every: int,
    config: ModelConfig,
    command: str,
) -> DiffusionModel:
    """Train a model and write its EMA weights to ``out``; return the EMA model."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    pool = sample_mixed(pool_size, rng)
    images = torch.from_numpy(pool.images)
    model = DiffusionModel(config).train()
    average = DiffusionModel(config).eval().requires_grad_(False)
    average.load_state_dict(model.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=1e-4)

    recipe = {
        "command": command,
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "peak_lr": peak_lr,
        "ema_decay": ema_decay,
        "prompt_dropout": PROMPT_DROPOUT,
        "data": f"{pool_size} images from concepts.sample_mixed with seed {seed}",
        "torch": torch.__version__,
    }

    start = time.perf_counter()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, total=steps, peak=peak_lr)
        index = rng.integers(len(images), size=batch_size)
        prompts = ["" if rng.random() < PROMPT_DROPOUT else pool.prompts[i] for i in index]
        batch = images[index]
        timesteps = torch.from_numpy(rng.integers(config.train_timesteps, size=batch_size))
        loss = model.denoising_loss(
            batch, model.encode(prompts), torch.randn_like(batch), timesteps
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            for kept, live in zip(average.parameters(), model.parameters(), strict=True):
                kept.lerp_(live, 1.0 - ema_decay)
        if (step + 1) % 100 == 0:
            elapsed = time.perf_counter() - start
            logger.info("step %d/%d loss %.4f (%.0f s)", step + 1, steps, loss.item(), elapsed)
        if (step + 1) % save_every == 0 or step + 1 == steps:
            recipe["steps_done"] = step + 1
            recipe["train_seconds"] = round(time.perf_counter() - start, 1)
            save_model(average, out, recipe)
    return average


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="checkpoint to write (.safetensors; a .json sidecar goes next to it)",
    )
    parser.add_argument("--steps", type=int, default=7000, help="optimiser steps")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, noise and weights")
    parser.add_argument("--pool-size", type=int, default=30000, help="training images")
    parser.add_argument("--ema-decay", type=float, default=0.999, help="weight averaging decay")
    parser.add_argument("--save-every", type=int, default=500, help="steps between saves")
    parser.add_argument(
        "--channels", type=int, nargs=2, default=(32, 64), help="UNet widths at 16x16 and 8x8"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    config = ModelConfig(channels=tuple(args.channels))
    train_base_model(
        args.out,
        steps=args.steps,
        batch_size=args.batch_size,
        peak_lr=args.lr,
        seed=args.seed,
        pool_size=args.pool_size,
        ema_decay=args.ema_decay,
        save_every=args.save_every,
        config=config,
        command="python -m trustbench.families.resurgence.train " + " ".join(sys.argv[1:]),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
