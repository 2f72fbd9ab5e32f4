from pathlib import Path

import pytest

from trustbench.core.registry import load_plugin_file
from trustbench.core.store import Store

HERE = Path(__file__).parent
DEMO = HERE / "demo_plugin.py"
BROKEN = HERE / "broken_plugin.py"
INCOMPLETE = HERE / "incomplete_plugin.py"


@pytest.fixture
def demo_family():
    load_plugin_file(DEMO)
    from trustbench.core.registry import get_family

    return get_family("demo")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.sqlite")
