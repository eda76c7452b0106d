"""The README's quick start: two commands that work as written on a fresh Debian machine.

Debian 12's own Python refuses ``pip install`` (PEP 668, "externally managed"); the scripts then install
into a virtual environment ``.venv``. Checked here against the machine's real ``/usr/bin/python3``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PYTHON = Path("/usr/bin/python3")


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in re.findall(r"^    (\S.*)$", section, flags=re.M)]


def test_the_quick_start_is_the_two_scripts_and_ci_runs_the_second():
    commands = _quick_start_commands()
    assert "bash scripts/serve-demo.sh" in commands and "bash scripts/run-tests.sh" in commands
    assert "pip install -e ." not in " ".join(commands)  # refused by Debian's own Python
    assert "bash scripts/run-tests.sh" in (ROOT / ".ci" / "run").read_text()
    for script in ("serve-demo.sh", "run-tests.sh"):
        assert "source scripts/python-env.sh" in (ROOT / "scripts" / script).read_text()


def _chosen_python(tmp_path: Path, path: str) -> subprocess.CompletedProcess:
    """Source scripts/python-env.sh in a copy at ``tmp_path`` with ``path`` as PATH; print what it chose."""
    (tmp_path / "scripts").mkdir(exist_ok=True)
    shutil.copy(ROOT / "scripts" / "python-env.sh", tmp_path / "scripts")
    return subprocess.run(
        ["bash", "-c", 'set -euo pipefail; source scripts/python-env.sh; echo "PY=$PY"; "$PY" -c "import sys; print(sys.prefix)"'],
        cwd=tmp_path, env={"PATH": path, "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(
    not (DEBIAN_PYTHON.exists() and Path("/usr/lib/python3.11/EXTERNALLY-MANAGED").exists()),
    reason="needs Debian 12's own /usr/bin/python3 (externally managed)",
)
def test_on_debians_own_python_the_scripts_make_and_use_a_venv(tmp_path):
    done = _chosen_python(tmp_path, "/usr/sbin:/usr/bin:/sbin:/bin")
    assert done.returncode == 0, done.stderr
    assert "PY=.venv/bin/python" in done.stdout and str(tmp_path / ".venv") in done.stdout
    assert "managed by Debian" in done.stdout
    again = _chosen_python(tmp_path, "/usr/bin:/bin")
    assert "PY=.venv/bin/python" in again.stdout and "managed by Debian" not in again.stdout  # made once


def test_a_python_pip_may_install_into_is_used_as_it_is(tmp_path):
    stdlib = Path(sysconfig.get_path("stdlib"))
    if (stdlib / "EXTERNALLY-MANAGED").exists():
        pytest.skip("the test runner's own Python is externally managed")
    done = _chosen_python(tmp_path, f"{Path(shutil.which('python3')).parent}:/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert "PY=python3" in done.stdout and not (tmp_path / ".venv").exists()
