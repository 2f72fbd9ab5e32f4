import copy
import json
import string

import numpy as np
import pytest
import torch

from trustbench.core.registry import get_method
from trustbench.families.resurgence.protocol import run_cell
from trustbench.families.resurgence.scenarios import scenarios_for

transformers = pytest.importorskip("transformers")
diffusers = pytest.importorskip("diffusers")
PIL = pytest.importorskip("PIL.Image")

WORDS = [
    "a",
    "photo",
    "of",
    "an",
    "airplane",
    "car",
    "dog",
    "cat",
    "picture",
    "image",
    "in",
    "the",
    "sky",
    "object",
    "something",
    "else",
    "road",
]


def write_tokenizer_files(directory):
    tokens = ["<|startoftext|>", "<|endoftext|>"]
    tokens += list(string.ascii_lowercase) + [c + "</w>" for c in string.ascii_lowercase]
    merges = []
    for word in WORDS:
        # Merge characters left to right until the word is one token "word</w>".
        pieces = [*word[:-1], word[-1] + "</w>"]
        while len(pieces) > 1:
            merges.append(f"{pieces[0]} {pieces[1]}")
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            tokens.append(pieces[0])
    tokens = list(dict.fromkeys(tokens))
    (directory / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    merges = list(dict.fromkeys(merges))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return len(tokens)


def build_tokenizer(tmp_path):
    files = tmp_path / "tokenizer_files"
    files.mkdir()
    vocab_size = write_tokenizer_files(files)
    tokenizer = transformers.CLIPTokenizer(
        vocab=str(files / "vocab.json"), merges=str(files / "merges.txt"), model_max_length=40
    )
    return tokenizer, vocab_size


def text_config(vocab_size):
    return transformers.CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=40,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        projection_dim=16,
    )


def build_pipeline(directory, tokenizer, vocab_size):
    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    vae = diffusers.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(16, 16),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        norm_num_groups=8,
        sample_size=16,
    )
    text_encoder = transformers.CLIPTextModel(text_config(vocab_size))
    scheduler = diffusers.DDIMScheduler(
        num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012
    )
    pipeline = diffusers.StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(str(directory))


def build_clip(directory, tokenizer, vocab_size):
    torch.manual_seed(1)
    vision = transformers.CLIPVisionConfig(
        image_size=16,
        patch_size=8,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        projection_dim=16,
    )
    config = transformers.CLIPConfig(
        text_config=text_config(vocab_size).to_dict(),
        vision_config=vision.to_dict(),
        projection_dim=16,
    )
    transformers.CLIPModel(config).save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))


def write_folder(directory, captions, seed):
    directory.mkdir()
    rng = np.random.default_rng(seed)
    with (directory / "metadata.jsonl").open("w") as handle:
        for i, caption in enumerate(captions):
            pixels = rng.integers(0, 256, size=(16, 16, 3)).astype(np.uint8)
            PIL.fromarray(pixels).save(directory / f"{i}.png")
            handle.write(json.dumps({"file_name": f"{i}.png", "text": caption}) + "\n")


@pytest.fixture
def paper_files(tmp_path, monkeypatch):
    tokenizer, vocab_size = build_tokenizer(tmp_path)
    build_pipeline(tmp_path / "sd", tokenizer, vocab_size)
    build_clip(tmp_path / "clip", tokenizer, vocab_size)
    write_folder(tmp_path / "concept", ["a photo of an airplane"] * 4, 0)
    write_folder(tmp_path / "finetune", ["a photo of a car on the road", "a photo of a dog"] * 2, 1)
    monkeypatch.setenv("TRUSTBENCH_DATA_SD14", str(tmp_path / "sd"))
    monkeypatch.setenv("TRUSTBENCH_DATA_CLIP", str(tmp_path / "clip"))
    monkeypatch.setenv("TRUSTBENCH_DATA_RESURGENCE_CONCEPT", str(tmp_path / "concept"))
    monkeypatch.setenv("TRUSTBENCH_DATA_RESURGENCE_FINETUNE", str(tmp_path / "finetune"))
    monkeypatch.setenv("TRUSTBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path


def tiny_paper_config():
    config = copy.deepcopy(dict(scenarios_for("paper")[0].config))
    config.update(
        {
            "finetune": {**config["finetune"], "steps": 2, "batch_size": 2, "lr": 1e-3},
            "loss_eval_steps": [0, 2],
            "sample_eval_steps": [0, 2],
            "n_probe": 4,
            "n_detect": 3,
            "sample_steps": 2,
        }
    )
    return config


@pytest.mark.parametrize("name", ["mace", "uce", "esd"])
def test_paper_tier_cell_end_to_end(paper_files, name):
    params = {}
    if name == "mace":
        params = {"adapter_steps": 2}
    elif name == "esd":
        params = {"steps": 2}
    result = run_cell(tiny_paper_config(), get_method("resurgence", name)(**params), 0, code="test")
    for key, value in result.metrics.items():
        assert np.isfinite(value), key
    assert result.series["loss_steps"] == [0, 2]
    assert result.series["sample_steps"] == [0, 2]
    assert "gate_min_rate" not in result.metrics
    # The random pipeline has not learned "airplane", so e(T) is usually undefined here.
    assert "loss_resurgence" in result.metrics or "undefined" in result.info["loss_signal"]
    assert len(result.series["loss_gap_control"]) == 2
    assert 0.0 <= result.metrics["detection_erased_t0"] <= 1.0
