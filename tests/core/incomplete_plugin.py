"""A plugin whose method lacks the demo family's ``estimate``: registration must fail."""

from pathlib import Path

from trustbench import Method, register_method
from trustbench.core.registry import load_plugin_file

load_plugin_file(Path(__file__).with_name("demo_plugin.py"))


@register_method("demo", "incomplete")
class Incomplete(Method):
    def predict(self, sample):
        return 0.0
