"""The results store: one SQLite file in WAL mode, one transaction per record."""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trustbench.core.errors import StoreError

logger = logging.getLogger(__name__)

DEFAULT_STORE = "trustbench.sqlite"
STORE_ENV = "TRUSTBENCH_STORE"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    scenario TEXT NOT NULL,
    method TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    metrics TEXT NOT NULL,
    series TEXT NOT NULL,
    info TEXT NOT NULL,
    error TEXT,
    code_version TEXT NOT NULL,
    provenance TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    seconds REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_family_tier ON records (family, tier);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_JSON_COLUMNS = ("params", "metrics", "series", "info", "provenance")


def default_store_path() -> Path:
    """Return the store path from ``TRUSTBENCH_STORE`` or ``./trustbench.sqlite``."""
    return Path(os.environ.get(STORE_ENV, DEFAULT_STORE))


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


class Store:
    """A results store backed by one SQLite file.

    Parameters
    ----------
    path : path, optional
        The file; created with its folder if missing. Defaults to `default_store_path`.
    timeout : float
        Seconds to wait for a lock held by another process before failing.

    Raises
    ------
    StoreError
        If the file is not a trustbench store, is corrupt, or stays locked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "results.sqlite")
    >>> store.count()
    0
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.timeout = timeout
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"store path {str(self.path)!r} is a folder; pass a file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                connection.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                row = connection.execute(
                    "SELECT value FROM meta WHERE name = 'schema_version'"
                ).fetchone()
            except sqlite3.DatabaseError as error:
                raise self._error("open", error) from error
        if row is None or int(row[0]) != SCHEMA_VERSION:
            raise StoreError(
                f"store {str(self.path)!r} has schema version {row and row[0]!r}, expected "
                f"{SCHEMA_VERSION}; export it with an older trustbench or use a new --store"
            )

    def _error(self, action: str, error: sqlite3.Error) -> StoreError:
        text = str(error)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"store {str(self.path)!r} is locked by another process (waited "
                f"{self.timeout:g} s to {action}); wait for it to finish or pass another --store"
            )
        return StoreError(
            f"store {str(self.path)!r} is unreadable or corrupt ({text}); move it aside and "
            "run again to start a new store"
        )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(self.path, timeout=self.timeout)
        except sqlite3.Error as error:
            raise self._error("open", error) from error
        try:
            yield connection
        finally:
            connection.close()

    def put(self, record: Mapping[str, Any]) -> None:
        """Write one record in its own transaction, replacing a record with the same key."""
        row = {name: record[name] for name in _COLUMNS}
        for name in _JSON_COLUMNS:
            row[name] = json.dumps(_finite_or_none(row[name]), sort_keys=True, default=str)
        placeholders = ", ".join(f":{name}" for name in _COLUMNS)
        with self._connect() as connection:
            try:
                with connection:
                    connection.execute(
                        f"INSERT OR REPLACE INTO records ({', '.join(_COLUMNS)}) "
                        f"VALUES ({placeholders})",
                        row,
                    )
            except sqlite3.Error as error:
                raise self._error("write", error) from error

    def finished_keys(self, keys: Sequence[str]) -> set[str]:
        """Return the subset of ``keys`` whose records finished with status ``ok``."""
        found: set[str] = set()
        with self._connect() as connection:
            try:
                for start in range(0, len(keys), 500):
                    chunk = list(keys[start : start + 500])
                    marks = ", ".join("?" * len(chunk))
                    rows = connection.execute(
                        f"SELECT key FROM records WHERE status = 'ok' AND key IN ({marks})",
                        chunk,
                    ).fetchall()
                    found.update(row[0] for row in rows)
            except sqlite3.Error as error:
                raise self._error("read", error) from error
        return found

    def records(
        self,
        *,
        family: str | None = None,
        tier: str | None = None,
        keys: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Return the records matching the filters, oldest first."""
        clauses, values = [], []
        if family is not None:
            clauses.append("family = ?")
            values.append(family)
        if tier is not None:
            clauses.append("tier = ?")
            values.append(tier)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as connection:
            connection.row_factory = sqlite3.Row
            try:
                rows = connection.execute(
                    f"SELECT * FROM records {where} ORDER BY finished_at, key", values
                ).fetchall()
            except sqlite3.Error as error:
                raise self._error("read", error) from error
        result = []
        wanted = set(keys) if keys is not None else None
        for row in rows:
            record = dict(row)
            if wanted is not None and record["key"] not in wanted:
                continue
            for name in _JSON_COLUMNS:
                record[name] = json.loads(record[name])
            result.append(record)
        return result

    def count(self) -> int:
        """Return the number of records."""
        with self._connect() as connection:
            try:
                return int(connection.execute("SELECT COUNT(*) FROM records").fetchone()[0])
            except sqlite3.Error as error:
                raise self._error("read", error) from error


_COLUMNS = (
    "key",
    "family",
    "scenario",
    "method",
    "params",
    "seed",
    "tier",
    "status",
    "metrics",
    "series",
    "info",
    "error",
    "code_version",
    "provenance",
    "started_at",
    "finished_at",
    "seconds",
)
