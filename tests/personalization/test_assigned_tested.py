import numpy as np
import pytest

from trustbench.core.errors import ParameterError
from trustbench_baselines.personalization import AssignedTested


class _Problem:
    risk = "auc"
    random_state = 0


def _method(n_candidates=10):
    method = AssignedTested()
    method.n_candidates_ = n_candidates
    return method


def test_equal_candidate_keeps_generic():
    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 100)
    scores = rng.random(200)
    assert not _method()._accept(_Problem(), labels, scores, scores.copy())


def test_clearly_better_candidate_accepted():
    rng = np.random.default_rng(1)
    labels = np.array([0, 1] * 100)
    generic = rng.random(200)
    better = labels * 0.6 + rng.random(200) * 0.4
    assert _method()._accept(_Problem(), labels, generic, better)


def test_bonferroni_divides_alpha():
    rng = np.random.default_rng(2)
    labels = np.array([0, 1] * 15)
    generic = rng.random(30)
    slightly_better = np.clip(generic + 0.25 * labels, 0, 1)
    few = _method(n_candidates=1)._accept(_Problem(), labels, generic, slightly_better)
    many = _method(n_candidates=10_000)._accept(_Problem(), labels, generic, slightly_better)
    assert few
    assert not many


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1])
def test_invalid_alpha_rejected(alpha):
    with pytest.raises(ParameterError, match="parameter 'alpha'"):
        AssignedTested(alpha=alpha)
