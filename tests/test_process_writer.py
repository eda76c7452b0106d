"""Large GeoPackage uploads are written by a child process: the same rows, still one all-or-nothing
batch, errors reach the caller, and killing the uploader kills the writer without storing anything."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines import settings
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from pipelines.store import StoreError
from pipelines.store._process_writer import ProcessWriter
from pipelines.store.gpkg import GeoPackageStore
from tests._helpers import load_areas, write_csv
from tests.test_streaming import NOW, ROWS, _chunks, _stored, _summary


@pytest.fixture
def stores(tmp_path):
    made = []
    for name in ("thread", "process"):
        (tmp_path / name).mkdir()
        store = GeoPackageStore(tmp_path / name / "s.gpkg")
        load_areas(store, tmp_path / name)
        made.append(store)
    yield made
    for store in made:
        store.close()


@pytest.fixture
def own_tempdir(tmp_path, monkeypatch):
    """The writer's chunk folder goes under this test's folder, so leftovers can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def _process_from(monkeypatch, rows: int) -> list[ProcessWriter]:
    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, process_writer_rows=rows))
    made: list[ProcessWriter] = []
    original = ProcessWriter.__init__

    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(ProcessWriter, "__init__", record)
    return made


def _csv(tmp_path, rows=ROWS, name="c.csv"):
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + "\n".join(rows) + "\n")


def ingest_by_thread_then_process(stores, path: Path, monkeypatch):
    """The same file through the thread writer into the first store, then a child process into the second."""
    by_thread, by_process = stores
    threaded = ingest_incidents(by_thread, path, source="community", org="A", now=pd.Timestamp(NOW))
    writers = _process_from(monkeypatch, 1)
    processed = ingest_incidents(by_process, path, source="community", org="A", now=pd.Timestamp(NOW))
    assert len(writers) == 1  # this upload went through a child process
    return threaded, processed


def test_process_writer_stores_what_the_thread_writer_stores(stores, tmp_path, monkeypatch, own_tempdir):
    by_thread, by_process = stores
    path = _csv(tmp_path)
    _chunks(monkeypatch, 4)
    threaded, processed = ingest_by_thread_then_process(stores, path, monkeypatch)
    assert _summary(processed) == _summary(threaded)
    assert _stored(by_process) == _stored(by_thread)
    assert list(own_tempdir.iterdir()) == []  # the chunk files are gone
    again = ingest_incidents(by_process, path, source="community", org="A", now=pd.Timestamp(NOW))
    assert again.batch_id == processed.batch_id and by_process.count("incidents") == processed.accepted


def test_small_files_keep_the_thread_writer(stores, tmp_path, monkeypatch):
    writers = _process_from(monkeypatch, 10_000)
    ingest_incidents(stores[0], _csv(tmp_path), source="community", org="A", now=pd.Timestamp(NOW))
    assert writers == []


def test_error_in_the_writer_process_reaches_the_caller_and_nothing_is_stored(stores, tmp_path, own_tempdir):
    store = stores[1]
    prepared = prepare_incidents(store, _csv(tmp_path), source="community", org="A", now=pd.Timestamp(NOW))
    incidents = prepared.incidents.assign(batch_id=prepared.batch.batch_id)
    before = store.count("incidents")
    writer = ProcessWriter(store.path, expected_rows=len(incidents))
    with pytest.raises(StoreError, match="columns \\['category'\\] are missing"), writer:
        writer.add(incidents=incidents.iloc[:5])
        writer.add(incidents=incidents.iloc[5:].drop(columns="category"))
        writer.finish(prepared.batch)
    assert store.count("incidents") == before and store.count("batches") == 2  # the two area batches
    assert list(own_tempdir.iterdir()) == []
    # the write lock is free again
    assert ingest_incidents(store, _csv(tmp_path), source="community", org="A").accepted == prepared.batch.accepted


def test_writer_process_left_without_finish_stores_nothing(stores, tmp_path, own_tempdir):
    store = stores[1]
    prepared = prepare_incidents(store, _csv(tmp_path), source="community", org="A", now=pd.Timestamp(NOW))
    with ProcessWriter(store.path, expected_rows=len(prepared.incidents)) as writer:
        writer.add(incidents=prepared.incidents.assign(batch_id=prepared.batch.batch_id))
        process = writer._process
    assert process.poll() is not None  # the child has ended
    assert store.count("incidents") == 0
    assert list(own_tempdir.iterdir()) == []


def test_a_finished_writer_process_refuses_more_chunks(stores, tmp_path, own_tempdir):
    store = stores[1]
    prepared = prepare_incidents(store, _csv(tmp_path), source="community", org="A", now=pd.Timestamp(NOW))
    incidents = prepared.incidents.assign(batch_id=prepared.batch.batch_id)
    writer = ProcessWriter(store.path, expected_rows=len(incidents))
    writer.add(incidents=incidents)
    writer.finish(prepared.batch)
    with pytest.raises(StoreError, match="already finished"):
        writer.add(incidents=incidents)
    assert store.count("incidents") == prepared.batch.accepted


_KILL_SCRIPT = textwrap.dedent(
    """
    import dataclasses, sys, time
    from pipelines.ingest import incidents as ingest
    from pipelines import settings
    from pipelines.store import open_store
    from pipelines.store._process_writer import ProcessWriter
    settings.SETTINGS = dataclasses.replace(settings.SETTINGS, process_writer_rows=1, chunk_rows=100)
    original = ProcessWriter.add
    def add(self, **frames):
        original(self, **frames)
        if self._written:  # the child has written a chunk inside its open transaction
            print("WRITER", self._process.pid, flush=True)
            time.sleep(60)  # killed here
    ProcessWriter.add = add
    ingest.ingest_incidents(open_store(sys.argv[1]), sys.argv[2], source="community", org="A")
    """
)


def test_killing_the_uploader_kills_its_writer_process_and_stores_nothing(stores, tmp_path):
    store = stores[1]
    rows = [f"{i},2025-03-04,Robbery,-34.05,18.{55 + i % 10:02d}," for i in range(1000)]
    csv = _csv(tmp_path, rows, "k.csv")
    chunks = tmp_path / "chunks"
    chunks.mkdir()
    uploader = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, store.url, str(csv)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(chunks)},
    )
    line = uploader.stdout.readline().split()
    assert line[0] == "WRITER", line
    child = int(line[1])
    uploader.send_signal(signal.SIGKILL)
    uploader.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child), "the writer process outlived its uploader"
    assert list(chunks.iterdir()) == []  # it removed its chunk files on the way out
    assert store.count("incidents") == 0 and store.count("batches") == 2
    assert ingest_incidents(store, csv, source="community", org="A").accepted == 1000


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan waits for init to reap it, which may never come in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_chunk_folders_of_dead_uploaders_are_swept(stores, tmp_path, own_tempdir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = own_tempdir / f"areasafe-writer-{dead.pid}-abc"
    stale.mkdir()
    (stale / "000000-incidents.arrow").write_bytes(b"left by a killed upload")
    mine = own_tempdir / f"areasafe-writer-{os.getpid()}-def"  # a live uploader's folder stays
    mine.mkdir()
    writer = ProcessWriter(stores[1].path, expected_rows=1)
    writer._start()
    writer.abort()
    assert not stale.exists() and mine.exists()


def test_a_writer_process_that_dies_is_reported_and_nothing_is_stored(stores, tmp_path, own_tempdir):
    store = stores[1]
    prepared = prepare_incidents(store, _csv(tmp_path), source="community", org="A", now=pd.Timestamp(NOW))
    incidents = prepared.incidents.assign(batch_id=prepared.batch.batch_id)
    writer = ProcessWriter(store.path, expected_rows=len(incidents))
    with pytest.raises(StoreError, match="exit code -9"), writer:
        writer.add(incidents=incidents.iloc[:5])
        writer._process.kill()
        writer.add(incidents=incidents.iloc[5:])
        writer.finish(prepared.batch)
    assert store.count("incidents") == 0 and store.count("batches") == 2
    assert ingest_incidents(store, _csv(tmp_path), source="community", org="A").accepted == prepared.batch.accepted


def test_chunks_are_sorted_by_the_uploader_and_say_so(tmp_path):
    """The uploader's dump thread sorts an incident chunk by its unique key and marks the file, so
    the writer process inserts it in that order without sorting again; other frames keep their order."""
    import numpy as np

    from pipelines.store._process_writer import SORTED_BY, _dump, _load

    keys = [f"community|o|id:{k}" for k in np.random.default_rng(2).permutation(1000)]
    frame = pd.DataFrame({"dedupe_key": keys, "row_number": np.arange(1000), "lon": 18.0, "lat": -34.0})
    _dump(frame, tmp_path / "sorted.arrow", order="dedupe_key")
    loaded = _load(str(tmp_path / "sorted.arrow"))
    assert loaded.attrs[SORTED_BY] == "dedupe_key"
    assert loaded["dedupe_key"].tolist() == sorted(keys)
    assert (loaded.set_index("dedupe_key").loc[keys, "row_number"].to_numpy() == np.arange(1000)).all()
    assert loaded.iloc[10:20].attrs[SORTED_BY] == "dedupe_key"  # the writer's sub-chunks keep the mark
    _dump(frame, tmp_path / "as-is.arrow")
    kept = _load(str(tmp_path / "as-is.arrow"))
    assert SORTED_BY not in kept.attrs and kept["dedupe_key"].tolist() == keys
    assert not (tmp_path / "sorted.arrow").exists()  # the writer removes a chunk file once loaded
