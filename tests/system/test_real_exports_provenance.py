"""Every real export under tests/data/real/ is recorded, byte for byte, in its folder's PROVENANCE.md."""

import hashlib
import re
from pathlib import Path

import pytest

REAL_EXPORTS = Path(__file__).resolve().parents[1] / "data" / "real"
_SHA_LINE = re.compile(r"^\s+([0-9a-f]{64})\s+\./(\S.*)$", re.MULTILINE)

FOLDERS = sorted(p for p in REAL_EXPORTS.iterdir() if p.is_dir())


def _recorded(folder: Path) -> dict[str, str]:
    text = (folder / "PROVENANCE.md").read_text(encoding="utf-8")
    return {name.strip(): digest for digest, name in _SHA_LINE.findall(text)}


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "PROVENANCE.md"}


def test_there_are_real_exports():
    assert FOLDERS, f"no folders under {REAL_EXPORTS}"
    assert (REAL_EXPORTS / "README.md").is_file()


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_provenance_lists_every_file_with_its_sha256(folder: Path):
    assert (folder / "PROVENANCE.md").is_file(), f"{folder.name} has no PROVENANCE.md"
    recorded = _recorded(folder)
    assert set(recorded) == _files(folder), (
        f"{folder.name}: PROVENANCE.md lists {sorted(recorded)} but the folder holds {sorted(_files(folder))}"
    )
    for name, digest in recorded.items():
        actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert actual == digest, f"{folder.name}/{name} changed: sha256 {actual}, recorded {digest}"


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_files_stay_small(folder: Path):
    for name in _files(folder):
        size = (folder / name).stat().st_size
        assert size <= 300_000, f"{folder.name}/{name} is {size} bytes; keep real exports at 300 KB or less"
