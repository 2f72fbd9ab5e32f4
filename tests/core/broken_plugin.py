"""Methods of the demo family that fail on purpose: an exception, NaN, a hang, a crash."""

from __future__ import annotations

import os
import time
from pathlib import Path

from trustbench import Method, register_method
from trustbench.core.registry import load_plugin_file

load_plugin_file(Path(__file__).with_name("demo_plugin.py"))


@register_method("demo", "raises", kind="baseline")
class Raises(Method):
    def estimate(self, sample):
        raise RuntimeError("deliberate failure")


@register_method("demo", "nan", kind="baseline")
class ReturnsNan(Method):
    def estimate(self, sample):
        return float("nan")


@register_method("demo", "slow", kind="baseline")
class Slow(Method):
    def estimate(self, sample):
        time.sleep(30)
        return 0.0


@register_method("demo", "crash", kind="baseline")
class Crash(Method):
    def estimate(self, sample):
        os._exit(3)
