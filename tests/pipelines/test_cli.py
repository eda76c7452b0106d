"""The ``areasafe`` command: the exact shapes scripts rely on, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from tests._helpers import write_areas, write_csv
from tests.conftest import BACKENDS


def run(*args: str, store=None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipelines.cli"]
    if store is not None:
        cmd += ["--store", str(store)]
    result = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(params=BACKENDS)
def cli_store(request, tmp_path):
    """A store (a GeoPackage path or a PostGIS URL) holding the test areas, loaded through the CLI."""
    store = tmp_path / "cli.gpkg" if request.param == "gpkg" else request.getfixturevalue("pg_url")
    precincts, hoods = write_areas(tmp_path)
    run("ingest", "boundaries", str(precincts), "--kind", "precinct", store=store)
    run("ingest", "boundaries", str(hoods), "--kind", "neighbourhood", store=store)
    return store


def test_ingest_json_shape_and_batches(cli_store, tmp_path):
    csv = write_csv(
        tmp_path,
        "s.csv",
        "uuid,when,what,lat,lon,notes\n"
        "a,2025-03-04,Robbery,-34.05,18.55,x\nb,2025-03-04,Robbery,,,y\nb,2025-03-04,Robbery,,,y\n",
    )
    result = run(
        "ingest",
        "incidents",
        str(csv),
        "--source",
        "community",
        "--org",
        "CSO",
        "--id-col",
        "uuid",
        "--json",
        store=cli_store,
    )
    summary = json.loads(result.stdout)
    assert set(summary) == {
        "batch_id",
        "rows_read",
        "accepted",
        "rejected",
        "duplicates",
        "outside_areas",
        "warnings",
        "rejections",
        "notes",
    }
    assert (summary["rows_read"], summary["accepted"], summary["rejected"], summary["duplicates"]) == (3, 1, 1, 1)
    assert summary["rejections"] == {"missing_location": 1}
    batches = json.loads(run("batches", "--json", store=cli_store).stdout)
    assert [b["kind"] for b in batches] == ["incidents", "boundaries", "boundaries"]
    assert batches[0]["org"] == "CSO" and batches[0]["rejections"] == {"missing_location": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["ingest", "incidents", "{nolocation}", "--source", "community"], "no location columns", id="no-location"
        ),
        pytest.param(["ingest", "incidents", "{missing}", "--source", "community"], "cannot read", id="missing-file"),
        pytest.param(
            ["ingest", "incidents", "{nolocation}", "--source", "community", "--lat-col", "zz", "--lon-col", "b"],
            "--lat-col 'zz' is not a column",
            id="bad-override",
        ),
        pytest.param(
            ["ingest", "boundaries", "{nolocation}", "--kind", "precinct"], "could not be opened", id="csv-as-boundary"
        ),
        pytest.param(
            ["ingest", "incidents", "{nolocation}", "--source", "community", "--mapping", "{missing}"],
            "cannot read mapping file",
            id="missing-mapping",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_line(cli_store, tmp_path, args, message):
    nolocation = write_csv(tmp_path, "n.csv", "a,b,c\n1,2,3\n")
    filled = [a.format(nolocation=nolocation, missing=tmp_path / "absent.csv") for a in args]
    result = run(*filled, store=cli_store, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("areasafe: error:") and message in lines[0]


def test_rejections_still_exit_0(cli_store, tmp_path):
    csv = write_csv(tmp_path, "r.csv", "lat,lon,date\n,,2025-01-01\n")
    result = run("ingest", "incidents", str(csv), "--source", "municipal", "--json", store=cli_store)
    assert json.loads(result.stdout)["rejected"] == 1


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_formats(cli_store, tmp_path, fmt):
    csv = write_csv(
        tmp_path,
        "e.csv",
        'id,date,category,lat,lon,description\n1,2025-03-04,Robbery,-34.05,18.55,=HYPERLINK("http://x")\n',
    )
    run("ingest", "incidents", str(csv), "--source", "municipal", store=cli_store)
    out = tmp_path / f"out.{fmt}"
    run("export", fmt, str(out), "--layer", "incidents", store=cli_store)
    if fmt == "csv":
        table = pd.read_csv(out)
        assert table["description"].iloc[0].startswith("'=")  # formula neutralised
        assert table["wkt"].iloc[0].startswith("POINT")
    else:
        frame = gpd.read_file(out, layer="incidents" if fmt == "gpkg" else None)
        assert len(frame) == 1 and frame.crs.to_epsg() == 4326
        assert frame["precinct_code"].iloc[0] == "P-WEST"


def test_store_env_variable_is_the_default(tmp_path):
    store = tmp_path / "env.gpkg"
    env_run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "batches"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "AREASAFE_STORE": str(store)},
        timeout=120,
    )
    assert env_run.returncode == 0 and store.exists()


def test_store_env_variable_selects_postgis(pg_url, tmp_path):
    precincts, _ = write_areas(tmp_path)
    env = {**__import__("os").environ, "AREASAFE_STORE": pg_url}
    for args in (["ingest", "boundaries", str(precincts), "--kind", "precinct"], ["batches", "--json"]):
        env_run = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert env_run.returncode == 0, env_run.stderr
    assert [b["kind"] for b in json.loads(env_run.stdout)] == ["boundaries"]


def test_db_upgrade_creates_the_schema_then_the_store_opens(pg_cluster, tmp_path):
    url = pg_cluster.create_database()
    refused = run("batches", store=url, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "has no AreaSafe schema yet; run `areasafe db upgrade --store" in refused.stderr
    assert "none (run areasafe db upgrade)" in run("db", "current", "--store", url).stdout
    assert (
        run("db", "upgrade", "--store", url)
        .stdout.strip()
        .endswith("applied schema revisions 0001, 0002, 0003, 0004, 0005, 0006, 0007, 0008, 0009, 0010; now at 0010")
    )
    assert run("db", "upgrade", store=url).stdout.strip().endswith("already at schema revision 0010")
    assert "schema revision 0010; this AreaSafe needs 0010" in run("db", "current", store=url).stdout
    bad = run("db", "upgrade", "--revision", "0099", store=url, check=False)
    assert (
        bad.returncode == 2
        and "cannot upgrade" in bad.stderr
        and "revisions are 0001, 0002, 0003, 0004, 0005, 0006, 0007, 0008, 0009, 0010" in bad.stderr
    )
    assert "no batches yet" in run("batches", store=url).stdout
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


def test_db_upgrade_sql_prints_the_migration_for_a_dba():
    sql = run("db", "upgrade", "--sql", "--store", "postgresql://dba@db.example.org/areasafe").stdout
    assert "CREATE EXTENSION IF NOT EXISTS postgis;" in sql and 'CREATE TABLE "incidents"' in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    assert "UPDATE alembic_version SET version_num='0010'" in sql and sql.rstrip().endswith("COMMIT;")


def test_db_upgrade_on_a_geopackage_says_it_needs_none(tmp_path):
    out = run("db", "upgrade", "--store", str(tmp_path / "g.gpkg")).stdout
    assert "is a GeoPackage at the current schema" in out and (tmp_path / "g.gpkg").exists()
    result = run("db", "upgrade", "--sql", "--store", str(tmp_path / "g.gpkg"), check=False)
    assert result.returncode == 2 and "--sql prints PostGIS migrations" in result.stderr


def test_counts_assets_interventions_commands(cli_store, tmp_path):
    counts = write_csv(tmp_path, "c.csv", "Station,Category,2014-2015,2015-2016\nWest,Murder,3,4\nNowhere,Murder,1,1\n")
    summary = json.loads(run("ingest", "counts", str(counts), "--json", store=cli_store).stdout)
    assert (summary["accepted"], summary["rejected"], summary["rejections"]) == (1, 1, {"unknown_area": 1})
    assets = write_csv(
        tmp_path,
        "a.csv",
        "name,abcd_category,type,latitude,longitude\n"
        "Church,associations,church,-34.05,18.55\nNo place,physical,field,,\n",
    )
    summary = json.loads(run("ingest", "assets", str(assets), "--json", store=cli_store).stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    interventions = write_csv(
        tmp_path,
        "i.csv",
        "name,status,lead,latitude,longitude,end\n"
        "Lights,In progress,Urban Management,-34.05,18.55,2026-06-30\n"
        "Box,unknown status,SS,-34.05,18.55,\n",
    )
    summary = json.loads(run("ingest", "interventions", str(interventions), "--json", store=cli_store).stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 1)


def test_every_option_has_a_line_of_help():
    """``areasafe --help`` and every sub-command's help describe each argument (issue 18)."""
    import argparse

    from pipelines.cli import _parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help and action.dest != "help":
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(_parser(), "areasafe")
    assert not missing, missing


def test_ingest_incidents_sheet_option_and_notes(cli_store, tmp_path):
    """--sheet picks the Excel sheet; the report says which sheet was read and which were left aside."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Incidents")
    sheet.append(["id", "date", "category", "latitude", "longitude"])
    sheet.append(["1", "2025-03-04", "Robbery", "-34.05", "18.55"])
    path = tmp_path / "walk.xlsx"
    book.save(path)
    result = run("ingest", "incidents", str(path), "--source", "community", "--sheet", "Incidents", store=cli_store)
    assert "1 accepted" in result.stdout
    assert "note: read from Excel, sheet 'Incidents'; left aside: 'Notes'" in result.stdout
    wrong = run(
        "ingest", "incidents", str(path), "--source", "community", "--sheet", "Data", store=cli_store, check=False
    )
    assert wrong.returncode == 2
    assert "its sheets are: 'Notes', 'Incidents'" in wrong.stderr
    assert "--sheet" in run("ingest", "incidents", "--help").stdout


def test_date_format_and_identical_rows_options(tmp_path):
    store = tmp_path / "cli.gpkg"
    rows = "date,category,lat,lon\n" + "10/11/2025 10:00,Robbery,-34.05,18.55\n" * 2
    csv = write_csv(tmp_path, "m.csv", rows)
    plain = run("ingest", "incidents", str(csv), "--source", "community", store=store).stdout
    assert "1 rows were identical to an earlier row (no record id) and were dropped as copies" in plain
    assert "--keep-identical-rows keeps them" in plain
    assert "read day first; --date-format mdy reads them month first" in plain
    kept = run(
        "ingest", "incidents", str(csv), "--source", "community", "--org", "b", "--keep-identical-rows",
        "--date-format", "mdy", "--json", store=store,
    )  # fmt: skip
    summary = json.loads(kept.stdout)
    assert (summary["accepted"], summary["duplicates"], summary["warnings"]["identical_row"]) == (2, 0, 1)
    assert "ambiguous_date_order" not in summary["warnings"]  # the order was given
    bad = run("ingest", "incidents", str(csv), "--source", "community", "--date-format", "%d", store=store, check=False)
    assert bad.returncode == 2 and "has no year or month" in bad.stderr
    mixed = write_csv(tmp_path, "x.csv", "date,category,lat,lon\n13/01/2025,R,-34,18\n01/13/2025,R,-34,18\n")
    refused = run("ingest", "incidents", str(mixed), "--source", "community", store=store, check=False)
    assert refused.returncode == 2 and "row 2 can only be day first" in refused.stderr
