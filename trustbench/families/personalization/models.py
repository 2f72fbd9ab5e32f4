"""The four model classes, as scikit-learn pipelines with hyperparameters fixed per tier.

Every pipeline starts with a median imputer fitted on its own training rows, because the
loaders keep ``NaN`` and add ``<name>__missing`` indicator columns. Logistic regression and
the MLP then standardise the features. Every estimator takes ``random_state`` and runs on one
thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from trustbench.core.errors import ParameterError

MODEL_CLASSES = ("logreg", "random_forest", "hist_gb", "mlp")

#: Hyperparameters per tier and model class. A tier changes sizes, never the model class.
HYPERPARAMETERS: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "smoke": {
        "logreg": {"C": 1.0, "max_iter": 500},
        "random_forest": {"n_estimators": 30, "min_samples_leaf": 5, "max_features": "sqrt"},
        "hist_gb": {"max_iter": 40, "learning_rate": 0.1, "max_leaf_nodes": 15},
        "mlp": {"hidden_layer_sizes": (16,), "alpha": 1e-3, "max_iter": 100},
    },
    "cpu": {
        "logreg": {"C": 1.0, "max_iter": 1000},
        "random_forest": {"n_estimators": 100, "min_samples_leaf": 5, "max_features": "sqrt"},
        "hist_gb": {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 15},
        "mlp": {"hidden_layer_sizes": (32,), "alpha": 1e-3, "max_iter": 200},
    },
    "paper": {
        "logreg": {"C": 1.0, "max_iter": 2000},
        "random_forest": {"n_estimators": 500, "min_samples_leaf": 5, "max_features": "sqrt"},
        "hist_gb": {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 31},
        "mlp": {"hidden_layer_sizes": (64, 32), "alpha": 1e-3, "max_iter": 300},
    },
}


def _classifier(model: str, hyperparameters: Mapping[str, Any], random_state: int) -> Any:
    if model == "logreg":
        return LogisticRegression(random_state=random_state, **hyperparameters)
    if model == "random_forest":
        return RandomForestClassifier(random_state=random_state, n_jobs=1, **hyperparameters)
    if model == "hist_gb":
        return HistGradientBoostingClassifier(
            random_state=random_state, early_stopping=False, **hyperparameters
        )
    if model == "mlp":
        return MLPClassifier(
            random_state=random_state, early_stopping=True, n_iter_no_change=10, **hyperparameters
        )
    raise ParameterError(
        f"unknown model class {model!r}; expected one of {', '.join(MODEL_CLASSES)}"
    )


@dataclass(frozen=True)
class EstimatorFactory:
    """A callable that returns a fresh, unfitted pipeline of one model class.

    Parameters
    ----------
    model : str
        One of `MODEL_CLASSES`.
    hyperparameters : mapping
        Keyword arguments of the classifier (see `HYPERPARAMETERS`).

    Examples
    --------
    >>> factory = EstimatorFactory.for_tier("logreg", "smoke")
    >>> factory(random_state=0).steps[-1][0]
    'classifier'
    """

    model: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODEL_CLASSES:
            raise ParameterError(
                f"unknown model class {self.model!r}; expected one of {', '.join(MODEL_CLASSES)}"
            )

    @classmethod
    def for_tier(cls, model: str, tier: str) -> EstimatorFactory:
        """Return the factory of ``model`` with the hyperparameters of ``tier``."""
        if tier not in HYPERPARAMETERS:
            raise ParameterError(
                f"invalid tier {tier!r}; expected one of {', '.join(HYPERPARAMETERS)}"
            )
        if model not in HYPERPARAMETERS[tier]:
            raise ParameterError(
                f"unknown model class {model!r}; expected one of {', '.join(MODEL_CLASSES)}"
            )
        return cls(model, dict(HYPERPARAMETERS[tier][model]))

    def __call__(self, random_state: int) -> Pipeline:
        """Return an unfitted pipeline: imputer, scaler where the model needs one, classifier."""
        steps: list[tuple[str, Any]] = [
            ("imputer", SimpleImputer(strategy="median", keep_empty_features=True))
        ]
        if self.model in ("logreg", "mlp"):
            steps.append(("scaler", StandardScaler()))
        steps.append(("classifier", _classifier(self.model, self.hyperparameters, random_state)))
        return Pipeline(steps)
