"""The data of one cell: the erasure target, the fine-tuning set and the loss probe.

All of it is a function of the scenario's configuration and the seed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from trustbench.families.resurgence import concepts
from trustbench.families.resurgence.concepts import (
    CONCEPTS,
    DIGITS,
    SHAPES,
    ConceptBatch,
    concept_prompts,
)
from trustbench.families.resurgence.erasure import ErasureTarget
from trustbench.families.resurgence.measure import replace_word

logger = logging.getLogger(__name__)

FINETUNE_TEMPLATES = {
    "finetune": (concepts.SHAPE_FINETUNE_TEMPLATES, concepts.DIGIT_FINETUNE_TEMPLATES),
    "digit_preserve": (concepts.SHAPE_PRESERVE_TEMPLATES, concepts.DIGIT_PRESERVE_TEMPLATES),
}


def check_concept(concept: str, vocabulary: tuple[str, ...]) -> None:
    """Raise `ValueError` unless ``concept`` is a known concept of the vocabulary."""
    if concept not in CONCEPTS or concept not in vocabulary:
        raise ValueError(
            f"erased concept {concept!r} is not a concept of the model's vocabulary; set "
            f"'concept' to one of {', '.join(CONCEPTS)}"
        )


def finetune_data(config: Mapping[str, Any], seed: int) -> ConceptBatch:
    """Return the fine-tuning images and captions, which never show the erased concept.

    Raises
    ------
    ValueError
        If the erased concept is among the fine-tuning concepts, a concept is unknown,
        or the set would be empty.
    """
    wanted = list(config["finetune_concepts"])
    if config["concept"] in wanted:
        raise ValueError(
            f"fine-tuning concepts {wanted} include the erased concept {config['concept']!r}; "
            "remove it, because fine-tuning data must exclude the erased concept"
        )
    unknown = [c for c in wanted if c not in CONCEPTS]
    if unknown:
        raise ValueError(f"unknown fine-tuning concept {unknown[0]!r}; choose from {CONCEPTS}")
    n = int(config["n_finetune_images"])
    if n < 1 or not wanted:
        raise ValueError(
            f"the fine-tuning set is empty (n_finetune_images={n}, finetune_concepts={wanted}); "
            "set at least one concept and one image"
        )
    shape_templates, digit_templates = FINETUNE_TEMPLATES[config["finetune_templates"]]
    shapes = tuple(c for c in wanted if c in SHAPES)
    digits = tuple(c for c in wanted if c in DIGITS.values())
    rng = np.random.default_rng(seed)
    n_shapes = round(n * len(shapes) / len(wanted))
    parts = []
    if shapes:
        parts.append(
            concepts.sample_shapes(n_shapes, rng, shapes=shapes, templates=shape_templates)
        )
    if digits:
        parts.append(
            concepts.sample_digits(n - n_shapes, rng, digits=digits, templates=digit_templates)
        )
    return concepts.concatenate(parts, rng)


def finetune_captions(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Return every caption the fine-tuning set can contain."""
    shape_templates, digit_templates = FINETUNE_TEMPLATES[config["finetune_templates"]]
    captions = []
    for concept in config["finetune_concepts"]:
        templates = shape_templates if concept in SHAPES else digit_templates
        captions.extend(concept_prompts(concept, templates))
    return tuple(dict.fromkeys(captions))


def preserve_prompts(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the prompts whose projections the erasure preserves, the null prompt first.

    ``"preserve"``: every other concept in the preservation templates. ``"finetune_exact"``:
    exactly the fine-tuning captions.
    """
    if config["preserve_templates"] == "finetune_exact":
        return ("", *finetune_captions(config))
    prompts = [""]
    for concept in CONCEPTS:
        if concept == config["concept"]:
            continue
        templates = (
            concepts.SHAPE_PRESERVE_TEMPLATES
            if concept in SHAPES
            else concepts.DIGIT_PRESERVE_TEMPLATES
        )
        prompts.extend(concept_prompts(concept, templates))
    return tuple(prompts)


def erasure_target(config: Mapping[str, Any], seed: int, vocabulary: tuple[str, ...]):
    """Return the `ErasureTarget` of a scenario."""
    concept, mapping = config["concept"], config["mapping_concept"]
    check_concept(concept, vocabulary)
    if mapping not in vocabulary:
        raise ValueError(
            f"mapping concept {mapping!r} is not in the text encoder's vocabulary; choose a "
            f"word of {', '.join(vocabulary)}"
        )
    # The erasure names the concept in every training phrasing; the fine-tuning captions
    # still bring phrasings and words that neither the erasure nor its preservation saw.
    templates = tuple(
        t
        for t in (
            concepts.SHAPE_TRAIN_TEMPLATES if concept in SHAPES else concepts.DIGIT_TRAIN_TEMPLATES
        )
        if "{shape}" in t or "{digit}" in t
    )
    prompts = concept_prompts(concept, templates)
    rng = np.random.default_rng(10_000 + seed)
    if concept in SHAPES:
        images = concepts.sample_shapes(
            int(config["n_erase_images"]), rng, shapes=(concept,), templates=templates
        )
    else:
        images = concepts.sample_digits(
            int(config["n_erase_images"]), rng, digits=(concept,), templates=templates
        )
    return ErasureTarget(
        concept=concept,
        prompts=prompts,
        anchor_prompts=tuple(replace_word(p, concept, mapping) for p in prompts),
        mapping_concept=mapping,
        preserve_prompts=preserve_prompts(config),
        images=images.images,
        masks=images.masks,
        image_prompts=images.prompts,
        exact_preservation=bool(config["exact_preservation"]),
        seed=seed,
    )


class CpuDomain:
    """The cpu tier's data and prompts for one scenario, as the protocol consumes them.

    The paper tier's `trustbench.families.resurgence.paper.PaperDomain` offers the same
    methods on local images and Stable Diffusion.

    Parameters
    ----------
    config : mapping
        The scenario's configuration.
    """

    none_label = len(CONCEPTS)

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.concept_label = (
            CONCEPTS.index(config["concept"]) if config["concept"] in CONCEPTS else -1
        )

    def erasure_target(self, seed: int, model) -> ErasureTarget:
        """Return the erasure target; see `erasure_target`."""
        return erasure_target(self.config, seed, tuple(model.config.words))

    def finetune_data(self, seed: int) -> ConceptBatch:
        """Return the fine-tuning set; see `finetune_data`."""
        return finetune_data(self.config, seed)

    def finetune_captions(self) -> tuple[str, ...]:
        """Return every caption of the fine-tuning set."""
        return finetune_captions(self.config)

    def probe(self, seed: int, model):
        """Return the loss probe of the erased concept, in the model's space."""
        from trustbench.families.resurgence.measure import make_probe

        return make_probe(
            self.config["concept"],
            self.config["mapping_concept"],
            int(self.config["n_probe"]),
            20_000 + seed,
            train_timesteps=model.config.train_timesteps,
        )

    def detection_prompts(self, seed: int) -> tuple[str, ...]:
        """Return the prompts whose samples count the erased concept."""
        from trustbench.families.resurgence.measure import detection_prompts

        return detection_prompts(
            self.config["concept"], int(self.config["n_detect"]), 30_000 + seed
        )

    def kept_prompts(self, seed: int) -> tuple[tuple[str, ...], np.ndarray]:
        """Return prompts of the kept concepts and their labels."""
        from trustbench.families.resurgence.measure import kept_prompts

        return kept_prompts(self.config["concept"], int(self.config["n_kept"]), 40_000 + seed)
