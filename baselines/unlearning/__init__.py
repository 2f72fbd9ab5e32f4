"""Built-in methods of the unlearning family, registered through the public API.

Importing this package (the entry point ``unlearning`` of the group
``trustbench.methods``) registers every method below.
"""

from trustbench_baselines.unlearning import (
    influence_smooth,
    newton,
    noop,
    pij,
    pij_prox,
    retrain,
    retrain_cold,
)

__all__ = [
    "influence_smooth",
    "newton",
    "noop",
    "pij",
    "pij_prox",
    "retrain",
    "retrain_cold",
]
