import numpy as np
import pytest

from trustbench.families.resurgence.checkpoint import CheckpointError, load_model, save_model
from trustbench.families.resurgence.concepts import ConceptBatch
from trustbench.families.resurgence.data import erasure_target, finetune_data
from trustbench.families.resurgence.finetune import FinetuneConfig, finetune
from trustbench.families.resurgence.model import ModelConfig
from trustbench.families.resurgence.paper import PaperTierError, load_stable_diffusion


def test_unknown_erased_concept_names_value(tiny_model, smoke_config):
    smoke_config["concept"] = "banana"
    with pytest.raises(ValueError, match="'banana'.*one of circle"):
        erasure_target(smoke_config, 0, tuple(tiny_model.config.words))


def test_unknown_word_in_prompt_names_word(tiny_model):
    with pytest.raises(ValueError, match="'banana'.*vocabulary"):
        tiny_model.encode(["a banana on the left"])


def test_empty_finetune_set_rejected(tiny_model):
    empty = ConceptBatch(
        np.zeros((0, 3, 16, 16), np.float32), np.zeros((0, 16, 16), bool), np.zeros(0, np.int64), ()
    )
    with pytest.raises(ValueError, match="fine-tuning set is empty"):
        finetune(tiny_model, empty, FinetuneConfig(steps=1), seed=0)


def test_zero_finetune_images_rejected(smoke_config):
    smoke_config["n_finetune_images"] = 0
    with pytest.raises(ValueError, match="n_finetune_images=0"):
        finetune_data(smoke_config, 0)


def test_erased_concept_in_finetune_set_rejected(smoke_config):
    smoke_config["finetune_concepts"] = ["square", "circle"]
    with pytest.raises(ValueError, match="include the erased concept 'circle'"):
        finetune_data(smoke_config, 0)


def test_checkpoint_with_other_config_rejected(tiny_model, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(tiny_model, path, {"command": "test"})
    other = ModelConfig(text_dim=16, text_heads=2, channels=(16, 32), attention_head_dim=8)
    with pytest.raises(CheckpointError, match=r"channels=\[8, 16\].*channels=\[16, 32\]"):
        load_model(path, config=other)


def test_checkpoint_roundtrip_keeps_weights(tiny_model, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(tiny_model, path, {"command": "test"})
    loaded = load_model(path)
    for (name, expected), actual in zip(
        tiny_model.state_dict().items(), loaded.state_dict().values(), strict=True
    ):
        assert (expected == actual).all(), name
    assert loaded.recipe == {"command": "test"}


def test_corrupt_checkpoint_rejected(tiny_model, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(tiny_model, path, {"command": "test"})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt.*restore the file or retrain"):
        load_model(path)


def test_missing_checkpoint_names_training_command(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist.*resurgence.train"):
        load_model(tmp_path / "absent.safetensors")


def test_missing_paper_directory_names_layout(tmp_path):
    missing = tmp_path / "sd-v1-4"
    with pytest.raises(PaperTierError, match=r"sd-v1-4.*model_index\.json.*save_pretrained"):
        load_stable_diffusion(missing)


def test_incomplete_paper_directory_names_missing_part(tmp_path):
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(PaperTierError, match="missing unet, text_encoder"):
        load_stable_diffusion(tmp_path)
