from pathlib import Path

import pytest

from trustbench.core.registry import load_plugin_file
from trustbench.core.store import Store

HERE = Path(__file__).parent
DEMO = HERE / "demo_plugin.py"
BROKEN = HERE / "broken_plugin.py"
INCOMPLETE = HERE / "incomplete_plugin.py"


def demo_record(method, seed, value, status="ok", error=None):
    """Return a store record of the demo family with one metric, ``abs_error``."""
    return {
        "key": f"{method}{seed}",
        "family": "demo",
        "scenario": "gauss",
        "method": method,
        "params": {},
        "seed": seed,
        "tier": "smoke",
        "status": status,
        "metrics": {"abs_error": value} if status == "ok" else {},
        "series": {},
        "info": {},
        "error": error,
    }


@pytest.fixture
def demo_family():
    load_plugin_file(DEMO)
    from trustbench.core.registry import get_family

    return get_family("demo")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.sqlite")
