"""Bulk (packed) build of a SQLite R*Tree spatial index, written straight into its shadow tables.

Place in the data flow: called by the GeoPackage store inside a commit transaction. Inserting a
large batch row by row into SQLite's ``rtree`` virtual table costs tens of microseconds per entry
and grows with the tree; GDAL instead builds a packed tree in memory and writes the ``<rtree>_node``,
``<rtree>_rowid`` and ``<rtree>_parent`` tables itself. This module does the same, in the layout
of SQLite's ``ext/rtree/rtree.c``:

- a node is a blob of the node size fixed when the table was created (the length of the root
  node's blob); bytes 0-1 hold the tree depth (root node only), bytes 2-3 the number of cells;
- a cell is an 8-byte big-endian rowid (a leaf) or child node number, then big-endian float32
  ``minx, maxx, miny, maxy``;
- coordinates are rounded outwards to float32 exactly as ``rtreeValueDown``/``rtreeValueUp`` do;
- the root is node 1; ``_rowid`` maps each entry to its leaf, ``_parent`` each non-root node to its
  parent.

The tree is Sort-Tile-Recursive packed with node fill balanced between nodes, so every node but
the root holds at least half of the maximum number of cells (SQLite's deletion code expects at
least a third).
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pyarrow as pa

_CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
_RNDTOWARDS = 1.0 - 1.0 / 8388608.0
_RNDAWAY = 1.0 + 1.0 / 8388608.0


def round_down(values: np.ndarray) -> np.ndarray:
    """Float32 not above each double, as SQLite's ``rtreeValueDown``."""
    d = np.asarray(values, dtype=np.float64)
    f = d.astype(np.float32)
    over = f > d
    if over.any():
        f[over] = (d[over] * np.where(d[over] < 0, _RNDAWAY, _RNDTOWARDS)).astype(np.float32)
    return f


def round_up(values: np.ndarray) -> np.ndarray:
    """Float32 not below each double, as SQLite's ``rtreeValueUp``."""
    d = np.asarray(values, dtype=np.float64)
    f = d.astype(np.float32)
    under = f < d
    if under.any():
        f[under] = (d[under] * np.where(d[under] < 0, _RNDTOWARDS, _RNDAWAY)).astype(np.float32)
    return f


def node_size(conn: sqlite3.Connection, rtree: str) -> int:
    """The node blob size the R-tree was created with (SQLite reads it back the same way)."""
    row = conn.execute(f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1').fetchone()
    if row is None or not row[0]:
        raise sqlite3.DatabaseError(f"R-tree {rtree} has no root node; the file is damaged")
    return int(row[0])


def read_entries(conn: sqlite3.Connection, rtree: str) -> np.ndarray:
    """Every entry of the R-tree as cells (already float32, so re-rounding leaves them unchanged)."""
    rows = conn.execute(f'SELECT id, minx, maxx, miny, maxy FROM "{rtree}"').fetchall()
    cells = np.empty(len(rows), dtype=_CELL)
    if rows:
        ids, minx, maxx, miny, maxy = zip(*rows, strict=True)
        cells["id"], cells["minx"], cells["maxx"] = ids, minx, maxx
        cells["miny"], cells["maxy"] = miny, maxy
    return cells


def cells(ids: np.ndarray, minx: np.ndarray, maxx: np.ndarray, miny: np.ndarray, maxy: np.ndarray) -> np.ndarray:
    """R-tree cells for entries given as double bounds (rounded outwards to float32)."""
    out = np.empty(len(ids), dtype=_CELL)
    out["id"] = ids
    out["minx"], out["maxx"] = round_down(minx), round_up(maxx)
    out["miny"], out["maxy"] = round_down(miny), round_up(maxy)
    return out


def rebuild(conn: sqlite3.Connection, rtree: str, entries: np.ndarray) -> None:
    """Replace the whole content of ``rtree`` by a packed tree of ``entries`` (call inside a transaction).

    Parameters
    ----------
    conn
        A connection inside the transaction that also writes the feature rows.
    rtree
        The R-tree virtual table (``rtree_<table>_<column>``), 2-dimensional, no auxiliary columns.
    entries
        Cells from :func:`cells` / :func:`read_entries`; ids must be unique.
    """
    size = node_size(conn, rtree)
    # Concatenating cells gives native byte order (numpy canonicalises structured dtypes): restore it.
    entries = np.asarray(entries).astype(_CELL, copy=False)
    levels = _pack(entries, (size - 4) // _CELL.itemsize)
    depth = len(levels) - 1
    # Node numbers: the root is 1, then the levels below it top-down.
    first_nodeno, next_no = {}, 1
    for level in range(depth, -1, -1):
        first_nodeno[level] = next_no
        next_no += len(levels[level][1]) - 1
    for suffix in ("node", "rowid", "parent"):
        conn.execute(f'DELETE FROM "{rtree}_{suffix}"')
    pad = bytes(size)
    for level, (level_cells, bounds) in enumerate(levels):
        if level:
            level_cells["id"] += first_nodeno[level - 1]  # child index within its level -> node number
        base, counts = first_nodeno[level], np.diff(bounds)
        blob, width = level_cells.tobytes(), _CELL.itemsize
        node_rows = []
        for k in range(len(counts)):
            header = (depth if base + k == 1 else 0).to_bytes(2, "big") + int(counts[k]).to_bytes(2, "big")
            data = header + blob[int(bounds[k]) * width : int(bounds[k + 1]) * width]
            node_rows.append((base + k, data + pad[: size - len(data)]))
        owners = np.repeat(np.arange(base, base + len(counts), dtype=np.int64), counts)
        members = level_cells["id"].astype(np.int64)
        # In key order, so SQLite appends to the B-tree instead of inserting at random places (4x faster).
        order = np.argsort(members, kind="stable")
        members, owners = members[order], owners[order]
        # Leaves map each entry's rowid to its node; inner nodes map each child node to its parent.
        owner_table, (member_col, owner_col) = (
            (f"{rtree}_parent", ("nodeno", "parentnode")) if level else (f"{rtree}_rowid", ("rowid", "nodeno"))
        )
        ingest = getattr(conn, "ingest", None)  # an ADBC connection binds Arrow columns in C
        if ingest is not None:
            nodenos, blobs = zip(*node_rows, strict=True)
            ingest(f"{rtree}_node", pa.table({"nodeno": pa.array(nodenos, pa.int64()), "data": pa.array(blobs)}))
            ingest(owner_table, pa.table({member_col: members, owner_col: owners}))
        else:
            conn.executemany(f'INSERT INTO "{rtree}_node" (nodeno, data) VALUES (?, ?)', node_rows)
            conn.executemany(
                f'INSERT INTO "{owner_table}" ({member_col}, {owner_col}) VALUES (?, ?)',
                zip(members.tolist(), owners.tolist(), strict=True),
            )


def _pack(entries: np.ndarray, capacity: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Levels bottom-up, each as (cells ordered by node, node boundaries into those cells).

    Cells above the leaves carry the index of their child node within its level as ``id``. The
    last level has exactly one node, the root; an empty tree is one empty root leaf.
    """
    level_cells = entries
    levels = []
    while True:
        n = len(level_cells)
        n_nodes = max(1, math.ceil(n / capacity))
        if n_nodes > 1:
            level_cells = level_cells[_str_order(level_cells, n_nodes)]
        # Balanced fill: node k holds cells [k*n//n_nodes, (k+1)*n//n_nodes).
        bounds = (np.arange(n_nodes + 1, dtype=np.int64) * n) // n_nodes
        levels.append((level_cells, bounds))
        if n_nodes == 1:
            return levels
        starts = bounds[:-1]
        parents = np.empty(n_nodes, dtype=_CELL)
        parents["id"] = np.arange(n_nodes)
        for name, reduce in (("minx", np.minimum), ("miny", np.minimum), ("maxx", np.maximum), ("maxy", np.maximum)):
            parents[name] = reduce.reduceat(level_cells[name], starts)
        level_cells = parents


def _str_order(level_cells: np.ndarray, n_nodes: int) -> np.ndarray:
    """Sort-Tile-Recursive order: vertical slices by x centre, each sorted by y centre."""
    cx = level_cells["minx"].astype(np.float64) + level_cells["maxx"]
    cy = level_cells["miny"].astype(np.float64) + level_cells["maxy"]
    n = len(level_cells)
    slices = math.ceil(math.sqrt(n_nodes))
    by_x = np.argsort(cx, kind="stable")
    slice_of = np.empty(n, dtype=np.int64)
    slice_of[by_x] = (np.arange(n, dtype=np.int64) * slices) // n
    return np.lexsort((cy, slice_of))
