"""The throwaway-cluster fixture: missing server binaries fail the PostGIS tests with what to run,
unless AREASAFE_SKIP_POSTGIS=1 says to skip them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests._pgcluster import ClusterUnavailable, find_bin_dir


def test_missing_server_says_to_run_the_test_script(tmp_path):
    (tmp_path / "15" / "bin").mkdir(parents=True)  # a client-only install: no initdb
    with pytest.raises(ClusterUnavailable, match=r"run scripts/run-tests\.sh \(it apt-installs postgresql"):
        find_bin_dir(lib=tmp_path, share=tmp_path)


def test_server_without_postgis_is_not_enough(tmp_path):
    for tool in ("initdb", "pg_ctl"):
        (tmp_path / "lib" / "15" / "bin").mkdir(parents=True, exist_ok=True)
        (tmp_path / "lib" / "15" / "bin" / tool).touch()
    with pytest.raises(ClusterUnavailable, match="no PostgreSQL server with PostGIS"):
        find_bin_dir(lib=tmp_path / "lib", share=tmp_path / "share")
    (tmp_path / "share" / "15" / "extension").mkdir(parents=True)
    (tmp_path / "share" / "15" / "extension" / "postgis.control").touch()
    assert find_bin_dir(lib=tmp_path / "lib", share=tmp_path / "share") == tmp_path / "lib" / "15" / "bin"


def test_skip_switch_skips_the_postgis_half():
    env = {**os.environ, "AREASAFE_SKIP_POSTGIS": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            "tests/pipelines/test_store.py::test_load_areas_twice_replaces",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout and "AREASAFE_SKIP_POSTGIS=1" in result.stdout
