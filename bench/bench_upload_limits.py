"""Upload limits (issue #15, finding 7): how fast a hostile upload is refused, against parsing a legal file.

For each hostile file this times ``pipelines.sources.limits.check_upload`` until it refuses, and, as the
baseline in the same run, the reader parsing a legal file of about the same size (what a refusal after
parsing cost at the least; before the fix the 1M-row workbook took 113 s and the 100k-column CSV 79 s).
Median of 3 runs each. Run: ``python3 bench/bench_upload_limits.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.errors import AreaSafeError  # noqa: E402
from pipelines.sources.geofile import read_vector  # noqa: E402
from pipelines.sources.limits import check_upload  # noqa: E402
from pipelines.sources.tabular import read_tabular  # noqa: E402
from tests import _hostile as hostile  # noqa: E402

RUNS = 3


def _legal_csv(size: int) -> bytes:
    row = b"2025-11-02,theft,Something happened near the school,-34.0592,18.674\n"
    return b"date,category,description,lat,lon\n" + row * max(1, size // len(row))


def _legal_xlsx(size: int) -> bytes:
    rows, data = 1000, b""
    while len(data) < size and rows < 200_000:
        data = hostile.workbook([["date", "category"], *([f"2025-11-{i % 28 + 1:02d}", f"c{i}"] for i in range(rows))])
        rows *= 2
    return data


def _legal_geojson(size: int) -> bytes:
    vertices = max(4, size // 9)
    return hostile.geojson_polygon(min(vertices, 900_000))


CASES = [
    ("1M-row xlsx", "rows.xlsx", hostile.million_row_workbook, "legal.xlsx", _legal_xlsx),
    ("100k-column csv", "wide.csv", hostile.wide_csv, "legal.csv", _legal_csv),
    ("20 MB line csv", "line.csv", lambda: hostile.long_line_csv(20 * 2**20), "legal.csv", _legal_csv),
    ("1M-row csv", "rows.csv", lambda: b"a,b\n" + b"1,2\n" * 1_000_000, "legal.csv", _legal_csv),
    ("2M-vertex geojson", "park.geojson", lambda: hostile.geojson_polygon(2_000_000), "legal.geojson", _legal_geojson),
    ("zip bomb (500 MB)", "areas.zip", hostile.zip_bomb, "legal.geojson", _legal_geojson),
]


def _median(action) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _refuse(name: str, data: bytes) -> None:
    try:
        check_upload(name, data)
    except AreaSafeError:
        return
    raise SystemExit(f"{name} was not refused")


def _parse(name: str, data: bytes) -> None:
    if name.endswith(".geojson"):
        read_vector(name, data=data)
    else:
        read_tabular(name, data=data)


def main() -> None:
    print(f"{'hostile file':<20} {'bytes':>11} {'refused in':>11} {'legal parse':>12} {'legal bytes':>12} {'ratio':>7}")
    for label, name, make, legal_name, make_legal in CASES:
        data = make()
        refused = _median(lambda: _refuse(name, data))  # noqa: B023 - called before the loop moves on
        legal = make_legal(min(len(data), 20 * 2**20))
        parsed = _median(lambda: _parse(legal_name, legal))  # noqa: B023
        print(
            f"{label:<20} {len(data):>11,} {refused:>10.3f}s {parsed:>11.3f}s {len(legal):>12,} {refused / parsed:>7.3f}"
        )


if __name__ == "__main__":
    main()
