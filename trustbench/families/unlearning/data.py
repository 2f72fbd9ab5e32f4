"""Data sets of the unlearning family, generated or read from local files.

Every loader returns a `Dataset` with standardised features (training statistics only)
and no intercept column: the models have no intercept, so regression targets are
centred with the training mean and binary labels are coded -1 / +1.

Sources
-------
- ``digits``: scikit-learn's bundled optical handwritten digits (UCI ML repository,
  Alpaydin and Kaynak, 1998), classes 3 (label -1) and 8 (label +1); 8x8 images, 64
  features. Ships with scikit-learn (BSD-3-Clause).
- ``diabetes``: scikit-learn's bundled diabetes data (Efron, Hastie, Johnstone and
  Tibshirani, "Least Angle Regression", 2004): 442 patients, 10 features, a disease
  progression score. Ships with scikit-learn (BSD-3-Clause).
- ``synthetic``: correlated Gaussian features (correlation ``rho^|i-j|``), a sparse true
  coefficient vector and logistic labels.
- ``lowrank``: Gaussian features and a (d, k) coefficient matrix of low rank, with
  Gaussian noise on the k responses.
- ``mnist`` (paper tier, local file): digits 3 and 8 of MNIST, from a ``.npz`` file with
  arrays ``X`` (n, 784) and ``y`` (digit labels), or from a folder with the original IDX
  files ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (optionally ``.gz``).
- ``warfarin`` (paper tier, local file): a CSV file of the IWPC warfarin table with
  numeric columns only and the stable dose in the column named by ``target`` (default
  ``dose``); rows with a missing value are dropped.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from trustbench.core.errors import ParameterError

logger = logging.getLogger(__name__)


@dataclass
class Dataset:
    """Training and test arrays of one problem.

    Attributes
    ----------
    X, y : ndarray
        Training features (n, d) and labels (n,) or responses (n,) / (n, k).
    X_test, y_test : ndarray
        Held-out data.
    task : {"classification", "regression"}
        Labels in {-1, +1}, or real-valued responses.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str


def _standardise(x: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    return (x - mean) / scale, (x_test - mean) / scale


def _split(x: np.ndarray, y: np.ndarray, *, test_fraction: float, seed: int, task: str) -> Dataset:
    stratify = y if task == "classification" else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=stratify
    )
    x_train, x_test = _standardise(x_train, x_test)
    if task == "regression":
        centre = y_train.mean(axis=0)
        y_train, y_test = y_train - centre, y_test - centre
    return Dataset(x_train, y_train.astype(float), x_test, y_test.astype(float), task)


def binary_digits(
    x: np.ndarray, labels: np.ndarray, negative: int = 3, positive: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows of two digit classes, with labels -1 (negative) and +1 (positive)."""
    chosen = np.isin(labels, (negative, positive))
    if not chosen.any():
        raise ParameterError(
            f"no rows with digit labels {negative} or {positive}; check the label array"
        )
    return x[chosen].astype(float), np.where(labels[chosen] == positive, 1.0, -1.0)


def load_sklearn_digits(*, seed: int, test_fraction: float = 0.3) -> Dataset:
    """Return scikit-learn's bundled digits, 3 versus 8, split and standardised."""
    bunch = load_digits()
    x, y = binary_digits(bunch.data, bunch.target)
    return _split(x, y, test_fraction=test_fraction, seed=seed, task="classification")


def load_sklearn_diabetes(*, seed: int, test_fraction: float = 0.3) -> Dataset:
    """Return scikit-learn's bundled diabetes data with a standardised, centred target."""
    bunch = load_diabetes()
    y = bunch.target / bunch.target.std()
    return _split(bunch.data, y, test_fraction=test_fraction, seed=seed, task="regression")


def make_sparse_logistic(
    *, n: int, d: int, n_test: int, sparsity: int, rho: float, signal: float, seed: int
) -> Dataset:
    """Return a synthetic sparse logistic-regression problem.

    Features are Gaussian with correlation ``rho^|i - j|`` between columns i and j; the
    true coefficients have ``sparsity`` non-zeros of magnitude ``signal`` times a
    uniform draw in [0.5, 1.5] with random signs, at random positions.
    """
    if not 0 < sparsity <= d:
        raise ParameterError(f"invalid sparsity {sparsity}; pass an integer in [1, d={d}]")
    if not -1 < rho < 1:
        raise ParameterError(f"invalid feature correlation rho={rho}; pass a value in (-1, 1)")
    rng = np.random.default_rng(seed)
    total = n + n_test
    features = np.empty((total, d))
    features[:, 0] = rng.standard_normal(total)
    innovation = np.sqrt(1.0 - rho**2)
    for j in range(1, d):
        features[:, j] = rho * features[:, j - 1] + innovation * rng.standard_normal(total)
    beta = np.zeros(d)
    support = rng.choice(d, size=sparsity, replace=False)
    beta[support] = signal * rng.uniform(0.5, 1.5, sparsity) * rng.choice([-1.0, 1.0], sparsity)
    probability = 1.0 / (1.0 + np.exp(-features @ beta))
    labels = np.where(rng.random(total) < probability, 1.0, -1.0)
    x, x_test = _standardise(features[:n], features[n:])
    return Dataset(x, labels[:n], x_test, labels[n:], "classification")


def make_low_rank_regression(
    *, n: int, d: int, k: int, rank: int, noise: float, n_test: int, seed: int
) -> Dataset:
    """Return a multi-response regression problem with a rank-``rank`` coefficient matrix."""
    if not 0 < rank <= min(d, k):
        raise ParameterError(f"invalid rank {rank}; pass an integer in [1, min(d, k)]")
    rng = np.random.default_rng(seed)
    total = n + n_test
    features = rng.standard_normal((total, d))
    coefficients = rng.standard_normal((d, rank)) @ rng.standard_normal((rank, k)) / np.sqrt(d)
    responses = features @ coefficients + noise * rng.standard_normal((total, k))
    x, x_test = _standardise(features[:n], features[n:])
    centre = responses[:n].mean(axis=0)
    return Dataset(x, responses[:n] - centre, x_test, responses[n:] - centre, "regression")


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ParameterError(f"file {str(path)!r} is not an unsigned-byte IDX file")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ParameterError(
            f"invalid IDX file {str(path)!r}: {data.size} values for header shape {shape}; "
            "replace the truncated file"
        )
    return data.reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise ParameterError(f"MNIST folder {str(folder)!r} has no {stem} or {stem}.gz")


def read_mnist(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return MNIST images (n, 784) and labels from a ``.npz`` file or an IDX folder."""
    if path.is_dir():
        images = _read_idx(_find(path, "train-images-idx3-ubyte"))
        labels = _read_idx(_find(path, "train-labels-idx1-ubyte"))
        return images.reshape(images.shape[0], -1).astype(float), labels.astype(int)
    with np.load(path, allow_pickle=False) as archive:
        missing = {"X", "y"} - set(archive.files)
        if missing:
            raise ParameterError(
                f"MNIST file {str(path)!r} lacks array(s) {sorted(missing)}; "
                "save it with np.savez(path, X=images, y=labels)"
            )
        x, y = archive["X"], archive["y"]
    return x.reshape(x.shape[0], -1).astype(float), y.astype(int)


def load_mnist(path: Path, *, seed: int, n: int | None, test_fraction: float = 0.2) -> Dataset:
    """Return MNIST 3 versus 8 from a local copy, optionally subsampled to ``n`` points."""
    x, y = binary_digits(*read_mnist(path))
    x = x / 255.0 if x.max() > 1.0 else x
    if n is not None and n < x.shape[0]:
        rng = np.random.default_rng(seed)
        rows = rng.choice(x.shape[0], size=int(n / (1 - test_fraction)), replace=False)
        x, y = x[rows], y[rows]
    return _split(x, y, test_fraction=test_fraction, seed=seed, task="classification")


def load_warfarin(
    path: Path, *, seed: int, target: str = "dose", test_fraction: float = 0.3
) -> Dataset:
    """Return the IWPC warfarin table from a numeric CSV file, target standardised."""
    import pandas as pd

    table = pd.read_csv(path).dropna()
    if target not in table.columns:
        raise ParameterError(
            f"warfarin file {str(path)!r} has no column {target!r}; name the dose column "
            f"{target!r} or set the scenario's target (columns: {', '.join(table.columns)})"
        )
    features = table.drop(columns=[target])
    non_numeric = [c for c in features.columns if not np.issubdtype(features[c].dtype, np.number)]
    if non_numeric:
        raise ParameterError(
            f"warfarin file {str(path)!r} has non-numeric column(s) {non_numeric}; "
            "encode them as numbers first"
        )
    y = table[target].to_numpy(dtype=float)
    y = y / y.std()
    x = features.to_numpy(dtype=float)
    return _split(x, y, test_fraction=test_fraction, seed=seed, task="regression")
