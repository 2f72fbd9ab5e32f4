"""The paper tier: the same cells on Stable Diffusion v1.4 from local files.

Nothing is downloaded. Paths come from `trustbench.core.config.data_path`:

- ``sd14`` (``TRUSTBENCH_DATA_SD14``): a diffusers folder as written by
  ``StableDiffusionPipeline.save_pretrained``: ``model_index.json``, ``unet/``,
  ``text_encoder/``, ``tokenizer/``, ``vae/`` and ``scheduler/``;
- ``clip`` (``TRUSTBENCH_DATA_CLIP``): a transformers CLIP folder (``config.json``, weights,
  tokenizer files), for example ``openai/clip-vit-base-patch32`` saved locally;
- ``resurgence_finetune`` and ``resurgence_concept``: image folders with a
  ``metadata.jsonl`` of ``{"file_name": ..., "text": ...}`` lines (the Hugging Face
  ``imagefolder`` layout). The first is the fine-tuning set; the second holds images of
  the erased concept (for MACE's adapters, ESD and the loss probe), with an optional
  ``"mask"`` file per line (white marks the concept; the whole image otherwise).

The erasure methods act on the UNet's cross-attention layers exactly as on the cpu tier;
detection is CLIP zero-shot classification over ``detector_labels`` plus a "none" label.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from trustbench.core.config import data_path
from trustbench.core.errors import TrustbenchError
from trustbench.families.resurgence.concepts import ConceptBatch
from trustbench.families.resurgence.erasure import ErasureTarget
from trustbench.families.resurgence.measure import LossProbe, replace_word
from trustbench.families.resurgence.model import Denoiser

logger = logging.getLogger(__name__)

PIPELINE_PARTS = ("model_index.json", "unet", "text_encoder", "tokenizer", "vae", "scheduler")
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class PaperTierError(TrustbenchError):
    """A local model or data folder of the paper tier is missing or malformed."""


def check_pipeline_dir(directory: Path) -> Path:
    """Return ``directory`` if it contains a diffusers Stable Diffusion folder, else raise."""
    directory = Path(directory)
    missing = [part for part in PIPELINE_PARTS if not (directory / part).exists()]
    if not directory.is_dir() or missing:
        raise PaperTierError(
            f"Stable Diffusion folder {str(directory)!r} is missing {', '.join(missing)}; "
            f"expected a diffusers layout with {', '.join(PIPELINE_PARTS)} (write it with "
            "StableDiffusionPipeline.save_pretrained) and TRUSTBENCH_DATA_SD14 pointing at it"
        )
    return directory


class StableDiffusionModel(Denoiser):
    """A Stable Diffusion pipeline behind the interface of the cpu tier's model.

    Images enter as pixels in [-1, 1] and are encoded to VAE latents; samples are
    decoded back to pixels.

    Parameters
    ----------
    pipeline : diffusers.StableDiffusionPipeline
        A loaded pipeline; its UNet, text encoder, tokenizer and VAE are used.
    """

    def __init__(self, pipeline) -> None:
        super().__init__()
        from diffusers import DDPMScheduler

        self.unet = pipeline.unet
        self.text_encoder = pipeline.text_encoder
        self.vae = pipeline.vae
        self.clip_tokenizer = pipeline.tokenizer
        self.scheduler = DDPMScheduler.from_config(pipeline.scheduler.config)
        self.config = SimpleNamespace(
            train_timesteps=self.scheduler.config.num_train_timesteps, words=None
        )
        factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        side = self.unet.config.sample_size
        self.latent_shape = (self.unet.config.in_channels, side, side)
        self.image_size = side * factor
        self.requires_grad_(False)

    def token_ids(self, prompts: Sequence[str]) -> torch.Tensor:
        """Return CLIP token ids padded to the tokenizer's maximum length."""
        return self.clip_tokenizer(
            list(prompts),
            padding="max_length",
            truncation=True,
            max_length=self.clip_tokenizer.model_max_length,
            return_tensors="pt",
        ).input_ids

    def encode(self, prompts: Sequence[str]) -> torch.Tensor:
        """Return the text encoder's last hidden states, (len(prompts), length, dim)."""
        return self.text_encoder(self.token_ids(prompts))[0]

    def to_model_space(self, images: torch.Tensor) -> torch.Tensor:
        """Encode pixel images in [-1, 1] to scaled VAE latents (the posterior mean)."""
        images = torch.nn.functional.interpolate(images, size=self.image_size, mode="bilinear")
        latents = self.vae.encode(images).latent_dist.mean
        return latents * self.vae.config.scaling_factor

    def from_model_space(self, samples: torch.Tensor) -> torch.Tensor:
        """Decode latents to pixel images in [-1, 1]."""
        return self.vae.decode(samples / self.vae.config.scaling_factor).sample.clamp(-1, 1)

    def concept_token_mask(self, prompts: Sequence[str], word: str) -> torch.Tensor:
        """Return a bool mask of the positions whose token belongs to ``word``."""
        word_ids = set(self.clip_tokenizer(word, add_special_tokens=False).input_ids)
        ids = self.token_ids(prompts)
        return torch.isin(ids, torch.tensor(sorted(word_ids), dtype=ids.dtype))


def load_stable_diffusion(directory: str | Path) -> StableDiffusionModel:
    """Load a local Stable Diffusion folder without network access."""
    from diffusers import StableDiffusionPipeline

    directory = check_pipeline_dir(Path(directory))
    pipeline = StableDiffusionPipeline.from_pretrained(
        str(directory), local_files_only=True, safety_checker=None, requires_safety_checker=False
    )
    return StableDiffusionModel(pipeline).eval()


class ClipZeroShotDetector:
    """CLIP zero-shot classification of samples over text labels.

    Parameters
    ----------
    directory : path
        A local transformers CLIP folder.
    labels : sequence of str
        One text label per class; the last is the "none of these" class.
    """

    def __init__(self, directory: str | Path, labels: Sequence[str]) -> None:
        from transformers import CLIPModel, CLIPTokenizer

        directory = Path(directory)
        if not (directory / "config.json").is_file():
            raise PaperTierError(
                f"CLIP folder {str(directory)!r} has no config.json; save a CLIP model and "
                "tokenizer there with save_pretrained and point TRUSTBENCH_DATA_CLIP at it"
            )
        self.model = CLIPModel.from_pretrained(str(directory), local_files_only=True).eval()
        tokenizer = CLIPTokenizer.from_pretrained(str(directory), local_files_only=True)
        tokens = tokenizer(list(labels), padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            text = self.model.get_text_features(**tokens)
        text = getattr(text, "pooler_output", text)
        self.text = torch.nn.functional.normalize(text, dim=-1)
        self.size = self.model.config.vision_config.image_size

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Return the index of the most similar label for each image in [-1, 1]."""
        pixels = torch.nn.functional.interpolate(
            (images + 1) / 2, size=self.size, mode="bicubic"
        ).clamp(0, 1)
        mean = torch.tensor(CLIP_MEAN)[:, None, None]
        std = torch.tensor(CLIP_STD)[:, None, None]
        features = self.model.get_image_features(pixel_values=(pixels - mean) / std)
        features = getattr(features, "pooler_output", features)
        return (torch.nn.functional.normalize(features, dim=-1) @ self.text.T).argmax(1)


def read_image_folder(directory: str | Path, *, size: int) -> tuple[ConceptBatch, list[str]]:
    """Read an image folder with ``metadata.jsonl`` into pixels in [-1, 1] of ``size``.

    Raises
    ------
    PaperTierError
        If the folder or its metadata is missing, or it lists no image.
    """
    from PIL import Image

    directory = Path(directory)
    metadata = directory / "metadata.jsonl"
    if not metadata.is_file():
        raise PaperTierError(
            f"image folder {str(directory)!r} has no metadata.jsonl; add one line "
            '{"file_name": "...", "text": "..."} per image'
        )
    rows = [json.loads(line) for line in metadata.read_text().splitlines() if line.strip()]
    if not rows:
        raise PaperTierError(f"image folder {str(directory)!r} lists no image; add images")
    images, masks, prompts = [], [], []
    for row in rows:
        picture = Image.open(directory / row["file_name"]).convert("RGB").resize((size, size))
        images.append(np.asarray(picture, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
        if "mask" in row:
            mask = Image.open(directory / row["mask"]).convert("L").resize((size, size))
            masks.append(np.asarray(mask) > 127)
        else:
            masks.append(np.ones((size, size), dtype=bool))
        prompts.append(str(row["text"]))
    batch = ConceptBatch(
        np.stack(images), np.stack(masks), np.zeros(len(rows), dtype=np.int64), tuple(prompts)
    )
    return batch, [row["file_name"] for row in rows]


class PaperDomain:
    """The paper tier's data and prompts, from local folders and the scenario's settings.

    The scenario's ``paper`` table sets ``concept`` (the erased word or phrase),
    ``erase_templates`` and ``preserve_prompts``. The detector's labels are
    ``detector_labels``, with the erased concept's label first and "none" last. Kept
    concepts are ``kept_prompts``, with their label indices ``kept_labels``.
    """

    def __init__(self, config: Mapping[str, Any], model: StableDiffusionModel) -> None:
        self.config = config
        self.settings = config["paper"]
        self.concept_label = 0
        self.none_label = len(self.settings["detector_labels"]) - 1
        self.model = model
        self.size = model.image_size

    @lru_cache(maxsize=2)  # noqa: B019 - one instance per cell
    def _folder(self, key: str) -> ConceptBatch:
        batch, _ = read_image_folder(data_path(self.settings[key]), size=self.size)
        return batch

    def _prompts(self, concept: str) -> tuple[str, ...]:
        return tuple(t.format(concept=concept) for t in self.settings["erase_templates"])

    def erasure_target(self, seed: int, model) -> ErasureTarget:
        """Return the erasure target of the configured concept."""
        concept, mapping = self.settings["concept"], self.config["mapping_concept"]
        images = self._folder("concept_key")
        return ErasureTarget(
            concept=concept,
            prompts=self._prompts(concept),
            anchor_prompts=self._prompts(mapping),
            mapping_concept=mapping,
            preserve_prompts=("", *self.settings["preserve_prompts"]),
            images=images.images,
            masks=images.masks,
            image_prompts=self._image_prompts(images),
            exact_preservation=bool(self.config["exact_preservation"]),
            seed=seed,
        )

    def _image_prompts(self, images: ConceptBatch) -> tuple[str, ...]:
        concept = self.settings["concept"]
        return tuple(p if concept in p else f"{p} {concept}" for p in images.prompts)

    def finetune_data(self, seed: int) -> ConceptBatch:
        """Return the local fine-tuning set."""
        return self._folder("finetune_key")

    def finetune_captions(self) -> tuple[str, ...]:
        """Return the fine-tuning captions."""
        return self._folder("finetune_key").prompts

    def probe(self, seed: int, model) -> LossProbe:
        """Return the loss probe on the concept folder's images (in pixel space)."""
        images = self._folder("concept_key")
        n = min(int(self.config["n_probe"]), len(images))
        generator = torch.Generator().manual_seed(20_000 + seed)
        pixels = torch.from_numpy(images.images[:n])
        prompts = self._image_prompts(images)[:n]
        steps = model.config.train_timesteps
        with torch.no_grad():
            shape = model.to_model_space(pixels[:1]).shape[1:]
        return LossProbe(
            images=pixels,
            noise=torch.randn((n, *shape), generator=generator),
            timesteps=torch.linspace(0.1 * steps, 0.9 * steps, n).round().long(),
            concept_prompts=prompts,
            anchor_prompts=tuple(
                replace_word(p, self.settings["concept"], self.config["mapping_concept"])
                for p in prompts
            ),
        )

    def detection_prompts(self, seed: int) -> tuple[str, ...]:
        """Return ``n_detect`` prompts of the erased concept, cycling through templates."""
        prompts = self._prompts(self.settings["concept"])
        return tuple(prompts[i % len(prompts)] for i in range(int(self.config["n_detect"])))

    def kept_prompts(self, seed: int) -> tuple[tuple[str, ...], np.ndarray]:
        """Return the configured kept prompts and labels."""
        return tuple(self.settings["kept_prompts"]), np.array(self.settings["kept_labels"])


@lru_cache(maxsize=1)
def _paper_model(directory: str) -> StableDiffusionModel:
    return load_stable_diffusion(directory)


def paper_resources(config: Mapping[str, Any]):
    """Return (Stable Diffusion model, CLIP detector, gate, domain) of a paper scenario.

    NOTE: the paper tier has no quality gate of its own; Stable Diffusion v1.4 is taken
    to draw the configured concepts, and the gate result is ``None``.
    """
    settings = config["paper"]
    model = _paper_model(str(data_path(settings.get("model_key", "sd14"))))
    detector = ClipZeroShotDetector(
        data_path(settings.get("clip_key", "clip")), settings["detector_labels"]
    )
    return model, detector, None, PaperDomain(config, model)
