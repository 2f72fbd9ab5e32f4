"""Local paths and settings that come from the environment or ``./trustbench.toml``.

The paper tier reads data and weights from local paths only. A path for key ``KEY`` comes
from the environment variable ``TRUSTBENCH_DATA_<KEY>`` (upper case), or else from the
``[data]`` table of ``trustbench.toml`` in the working directory::

    [data]
    mnist = "/data/mnist_3v8.npz"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from trustbench.core.errors import TrustbenchError

CONFIG_FILE = "trustbench.toml"


def _read_config(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise TrustbenchError(f"invalid configuration file {str(path)!r}: {error}") from error


def data_path(key: str, *, directory: str | Path | None = None) -> Path:
    """Return the local path configured for data set ``key``.

    Parameters
    ----------
    key : str
        Name of the data set, for example ``"mnist"``.
    directory : path, optional
        Where to look for ``trustbench.toml``; defaults to the working directory.

    Returns
    -------
    pathlib.Path
        The configured path, which exists.

    Raises
    ------
    TrustbenchError
        If no path is configured or the configured path does not exist.

    Examples
    --------
    >>> import os
    >>> os.environ["TRUSTBENCH_DATA_EXAMPLE"] = "."
    >>> data_path("example").is_dir()
    True
    """
    variable = f"TRUSTBENCH_DATA_{key.upper()}"
    raw = os.environ.get(variable)
    origin = f"environment variable {variable}"
    if raw is None:
        config = _read_config(Path(directory) if directory is not None else Path.cwd())
        raw = config.get("data", {}).get(key)
        origin = f"[data] {key} in {CONFIG_FILE}"
    if raw is None:
        raise TrustbenchError(
            f"no local path configured for data set {key!r}; set {variable}=PATH or add "
            f'[data] {key} = "PATH" to {CONFIG_FILE}'
        )
    path = Path(str(raw)).expanduser()
    if not path.exists():
        raise TrustbenchError(
            f"data set {key!r}: path {str(path)!r} from {origin} does not exist; "
            "point it at the local copy"
        )
    return path
