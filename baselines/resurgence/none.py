"""No erasure: the un-erased reference."""

from __future__ import annotations

import trustbench
from trustbench.families.resurgence.erasure import ErasureTarget


@trustbench.register_method("resurgence", "none", kind="reference")
class NoErasure(trustbench.Method):
    """Return the model unchanged.

    Its cells measure the un-erased model fine-tuned exactly like the control of every
    other method, so its resurgence is zero by construction and its detection rate is the
    upper reference.
    """

    params = {}

    def erase(self, model, target: ErasureTarget):
        """Return ``model`` as it is."""
        return model
