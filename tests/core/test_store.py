import sqlite3

import pytest

from trustbench.core.errors import StoreError
from trustbench.core.store import Store


def _record(key, status="ok", value=1.0):
    return {
        "key": key,
        "family": "demo",
        "scenario": "gauss",
        "method": "mean",
        "params": {},
        "seed": 0,
        "tier": "smoke",
        "status": status,
        "metrics": {"abs_error": value},
        "series": {},
        "info": {},
        "error": None if status == "ok" else "boom",
        "code_version": "x",
        "provenance": {"hostname": "h"},
        "started_at": "2026-01-01T00:00:00",
        "finished_at": "2026-01-01T00:00:01",
        "seconds": 1.0,
    }


def test_put_and_read_back(store):
    store.put(_record("a"))
    (record,) = store.records()
    assert record["metrics"] == {"abs_error": 1.0}
    assert record["provenance"] == {"hostname": "h"}


def test_failed_record_not_finished(store):
    store.put(_record("a", status="failed"))
    store.put(_record("b"))
    assert store.finished_keys(["a", "b", "c"]) == {"b"}


def test_wal_mode_enabled(store):
    connection = sqlite3.connect(store.path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_corrupt_file_clear_error(tmp_path):
    path = tmp_path / "corrupt.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="corrupt.*move it aside"):
        Store(path)


def test_locked_store_clear_error(tmp_path):
    path = tmp_path / "locked.sqlite"
    Store(path)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            Store(path, timeout=0.2).put(_record("a"))
    finally:
        holder.rollback()
        holder.close()


def test_folder_path_rejected(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
