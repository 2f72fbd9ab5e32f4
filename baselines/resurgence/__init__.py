"""Built-in erasure methods of the resurgence family, registered through the public API.

Importing this package (the entry point ``resurgence`` of the group
``trustbench.methods``) registers `mace`, `uce`, `esd` and `none`.
"""

from trustbench_baselines.resurgence import esd, mace, none, uce

__all__ = ["esd", "mace", "none", "uce"]
