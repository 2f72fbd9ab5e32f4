"""trustbench: reruns of published claims of trustworthy machine learning papers.

The public API for writing a method is `Method`, `Param` and `register_method`.
"""

from trustbench.core.method import Method
from trustbench.core.params import Param
from trustbench.core.registry import register_method

__all__ = ["Method", "Param", "register_method"]
__version__ = "0.1.0"
