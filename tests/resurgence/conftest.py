import copy

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from trustbench.families.resurgence.model import DiffusionModel, ModelConfig  # noqa: E402
from trustbench.families.resurgence.scenarios import scenarios_for  # noqa: E402

TINY = ModelConfig(text_dim=16, text_heads=2, channels=(8, 16), attention_head_dim=8)


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return DiffusionModel(TINY).eval().requires_grad_(False)


@pytest.fixture
def smoke_config():
    return copy.deepcopy(dict(scenarios_for("smoke")[0].config))
