"""``areasafe users``, ``audit``, ``export --public`` and ``batches delete``, run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests._helpers import write_csv

PASSWORD = "a long enough passphrase"


def run(store, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipelines.cli", "--store", str(store), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture
def cli_store(area_store, tmp_path):
    csv = write_csv(
        tmp_path,
        "s.csv",
        "id,date,category,latitude,longitude,description\n"
        + "".join(f"{i},2025-03-0{i},Robbery,-34.05,18.5{i},=cmd|calc {i}\n" for i in range(1, 8)),
    )
    assert (
        run(area_store.url, "ingest", "incidents", str(csv), "--source", "community", "--org", "CSO A").returncode == 0
    )
    return area_store.url


def test_users_lifecycle(cli_store):
    added = run(cli_store, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert (
        run(
            cli_store, "users", "add", "csf", "--role", "cso", "--org", "CSO A", "--password-stdin", stdin=PASSWORD
        ).returncode
        == 0
    )
    users = json.loads(run(cli_store, "users", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["org"]) for u in users] == [("admin", "admin", None), ("csf", "cso", "CSO A")]
    assert "password" not in json.dumps(users).replace("sso_only", "")
    assert run(cli_store, "users", "set-role", "csf", "planner").returncode == 0
    assert run(cli_store, "users", "disable", "csf").stdout.strip() == "disabled csf"
    log = json.loads(run(cli_store, "audit", "--event", "user_admin", "--json").stdout)
    assert [e["target"] for e in log] == ["csf", "csf", "csf", "admin"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        pytest.param(["add", "x", "--role", "boss", "--password-stdin"], PASSWORD, "--role must be one of", id="role"),
        pytest.param(["add", "x", "--role", "cso", "--password-stdin"], PASSWORD, "--org ORG", id="cso-org"),
        pytest.param(["add", "x", "--role", "planner"], None, "--password-stdin", id="no-password"),
        pytest.param(["add", "x", "--role", "planner", "--password-stdin"], "short", "at least 10", id="short"),
        pytest.param(["disable", "ghost"], None, "no user 'ghost'", id="unknown-user"),
        pytest.param(["set-role", "ghost", "planner"], None, "no user 'ghost'", id="unknown-set-role"),
    ],
)
def test_user_errors_are_one_line_exit_2(cli_store, args, stdin, message):
    result = run(cli_store, "users", *args, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("areasafe: error:") and message in result.stderr


def test_export_public_and_full(cli_store, tmp_path):
    out = tmp_path / "public.csv"
    result = run(cli_store, "export", "csv", str(out), "--public")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out, dtype=str)
    assert "description" not in table.columns and not table["wkt"].str.startswith("POINT").any()
    assert set(table.loc[table["feature"] == "hexagon", "incidents"]) == {"<5"}
    assert run(cli_store, "export", "gpkg", str(tmp_path / "p.gpkg"), "--public").returncode == 2
    assert "--public" in run(cli_store, "export", "csv", str(tmp_path / "x.csv"), "--start", "2025-01").stderr
    full = tmp_path / "full.csv"
    assert run(cli_store, "export", "csv", str(full)).returncode == 0
    assert pd.read_csv(full, dtype=str)["description"].str.startswith("'=cmd").all()
    events = json.loads(run(cli_store, "audit", "--event", "export", "--json").stdout)
    assert [e["target"] for e in events] == ["full.csv", "public.csv"]


def test_batches_delete(cli_store):
    batches = json.loads(run(cli_store, "batches", "--json").stdout)
    batch_id = next(b["batch_id"] for b in batches if b["kind"] == "incidents")
    result = run(cli_store, "batches", "delete", batch_id, "--reason", "consent withdrawn")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"deleted batch {batch_id}: 7 rows removed")
    listing = run(cli_store, "batches").stdout
    assert batch_id in listing and "withdrawn" in listing
    again = run(cli_store, "batches", "delete", batch_id)
    assert again.returncode == 2 and "already deleted" in again.stderr
    assert run(cli_store, "audit", "--event", "delete_batch").stdout.count(batch_id) == 1
