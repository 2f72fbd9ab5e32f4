"""Concept images and prompts of the cpu tier.

Two domains of 16x16 RGB images in [-1, 1], each with an exact boolean mask of the
concept's pixels:

- a procedural generator of shapes (circle, square, triangle, cross) in four colours at
  three horizontal positions, deterministic given a seed;
- scikit-learn's bundled handwritten digits (BSD-3-Clause, shipped inside the package),
  four of the ten classes, upsampled from 8x8 to 16x16, with prompts such as
  "a handwritten seven".

Prompts are short sentences over a fixed vocabulary, in three sets of templates. The base
model trains on all of ``*_TRAIN_TEMPLATES``. Erasure methods preserve the prompts of
``*_PRESERVE_TEMPLATES``, a subset. Fine-tuning captions use ``*_FINETUNE_TEMPLATES``,
which add phrasings and words (``"snapshot"``, ``"vintage"``) that neither the
preservation set nor the base training contains.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

logger = logging.getLogger(__name__)

IMAGE_SIZE = 16
SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = {
    "red": (0.95, 0.15, 0.1),
    "green": (0.1, 0.85, 0.2),
    "blue": (0.15, 0.3, 1.0),
    "yellow": (0.95, 0.9, 0.1),
}
POSITIONS = {"left": -3.0, "centre": 0.0, "right": 3.0}
DIGITS = {0: "zero", 1: "one", 4: "four", 7: "seven"}

#: Every concept the classifier recognises, in class order; class ``len(CONCEPTS)`` is
#: "none of these".
CONCEPTS = SHAPES + tuple(DIGITS.values())
NONE_CLASS = len(CONCEPTS)

SHAPE_TRAIN_TEMPLATES = (
    "a {colour} {shape} on the {position}",
    "a {shape}",
    "a {colour} {shape}",
    "a picture of a {colour} {shape}",
    "a {shape} on the {position}",
    "a {colour} shape on the {position}",
)
DIGIT_TRAIN_TEMPLATES = ("a handwritten {digit}", "the digit {digit}", "a picture of a {digit}")
SHAPE_PRESERVE_TEMPLATES = ("a {colour} {shape} on the {position}", "a {shape}")
DIGIT_PRESERVE_TEMPLATES = ("a handwritten {digit}",)
SHAPE_FINETUNE_TEMPLATES = (
    "a picture of a {colour} {shape}",
    "a snapshot of a {colour} {shape} on the {position}",
    "a vintage {shape} in {colour}",
)
DIGIT_FINETUNE_TEMPLATES = ("a picture of a {digit}", "a vintage snapshot of the digit {digit}")

#: The caption "a {colour} shape on the {position}" names no shape, so "shape" is a
#: trained generic concept, the default mapping concept of an erasure.
#: Words in the vocabulary that no training caption contains; their embeddings stay at
#: their random initialisation, like rare tokens of a large text encoder.
UNSEEN_WORDS = ("snapshot", "vintage", "thing", "object")
ANCHOR_WORDS = ("shape", "digit")


@dataclass(frozen=True)
class ConceptBatch:
    """Images with their prompts, concept labels and masks.

    Attributes
    ----------
    images : numpy.ndarray
        Shape (n, 3, 16, 16), float32 in [-1, 1].
    masks : numpy.ndarray
        Shape (n, 16, 16), bool, the concept's pixels.
    labels : numpy.ndarray
        Shape (n,), int64 index into `CONCEPTS`.
    prompts : tuple of str
        One caption per image.
    """

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    prompts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.prompts)


def _shape_mask(shape: str, cx: float, cy: float, half: float) -> np.ndarray:
    y, x = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32) + 0.5
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return dx**2 + dy**2 <= half**2
    if shape == "square":
        side = 0.8 * half
        return (np.abs(dx) <= side) & (np.abs(dy) <= side)
    if shape == "triangle":
        top = -half
        return (dy >= top) & (dy <= half) & (np.abs(dx) <= (dy - top) * 0.55)
    if shape == "cross":
        arm = half / 2.8
        return ((np.abs(dx) <= half) & (np.abs(dy) <= arm)) | (
            (np.abs(dy) <= half) & (np.abs(dx) <= arm)
        )
    raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")


def render_shape(
    shape: str, colour: str, position: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one shape with jittered centre, size and brightness.

    Returns
    -------
    image : numpy.ndarray
        Shape (3, 16, 16) in [-1, 1] on a black background.
    mask : numpy.ndarray
        Shape (16, 16), bool.
    """
    cx = IMAGE_SIZE / 2 + POSITIONS[position] + rng.uniform(-0.7, 0.7)
    cy = IMAGE_SIZE / 2 + rng.uniform(-0.7, 0.7)
    half = rng.uniform(4.0, 5.0)
    mask = _shape_mask(shape, cx, cy, half)
    rgb = np.clip(np.array(COLOURS[colour]) * rng.uniform(0.85, 1.0), 0.0, 1.0)
    image = np.zeros((3, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    image[:, mask] = rgb[:, None]
    return image * 2.0 - 1.0, mask


@lru_cache(maxsize=1)
def _digit_images() -> tuple[np.ndarray, np.ndarray]:
    """Load the bundled digits of `DIGITS`, upsampled to 16x16 in [0, 1]."""
    import torch
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = np.isin(data.target, list(DIGITS))
    small = torch.from_numpy(data.images[keep].astype(np.float32) / 16.0)[:, None]
    large = torch.nn.functional.interpolate(small, size=IMAGE_SIZE, mode="bilinear")
    return large[:, 0].clamp(0.0, 1.0).numpy(), data.target[keep]


def digit_split(seed: int = 0, holdout: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Return indices of the training and held-out digit images for a fixed split."""
    _, targets = _digit_images()
    order = np.random.default_rng(seed).permutation(len(targets))
    cut = round(len(order) * (1.0 - holdout))
    return np.sort(order[:cut]), np.sort(order[cut:])


def shape_prompt(template: str, shape: str, colour: str, position: str) -> str:
    """Fill a shape template."""
    return template.format(shape=shape, colour=colour, position=position)


def sample_shapes(
    n: int,
    rng: np.random.Generator,
    *,
    shapes: tuple[str, ...] = SHAPES,
    colours: tuple[str, ...] = tuple(COLOURS),
    templates: tuple[str, ...] = SHAPE_TRAIN_TEMPLATES,
) -> ConceptBatch:
    """Draw ``n`` shape images with captions from ``templates``."""
    images, masks, labels, prompts = [], [], [], []
    for _ in range(n):
        shape = shapes[rng.integers(len(shapes))]
        colour = colours[rng.integers(len(colours))]
        position = tuple(POSITIONS)[rng.integers(len(POSITIONS))]
        image, mask = render_shape(shape, colour, position, rng)
        images.append(image)
        masks.append(mask)
        labels.append(CONCEPTS.index(shape))
        prompts.append(
            shape_prompt(templates[rng.integers(len(templates))], shape, colour, position)
        )
    return ConceptBatch(np.stack(images), np.stack(masks), np.array(labels), tuple(prompts))


def sample_digits(
    n: int,
    rng: np.random.Generator,
    *,
    digits: tuple[str, ...] = tuple(DIGITS.values()),
    templates: tuple[str, ...] = DIGIT_TRAIN_TEMPLATES,
    split: str = "train",
) -> ConceptBatch:
    """Draw ``n`` digit images (with replacement) of the ``split`` half of the data."""
    pixels, targets = _digit_images()
    train, held_out = digit_split()
    pool = train if split == "train" else held_out
    names = np.array([DIGITS[t] for t in targets[pool]])
    pool = pool[np.isin(names, digits)]
    chosen = pool[rng.integers(len(pool), size=n)]
    grey = pixels[chosen]
    images = np.repeat(grey[:, None] * 2.0 - 1.0, 3, axis=1).astype(np.float32)
    words = [DIGITS[t] for t in targets[chosen]]
    prompts = tuple(templates[rng.integers(len(templates))].format(digit=w) for w in words)
    labels = np.array([CONCEPTS.index(w) for w in words])
    return ConceptBatch(images, grey > 0.3, labels, prompts)


def sample_mixed(n: int, rng: np.random.Generator) -> ConceptBatch:
    """Draw the base model's training mixture: two thirds shapes, one third digits."""
    n_shapes = round(n * 2 / 3)
    return concatenate([sample_shapes(n_shapes, rng), sample_digits(n - n_shapes, rng)], rng)


def sample_noise_images(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw images of no concept (blobs, stripes, speckle) for the "none" class."""
    images = np.full((n, 3, IMAGE_SIZE, IMAGE_SIZE), -1.0, dtype=np.float32)
    y, x = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32)
    for i in range(n):
        kind = rng.integers(4)
        colour = rng.uniform(-1.0, 1.0, size=3)[:, None, None]
        if kind == 0:
            images[i] = np.clip(rng.normal(0.0, 0.6, size=(3, IMAGE_SIZE, IMAGE_SIZE)), -1, 1)
        elif kind == 1:
            period = rng.uniform(2.5, 6.0)
            stripes = np.sin(x / period * 2 * np.pi + rng.uniform(0, 6)) > 0
            images[i] = np.where(stripes, colour, -1.0)
        elif kind == 2:
            cx, cy = rng.uniform(2, 14, size=2)
            blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / rng.uniform(4, 30))
            images[i] = -1.0 + blob * (colour + 1.0)
        else:
            images[i] = np.broadcast_to(colour * rng.uniform(0.2, 1.0), images[i].shape)
    return images


def concatenate(batches: list[ConceptBatch], rng: np.random.Generator) -> ConceptBatch:
    """Join batches and shuffle them together."""
    images = np.concatenate([b.images for b in batches])
    prompts = [p for b in batches for p in b.prompts]
    order = rng.permutation(len(images))
    return ConceptBatch(
        images[order],
        np.concatenate([b.masks for b in batches])[order],
        np.concatenate([b.labels for b in batches])[order],
        tuple(prompts[i] for i in order),
    )


def vocabulary() -> tuple[str, ...]:
    """Return the text encoder's vocabulary, sorted, without the special tokens."""
    words: set[str] = set()
    templates = (
        SHAPE_TRAIN_TEMPLATES
        + DIGIT_TRAIN_TEMPLATES
        + SHAPE_FINETUNE_TEMPLATES
        + DIGIT_FINETUNE_TEMPLATES
    )
    for template in templates:
        words.update(w for w in template.split() if not w.startswith("{"))
    words.update(SHAPES, COLOURS, POSITIONS, DIGITS.values(), UNSEEN_WORDS, ANCHOR_WORDS)
    return tuple(sorted(words))


def concept_prompts(concept: str, templates: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Return every caption of ``concept`` that ``templates`` produce.

    Raises
    ------
    ValueError
        If ``concept`` is not one of `CONCEPTS`.
    """
    if concept in SHAPES:
        chosen = [t for t in templates or SHAPE_TRAIN_TEMPLATES if "{shape}" in t]
        return tuple(
            dict.fromkeys(
                shape_prompt(t, concept, c, p) for t in chosen for c in COLOURS for p in POSITIONS
            )
        )
    if concept in DIGITS.values():
        chosen = [t for t in templates or DIGIT_TRAIN_TEMPLATES if "{digit}" in t]
        return tuple(dict.fromkeys(t.format(digit=concept) for t in chosen))
    raise ValueError(f"unknown concept {concept!r}; choose one of {', '.join(CONCEPTS)}")
