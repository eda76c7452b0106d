"""Files that hold data are owner-only (0600): the GeoPackage store with its -wal and -shm files,
exports, and an existing store that other users could read (restricted on open, with a warning)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from pipelines import export, private_files
from pipelines.store import open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """The usual umask (0022), under which a plain file would be created world-readable (0644)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_store_and_its_wal_and_shm_are_owner_only(tmp_path):
    path = tmp_path / "new.gpkg"
    store = open_store(path)
    store.save(users=pd.DataFrame([{"username": "ana", "role": "planner", "password_hash": "$argon2id$x",
                                    "disabled": False, "created_at": pd.Timestamp.now(tz="UTC")}]))  # fmt: skip
    files = {suffix: Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")}
    assert all(f.exists() for f in files.values()), "WAL mode keeps -wal and -shm while the store is open"
    assert {suffix: oct(_mode(f)) for suffix, f in files.items()} == dict.fromkeys(files, oct(0o600))
    store.close()


def test_an_existing_readable_store_is_restricted_on_open_and_says_so(tmp_path, caplog):
    path = tmp_path / "old.gpkg"
    open_store(path).close()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="pipelines.private_files"):
        open_store(path).close()
    assert _mode(path) == 0o600
    assert f"{path} was readable by other users (mode 0644); made it owner-only" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipelines.private_files"):
        open_store(path).close()
    assert caplog.text == ""  # nothing to say the second time


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_exports_are_owner_only(area_store, tmp_path, fmt):
    out = tmp_path / "data" / f"public.{fmt}"
    assert export.export_public(area_store, fmt, out) > 0
    assert _mode(out) == 0o600
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no private folder left behind


def test_an_existing_export_is_restricted_before_it_is_overwritten(tmp_path):
    out = tmp_path / "layers.csv"
    out.write_text("old")
    out.chmod(0o644)
    with private_files.target(out) as part:
        assert part == out and _mode(out) == 0o600  # before the first byte
        part.write_text("new")
    assert out.read_text() == "new"


def test_a_failed_export_leaves_nothing(tmp_path):
    out = tmp_path / "broken.geojson"
    with pytest.raises(RuntimeError), private_files.target(out) as part:
        part.write_text("half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_write_whole_is_owner_only_and_leaves_the_old_file_when_it_fails(tmp_path):
    import stat

    from pipelines.private_files import write_whole

    out = tmp_path / "pack.pdf"
    write_whole(out, b"first")
    assert out.read_bytes() == b"first" and stat.S_IMODE(out.stat().st_mode) == 0o600

    with pytest.raises(TypeError):
        write_whole(out, "not bytes")  # fails while writing
    assert out.read_bytes() == b"first"  # the old file stands
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]  # no half-written temporary left behind
