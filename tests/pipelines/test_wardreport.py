"""The ward councillor's report (pipelines.wardreport): rendered, read back with pdftotext and pdftoppm, and the
``areasafe ward-report`` command."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image

from pipelines import cli, privacy
from pipelines.wardreport import build_report, render_html, render_pdf, render_png, report_viewer

MONTH = "2026-10"
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"), reason="poppler")


@pytest.fixture(scope="module")
def public_report(demo_store):
    return build_report(demo_store, "98", MONTH)


@pytest.fixture(scope="module")
def public_pdf(public_report, tmp_path_factory):
    path = tmp_path_factory.mktemp("ward") / "report.pdf"
    path.write_bytes(render_pdf(public_report))
    return path


def _text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


@needs_poppler
def test_the_report_is_two_a4_pages_that_read_back(public_pdf, tmp_path):
    text = _text(public_pdf)
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) == 2
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(public_pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == 2
    for image in images:  # A4 at 50 dpi: 595 x 842 points, rounded up by pdftoppm
        assert Image.open(image).size == (414, 585)
    first, second = pages[0], pages[1]
    assert "Ward 98: October 2026" in first and "In one minute" in first and "page 1 of 2" in first
    assert "PUBLIC" in first and "City of Cape Town wards, 2021 demarcation" in first
    assert "What is being done: interventions in the ward" in second and "Open ACT actions" in second
    assert "How these figures were made" in second and "in proportion to area" in second
    assert "page 2 of 2" in second


@needs_poppler
def test_the_public_report_holds_nothing_the_public_map_does_not(public_pdf, public_report, demo_store):
    text = " ".join(_text(public_pdf).split())
    html = render_html(public_report)
    people = set(demo_store.read_table("actions")["owner_person"].dropna())
    incidents = demo_store.read_incidents()
    descriptions = [d for d in incidents["description"].dropna() if len(d) > 30][:200]
    for document in (text, html):
        assert not any(name in document for name in people)
        assert not any(d in document for d in descriptions)
        for label in ("Child abuse", "Gender-based violence", "Sexual offences"):
            assert label not in document
        assert not re.search(r"-34\.\d{4,}", document) and not re.search(r"\b8[0-9a-f]{14}\b", document)
        assert "PD199" not in document and "batch" not in document.lower()
    # Small counts read <5; every number of reports shown is 0, <5 or at least 5.
    for value in public_report.view.reports["Community reports"]:
        assert value in ("<5", "withheld") or int(value) >= 5
    assert "<5" in text


def test_a_role_gets_its_own_view_and_the_people(demo_store):
    report = build_report(demo_store, "98", MONTH, viewer=report_viewer("planner"))
    html = render_html(report)
    assert not report.public and "not for publication" in report.notice
    assert any(name in html for name in set(demo_store.read_table("actions")["owner_person"].dropna()))


def test_the_html_is_offline_and_fits_a_phone(public_report):
    html = render_html(public_report)
    assert 'name="viewport"' in html and "data:image/png;base64," in html
    assert not re.search(r"(src|href)=\"(?!data:)", html) and "http" not in html


def test_the_whatsapp_summary_is_a_small_portrait_png(public_report, tmp_path):
    path = tmp_path / "summary.png"
    path.write_bytes(render_png(public_report))
    image = Image.open(path)
    assert image.size == (1080, 1350) and path.stat().st_size < 400_000


# -- the command line ------------------------------------------------------------------------------------
def test_the_ward_report_command(demo_store, tmp_path, capsys):
    out = tmp_path / "report.pdf"
    code = cli.main(["--store", demo_store.url, "ward-report", "--ward", "98", "--month", MONTH, "--out", str(out)])
    assert code == 0 and out.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "report-summary.png").is_file()
    assert "the public rules" in capsys.readouterr().out
    assert cli.main(["--store", demo_store.url, "ward-report", "--list-versions"]) == 0
    assert "City of Cape Town wards, 2021 demarcation: 34 wards from wards.geojson" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["--ward", "98", "--month", MONTH, "--out", "r.docx"], "--out must end in .pdf, .html or .png", id="suffix"
        ),
        pytest.param(["--ward", "7", "--month", MONTH, "--out", "r.pdf"], "--ward '7' is not a stored ward", id="ward"),
        pytest.param(["--ward", "98", "--month", "10/2026", "--out", "r.pdf"], "--month", id="month"),
        pytest.param(["--ward", "98", "--out", "r.pdf"], "ward-report needs --month", id="missing"),
        pytest.param(
            ["--ward", "98", "--month", MONTH, "--out", "r.pdf", "--boundary-version", "2031"],
            "--boundary-version '2031' is not stored",
            id="version",
        ),
    ],
)
def test_the_ward_report_command_refuses_with_a_message(demo_store, tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--store", demo_store.url, "ward-report", *arguments]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_every_ward_report_option_has_a_help_line():
    parser = cli._parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["ward-report"]
    assert all(action.help for action in sub._actions)
    assert "--kind ward" not in sub.format_help()  # the ingest option lives on 'ingest boundaries'
    boundaries = next(a for a in parser._actions if a.dest == "command").choices["ingest"]
    assert "ward" in next(a for a in boundaries._actions if a.dest == "kind").choices["boundaries"].format_help()


def test_the_public_viewer_is_the_default():
    assert report_viewer() == privacy.PUBLIC
    assert report_viewer("cso", "Org").org == "Org"
