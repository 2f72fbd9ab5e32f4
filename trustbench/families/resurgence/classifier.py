"""The concept classifier that scores generated samples on the cpu tier.

A small CNN with one class per concept of `concepts.CONCEPTS` plus "none of these",
trained by the suite on generator shapes, training-split digits and images of no
concept (stripes, blobs, speckle, flat colour), with one-pixel shifts and Gaussian
pixel noise as augmentation. Its accuracy on fresh generator images, the held-out
digits and fresh non-concept images is stored in the checkpoint's recipe. Run
``python -m trustbench.families.resurgence.classifier`` to retrain the committed copy.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trustbench.families.resurgence.checkpoint import load_state, save_state
from trustbench.families.resurgence.concepts import (
    CONCEPTS,
    NONE_CLASS,
    ConceptBatch,
    concatenate,
    sample_digits,
    sample_noise_images,
    sample_shapes,
)

logger = logging.getLogger(__name__)

DEFAULT_CLASSIFIER = Path(__file__).parent / "assets" / "classifier.safetensors"
CLASSES = (*CONCEPTS, "none")


class ConceptClassifier(nn.Module):
    """Three convolutions and a linear layer over 16x16 RGB images in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, len(CLASSES)),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Return logits of shape (batch, len(CLASSES))."""
        return self.layers(images)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Return the predicted class index of each image."""
        return self(images).argmax(1)


def labelled_data(n: int, rng: np.random.Generator, *, split: str) -> ConceptBatch:
    """Return ``n`` images: 45% shapes, 30% digits of ``split``, 25% of no concept."""
    n_shapes, n_digits = int(0.45 * n), int(0.3 * n)
    n_none = n - n_shapes - n_digits
    none = ConceptBatch(
        sample_noise_images(n_none, rng),
        np.zeros((n_none, 16, 16), dtype=bool),
        np.full(n_none, NONE_CLASS),
        ("",) * n_none,
    )
    parts = [sample_shapes(n_shapes, rng), sample_digits(n_digits, rng, split=split), none]
    return concatenate(parts, rng)


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shift by up to one pixel and add Gaussian noise of standard deviation 0.1."""
    dx, dy = torch.randint(-1, 2, (2,), generator=generator).tolist()
    shifted = torch.roll(images, shifts=(dy, dx), dims=(2, 3))
    return shifted + 0.1 * torch.randn(shifted.shape, generator=generator)


def train_classifier(
    out: Path, *, steps: int = 1500, batch_size: int = 128, seed: int = 0
) -> tuple[ConceptClassifier, float]:
    """Train, measure held-out accuracy, save to ``out``; return the model and accuracy."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    train = labelled_data(20000, rng, split="train")
    images, labels = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    model = ConceptClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    start = time.perf_counter()
    for _ in range(steps):
        index = torch.from_numpy(rng.integers(len(images), size=batch_size))
        logits = model(augment(images[index], generator))
        loss = nn.functional.cross_entropy(logits, labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    held_out = labelled_data(4000, np.random.default_rng(seed + 1), split="held_out")
    predicted = model.eval().predict(torch.from_numpy(held_out.images)).numpy()
    accuracy = float((predicted == held_out.labels).mean())
    per_class = {
        name: float((predicted[held_out.labels == i] == i).mean()) for i, name in enumerate(CLASSES)
    }

    recipe = {
        "command": "python -m trustbench.families.resurgence.classifier",
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "train_seconds": round(time.perf_counter() - start, 1),
        "held_out_accuracy": accuracy,
        "held_out_accuracy_per_class": per_class,
        "classes": list(CLASSES),
    }
    save_state(out, model.state_dict(), config={"classes": list(CLASSES)}, recipe=recipe)
    logger.info("classifier held-out accuracy %.4f per class %s", accuracy, per_class)
    return model.requires_grad_(False), accuracy


def load_classifier(path: str | Path = DEFAULT_CLASSIFIER) -> ConceptClassifier:
    """Return the classifier stored at ``path`` in evaluation mode."""
    state, description = load_state(path, expected_config={"classes": list(CLASSES)})
    model = ConceptClassifier()
    model.load_state_dict(state)
    model.recipe = description["recipe"]
    return model.eval().requires_grad_(False)


def main(argv: list[str] | None = None) -> int:
    """Retrain the classifier from the command line."""
    parser = argparse.ArgumentParser(description="Train the cpu tier's concept classifier.")
    parser.add_argument("--out", type=Path, default=DEFAULT_CLASSIFIER, help="output file")
    parser.add_argument("--steps", type=int, default=1500, help="optimiser steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of data and weights")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(1)
    train_classifier(args.out, steps=args.steps, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
