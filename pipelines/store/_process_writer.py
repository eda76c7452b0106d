"""A batch writer in a child process, for large files: its SQLite inserts run under their own GIL.

Private to the GeoPackage store. With the writer on a thread, preparing chunk k+1 and inserting chunk
k share one interpreter lock (``executemany`` binds every value with the lock held), so they mostly
take turns; a child process of its own really runs beside the preparing parent on a second core.
The child also connects through ADBC (:mod:`pipelines.store._adbc`), which binds Arrow columns in C:
that is only safe in a process that opens the store in no other way, which the child is.

- The child (``python -m pipelines.store._process_writer``) opens the store and runs
  :meth:`GeoPackageStore._write_stream`, the same single transaction as the threaded writer:
  nothing is committed before the :class:`Batch` arrives.
- Chunks travel as Arrow IPC files in a private temporary folder (incidents as longitude and
  latitude columns, no geometry objects on either side; other points as GeoArrow, other geometry
  as WKB); the pipes carry pickled file names, batches and replies. The parent stays at most two
  chunks ahead of the child.
- The child ends without committing when its input ends without a batch: the parent gave up, or
  died (its end of the pipe closes; on Linux the child also gets SIGTERM, rolls back, removes the
  chunk folder and exits). A folder left by a writer that could not clean up (SIGKILL) is removed by
  the next writer, once the uploader that made it is gone.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import NoReturn

import pyarrow as pa
import pyarrow.compute as pc

import pipelines
from pipelines import schemas
from pipelines.store.base import _FRAME_KINDS, Batch, BatchWriter, StoreError, WriterAborted

_AHEAD = 2  # chunks the parent may send before the child has written them
#: ``DataFrame.attrs`` key of a chunk that is already in the order of the named column.
SORTED_BY = "areasafe_sorted_by"
_SORTED_BY_META = b"areasafe:sorted_by"
_FOLDER_PREFIX = "areasafe-writer-"  # then the uploader's pid
_PR_SET_PDEATHSIG = 1


class ProcessWriter(BatchWriter):
    """Streams chunks to a writer process that holds the store's write transaction.

    Parameters
    ----------
    path
        The GeoPackage file.
    expected_rows
        Rows the whole batch will hold (the store picks its bulk index strategy from it).
    """

    def __init__(self, path: str | Path, *, expected_rows: int) -> None:
        self._path = str(path)
        self._expected = expected_rows
        self._process: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._folder: Path | None = None
        self._sent = self._written = 0
        self._dumper: concurrent.futures.ThreadPoolExecutor | None = None
        self._dumping: concurrent.futures.Future | None = None
        # Start now: the child's ~0.6 s start-up (imports, opening the store) then overlaps with the
        # uploader preparing its first chunk instead of delaying that chunk's insert.
        self._start()

    # -- BatchWriter -------------------------------------------------------------------------------
    def add(self, **frames) -> None:
        unknown = [kind for kind in frames if kind not in _FRAME_KINDS]
        if unknown:
            raise TypeError(f"unknown frame {unknown[0]!r}; expected one of {', '.join(_FRAME_KINDS)}")
        if self._process is None:
            raise StoreError("this batch writer has already finished or been aborted; open a new one")
        self._sent_previous()
        while self._sent - self._written >= _AHEAD:
            self._reply()
        files = {
            kind: str(self._folder / f"{self._sent:06d}-{kind}.arrow")
            for kind, frame in frames.items()
            if frame is not None and len(frame)
        }
        # Written and announced on a thread while the caller prepares the next chunk (Arrow writes
        # the file outside the GIL; 1M rows: ~0.1 s of each 100k-row chunk). One thread, so the
        # child gets the chunks in order; the next add() or finish() waits for it first.
        self._dumping = self._dumper.submit(self._dump_and_send, {kind: frames[kind] for kind in files}, files)
        self._sent += 1

    def _dump_and_send(self, frames: dict, files: dict[str, str]) -> None:
        for kind, frame in frames.items():
            _dump(frame, Path(files[kind]), order=schemas.INCIDENTS.unique_key if kind == "incidents" else None)
        self._post(("frames", files))

    def _sent_previous(self) -> None:
        """Wait until the chunk handed to the dump thread is written and announced (raising its error)."""
        dumping, self._dumping = self._dumping, None
        if dumping is not None:
            try:
                dumping.result()
            except _ChildGone:
                self._child_gone()

    def finish(self, batch: Batch) -> Batch:
        try:
            self._sent_previous()
            self._send(("batch", batch))
            while True:
                reply = self._reply()
                if reply is not None:
                    return reply
        finally:
            self._stop()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # already failing: the chunk in flight does not matter
            self._sent_previous()
        self._stop()

    # -- parent side -------------------------------------------------------------------------------
    def _start(self) -> None:
        _sweep_folders()
        self._folder = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))
        package_root = str(Path(pipelines.__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH"))))}
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, self._path, str(self._expected), str(os.getpid()), str(self._folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._dumper = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="areasafe-chunk-dump")
        threading.Thread(
            target=self._read_replies, args=(self._process.stdout,), name="areasafe-writer-replies", daemon=True
        ).start()

    def _read_replies(self, stream) -> None:
        while True:
            try:
                self._replies.put(pickle.load(stream))
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                self._replies.put(("gone", None))
                return

    def _send(self, message: object) -> None:
        try:
            self._post(message)
        except _ChildGone:
            self._child_gone()

    def _post(self, message: object) -> None:
        process = self._process  # None once stopped
        try:
            if process is None:
                raise OSError("the writer process was stopped")
            pickle.dump(message, process.stdin)
            process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):  # ValueError: the pipe was closed meanwhile
            raise _ChildGone from None

    def _child_gone(self) -> NoReturn:
        while self._reply() is None:  # the child ended: its last word says why (and raises)
            pass
        raise StoreError("the writer process stopped reading; nothing was stored")

    def _reply(self) -> Batch | None:
        """Wait for the child's next word: a written chunk (``None``), the stored batch, or an error."""
        kind, value = self._replies.get()
        if kind == "written":
            self._written += 1
            return None
        if kind == "ok":
            return value
        process = self._process
        self._stop()
        if kind == "error":
            raise value
        code = process.returncode if process else None
        raise StoreError(f"the writer process ended unexpectedly (exit code {code}); nothing was stored")

    def _stop(self) -> None:
        process, self._process = self._process, None
        dumper, self._dumper = self._dumper, None
        if dumper is not None:
            dumper.shutdown(wait=True)  # a chunk still in flight fails on the closed pipe or folder
        if process is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # input ends without a batch: the child rolls back and ends
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class _ChildGone(Exception):
    """The pipe to the writer process broke: it ended (its last reply says why)."""


def _sweep_folders() -> None:
    """Remove chunk folders whose uploader is no longer running (it was killed with its writer)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(_FOLDER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _dump(frame, file: Path, *, order: str | None = None) -> None:
    """One frame as an Arrow IPC file (a GeoDataFrame's geometry as GeoArrow points, or WKB for
    anything else, with its CRS; point coordinate columns stay plain float columns).

    With ``order``, the rows are sorted by that column first and the file says so, so the writer
    process need not sort them again: the sort moves to the uploader's dump thread (Arrow, outside
    the GIL), which has time to spare, from the writer process, which has none (~0.05 s of each
    100k-row chunk).
    """
    if hasattr(frame, "geometry") and hasattr(frame, "to_arrow"):
        points = frame.geometry.notna().all() and (frame.geom_type == "Point").all() and not frame.has_z.any()
        table = pa.table(frame.to_arrow(geometry_encoding="geoarrow" if points else "WKB", index=False))
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    if order is not None and order in table.column_names:
        table = table.take(pc.sort_indices(table[order]))
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _SORTED_BY_META: order.encode()})
    with pa.OSFile(str(file), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _load(file: str):
    import geopandas as gpd

    with pa.memory_map(file) as source:
        table = pa.ipc.open_file(source).read_all()
    os.unlink(file)  # the mapping stays readable until it is dropped
    geo = any((f.metadata or {}).get(b"ARROW:extension:name", b"").startswith(b"geoarrow") for f in table.schema)
    frame = gpd.GeoDataFrame.from_arrow(table) if geo else table.to_pandas()
    order = (table.schema.metadata or {}).get(_SORTED_BY_META)
    if order is not None:
        frame.attrs[SORTED_BY] = order.decode()
    return frame


# -- child side ------------------------------------------------------------------------------------
def _child(path: str, expected_rows: int, parent: int, folder: str) -> None:
    # The uploader's death sends SIGTERM, which ends this process through SystemExit: the open
    # transaction rolls back and the chunk folder is removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    try:
        if os.getppid() == parent:  # else the parent died before the hook was set
            _write(path, expected_rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # The store is closed and every reply flushed: skip the interpreter's teardown (pandas, GEOS,
    # Arrow, ~0.1-0.2 s after a large batch), which the uploader would otherwise wait for.
    sys.stderr.flush()
    os._exit(0)


def _write(path: str, expected_rows: int) -> None:
    from pipelines.store.gpkg import GeoPackageStore

    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but replies on the reply pipe

    def reply(message: object) -> None:
        pickle.dump(message, outbox)
        outbox.flush()

    def stream():
        while True:
            try:
                kind, value = pickle.load(inbox)
            except EOFError:
                return  # the parent gave up or died: end without a batch, which rolls back
            if kind == "batch":
                yield value
                return
            yield {name: _load(file) for name, file in value.items()}
            reply(("written", None))  # asked for the next chunk: this one is in the transaction

    store = GeoPackageStore(path, adbc=True)
    flusher = _WalFlusher(Path(path + "-wal"))
    flusher.start()
    try:
        reply(("ok", store._write_stream(stream(), expected_rows=expected_rows)))
    except WriterAborted:
        pass
    except BaseException as exc:  # handed to the parent, which raises it
        with contextlib.suppress(OSError):  # the parent may be gone
            reply(("error", _sendable(exc)))
    finally:
        flusher.stop()
        store.close()


class _WalFlusher(threading.Thread):
    """Flushes the write-ahead log to disk every few tenths of a second while the batch is written.

    The checkpoint after ``COMMIT`` first fsyncs the whole log (about 800 MB for 1M incidents), at
    disk speed, with nothing else left to do; flushed while chunks are still arriving, it leaves
    little for that moment (1M rows: the ``COMMIT`` took 0.8 s instead of 1.6 s). An fsync changes
    nothing but when the kernel writes the pages, so this is safe at any moment of the transaction.
    It opens only the ``-wal`` file, on which SQLite takes no locks (they are on the database and
    ``-shm`` files), so closing its descriptor cannot drop the writer's POSIX locks (see ``_adbc``).
    """

    def __init__(self, wal: Path, every_s: float = 0.3) -> None:
        super().__init__(name="areasafe-wal-flusher", daemon=True)
        self._wal, self._every = wal, every_s
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._every):
            with contextlib.suppress(OSError):  # no log yet, or already removed
                fd = os.open(self._wal, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def _sendable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return StoreError(f"{type(exc).__name__}: {exc}")
    return exc


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
