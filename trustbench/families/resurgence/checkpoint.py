"""Save and load models as safetensors with their configuration, recipe and hash.

A checkpoint ``NAME.safetensors`` stores the weights and, in its metadata, the JSON of
the configuration and of the recipe (command, seed, data, steps) that produced it. A
sidecar ``NAME.json`` repeats both and adds the file's SHA-256, which `load_state`
checks before reading any tensor. Writes go to a temporary file that replaces the
target in one `os.replace`, so a reader never sees half a checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from trustbench.core.errors import TrustbenchError

logger = logging.getLogger(__name__)


class CheckpointError(TrustbenchError):
    """A checkpoint is missing, corrupt or built for another configuration."""


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_path(path: Path) -> Path:
    """Return the JSON file that describes checkpoint ``path``."""
    return Path(path).with_suffix(".json")


def save_state(
    path: str | Path,
    state: Mapping[str, torch.Tensor],
    *,
    config: Mapping[str, Any],
    recipe: Mapping[str, Any],
) -> str:
    """Write ``state`` atomically with its configuration and recipe; return its SHA-256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    metadata = {"config": json.dumps(config, sort_keys=True), "recipe": json.dumps(recipe)}
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, str(temporary), metadata=metadata)
    digest = sha256_of(temporary)
    os.replace(temporary, path)
    description = {"config": dict(config), "recipe": dict(recipe), "sha256": digest}
    temporary_json = sidecar_path(path).with_name(sidecar_path(path).name + ".tmp")
    temporary_json.write_text(json.dumps(description, indent=2) + "\n")
    os.replace(temporary_json, sidecar_path(path))
    logger.info("wrote checkpoint %s (sha256 %s)", path, digest[:12])
    return digest


def read_description(path: str | Path) -> dict[str, Any]:
    """Return the sidecar description (configuration, recipe, SHA-256) of a checkpoint."""
    sidecar = sidecar_path(Path(path))
    if not sidecar.is_file():
        raise CheckpointError(
            f"checkpoint description {str(sidecar)!r} is missing; save checkpoints with "
            "save_state, which writes it next to the .safetensors file"
        )
    return json.loads(sidecar.read_text())


def load_state(
    path: str | Path, *, expected_config: Mapping[str, Any] | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint after checking its hash and, if given, its configuration.

    Parameters
    ----------
    path : path
        The ``.safetensors`` file.
    expected_config : mapping, optional
        The configuration the caller builds; every key must match the stored one.

    Returns
    -------
    state : dict of str to torch.Tensor
        The weights.
    description : dict
        The sidecar's configuration, recipe and SHA-256.

    Raises
    ------
    CheckpointError
        If the file is missing, its hash differs from the recorded one, safetensors
        cannot parse it, or its configuration differs from ``expected_config``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not exist; train one with "
            "`python -m trustbench.families.resurgence.train --out PATH`"
        )
    description = read_description(path)
    actual = sha256_of(path)
    if actual != description.get("sha256"):
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt: its SHA-256 {actual[:12]}... differs from "
            f"the recorded {str(description.get('sha256'))[:12]}...; restore the file or retrain it"
        )
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(
            f"checkpoint {str(path)!r} cannot be read as safetensors ({error}); "
            "restore the file or retrain it"
        ) from error
    if expected_config is not None:
        stored = description.get("config", {})
        differing = sorted(
            key
            for key in set(stored) | set(expected_config)
            if stored.get(key) != expected_config.get(key)
        )
        if differing:
            first = differing[0]
            raise CheckpointError(
                f"checkpoint {str(path)!r} was built with {first}={stored.get(first)!r} but "
                f"the model expects {first}={expected_config.get(first)!r} (differing keys: "
                f"{', '.join(differing)}); load it with its stored configuration or retrain"
            )
    return state, description


def save_model(model: Any, path: str | Path, recipe: Mapping[str, Any]) -> str:
    """Write a `DiffusionModel`'s text encoder and UNet; return the file's SHA-256."""
    state = {f"text_encoder.{k}": v for k, v in model.text_encoder.state_dict().items()}
    state.update({f"unet.{k}": v for k, v in model.unet.state_dict().items()})
    return save_state(path, state, config=model.config.to_dict(), recipe=recipe)


def load_model(path: str | Path, *, config: Any = None) -> Any:
    """Return the `DiffusionModel` stored at ``path``, in evaluation mode.

    Parameters
    ----------
    path : path
        A file written by `save_model`.
    config : ModelConfig, optional
        The configuration the caller expects; by default the stored one is used.

    Raises
    ------
    CheckpointError
        See `load_state`; also when the tensors do not fit the configuration.
    """
    from trustbench.families.resurgence.model import DiffusionModel, ModelConfig

    expected = config.to_dict() if config is not None else None
    state, description = load_state(path, expected_config=expected)
    model = DiffusionModel(config or ModelConfig.from_dict(description["config"]))
    text = {k.removeprefix("text_encoder."): v for k, v in state.items() if k.startswith("text_")}
    unet = {k.removeprefix("unet."): v for k, v in state.items() if k.startswith("unet.")}
    try:
        model.text_encoder.load_state_dict(text)
        model.unet.load_state_dict(unet)
    except RuntimeError as error:
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not fit its configuration ({error}); retrain it"
        ) from error
    model.recipe = description.get("recipe", {})
    model.sha256 = description.get("sha256", "")
    return model.eval().requires_grad_(False)
