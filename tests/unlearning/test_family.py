import dataclasses
import gzip
import math

import numpy as np
import pytest

import trustbench_baselines.unlearning  # noqa: F401  (registers the built-in methods)
from trustbench.core.claims import Verdict
from trustbench.core.errors import ParameterError, TrustbenchError
from trustbench.core.registry import get_family, get_method
from trustbench.families.unlearning.data import load_mnist, read_mnist
from trustbench.families.unlearning.deletions import deletion_stream
from trustbench.families.unlearning.protocol import build_problem
from trustbench.families.unlearning.tuning import CVCurve

TIMING = {"seconds_per_batch", "setup_seconds", "speedup_vs_retrain"}


@pytest.fixture(scope="module")
def family():
    return get_family("unlearning")


def _small(family, name="digits"):
    return family.scenario("smoke", name)


def test_scenarios_per_tier_share_names(family):
    smoke = {s.name for s in family.scenarios("smoke")}
    cpu = {s.name for s in family.scenarios("cpu")}
    assert "synthetic_d1000" in smoke
    assert "synthetic_d1000" in cpu
    assert {"synthetic_d500", "synthetic_d2000", "cv_targeted"} <= cpu
    assert smoke <= cpu


def test_run_cell_finite_and_reproducible(family):
    scenario = _small(family)
    first = family.run_cell(scenario, get_method("unlearning", "pij_prox")(), 0)
    second = family.run_cell(scenario, get_method("unlearning", "pij_prox")(), 0)
    assert all(math.isfinite(v) for v in first.metrics.values())
    for key, value in first.metrics.items():
        if key not in TIMING:
            assert second.metrics[key] == value, key
    assert len(first.series["distance"]) == scenario.config["n_batches"]


def test_run_cell_retrain_is_exact(family):
    result = family.run_cell(_small(family, "diabetes"), get_method("unlearning", "retrain")(), 1)
    assert result.metrics["distance_final"] < 1e-7
    assert result.metrics["support_f1"] == 1.0


def test_run_cell_lowrank(family):
    result = family.run_cell(_small(family, "lowrank"), get_method("unlearning", "pij")(), 0)
    assert result.metrics["distance_ratio_to_noop"] < 1.0
    assert result.metrics["state_bytes"] > 0


def test_run_cell_cv_scenario(family):
    scenario = _small(family, "cv_targeted")
    result = family.run_cell(scenario, get_method("unlearning", "noop")(), 0)
    assert 0.0 <= result.metrics["lambda_change_rate"] <= 1.0
    assert result.metrics["cv_distance_ratio"] > 0
    assert len(result.series["chosen_lambda"]) == scenario.config["n_batches"]


def test_negative_lam_ratio_rejected(family):
    base = _small(family)
    scenario = dataclasses.replace(base, config={**base.config, "lam_ratio": -0.1})
    with pytest.raises(ParameterError, match="lam_ratio -0.1"):
        family.run_cell(scenario, get_method("unlearning", "noop")(), 0)


def test_one_class_order_needs_classification(family):
    problem = build_problem(_small(family, "diabetes").config, 0)
    with pytest.raises(ParameterError, match="one_class"):
        deletion_stream(problem, order="one_class", n_batches=2, batch_size=3, seed=0)


def test_deletion_orders(family):
    problem = build_problem(_small(family).config, 0)
    largest = deletion_stream(problem, order="largest_loss", n_batches=2, batch_size=5, seed=0)
    losses = problem.objective.sample_losses(problem.theta)
    assert losses[largest[0]].min() >= losses[largest[1]].max()
    positives = deletion_stream(problem, order="one_class", n_batches=3, batch_size=4, seed=0)
    assert np.all(problem.objective.y[np.concatenate(positives)] == 1.0)
    random = deletion_stream(problem, order="random", n_batches=3, batch_size=4, seed=0)
    assert np.unique(np.concatenate(random)).size == 12


def test_one_se_rule_prefers_larger_lambda():
    curve = CVCurve(
        score=np.array([0.50, 0.41, 0.40, 0.45]),
        standard_error=np.array([0.02, 0.02, 0.02, 0.02]),
        point_losses=np.zeros((4, 1)),
    )
    assert curve.choose(one_se_rule=False) == 2
    assert curve.choose(one_se_rule=True) == 1


def test_claims_have_expected_verdicts_per_tier(family):
    for claim in family.claims():
        assert set(claim.expected) == {"smoke", "cpu", "paper"}
        assert claim.evaluate([], "cpu").verdict is Verdict.INCONCLUSIVE


def test_plots_written(family, tmp_path):
    scenario = family.scenario("smoke", "synthetic_d1000")
    scenario = dataclasses.replace(scenario, config={**scenario.config, "n": 300, "d": 30})
    records = []
    for name in ("pij", "noop"):
        result = family.run_cell(scenario, get_method("unlearning", name)(), 0)
        records.append(
            {
                "family": "unlearning",
                "scenario": scenario.name,
                "method": name,
                "seed": 0,
                "status": "ok",
                "metrics": result.metrics,
                "series": result.series,
            }
        )
    paths = family.plots(records, tmp_path)
    assert len(paths) == 2
    assert all(path.stat().st_size > 0 for path in paths)


def _fake_mnist(rng, n=400):
    labels = rng.choice([1, 3, 8], size=n)
    images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
    images[labels == 8, 10:18, 10:18] = 255
    return images, labels.astype(np.uint8)


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.tobytes())


def test_mnist_idx_folder_and_npz_agree(tmp_path):
    images, labels = _fake_mnist(np.random.default_rng(0))
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    np.savez(tmp_path / "mnist.npz", X=images, y=labels)
    from_idx = read_mnist(tmp_path)
    from_npz = read_mnist(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(from_idx[0], from_npz[0])
    np.testing.assert_array_equal(from_idx[1], labels)
    dataset = load_mnist(tmp_path / "mnist.npz", seed=0, n=None)
    assert set(np.unique(dataset.y)) == {-1.0, 1.0}


def test_mnist_npz_missing_array_rejected(tmp_path):
    np.savez(tmp_path / "bad.npz", images=np.zeros((3, 4)))
    with pytest.raises(ParameterError, match="lacks array"):
        read_mnist(tmp_path / "bad.npz")


def test_paper_tier_runs_on_local_files(family, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    images, labels = _fake_mnist(rng, n=900)
    np.savez(tmp_path / "mnist.npz", X=images, y=labels)
    features = rng.normal(size=(300, 5))
    dose = features @ np.array([1.0, 0.5, 0.0, 0.0, -0.3]) + rng.normal(size=300) + 30
    table = "age,weight,height,vkorc1,cyp2c9,dose\n" + "\n".join(
        ",".join(f"{v:.5f}" for v in row) + f",{d:.3f}"
        for row, d in zip(features, dose, strict=True)
    )
    (tmp_path / "warfarin.csv").write_text(table)
    monkeypatch.setenv("TRUSTBENCH_DATA_MNIST", str(tmp_path / "mnist.npz"))
    monkeypatch.setenv("TRUSTBENCH_DATA_WARFARIN", str(tmp_path / "warfarin.csv"))

    for name in ("mnist", "warfarin"):
        result = family.run_cell(
            family.scenario("paper", name), get_method("unlearning", "pij")(), 0
        )
        assert result.metrics["distance_ratio_to_noop"] < 1.0, name
        assert math.isfinite(result.metrics["test_score"])


def test_paper_tier_without_path_is_clear_error(family, monkeypatch, tmp_path):
    monkeypatch.delenv("TRUSTBENCH_DATA_MNIST", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TrustbenchError, match="TRUSTBENCH_DATA_MNIST"):
        family.run_cell(family.scenario("paper", "mnist"), get_method("unlearning", "noop")(), 0)
