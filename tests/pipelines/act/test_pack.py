"""The meeting pack on the real demo store: rendered with poppler (pdftoppm, pdftotext), read back, checked.

The PNG pages go to ``test-artifacts/pack/`` for a person to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipelines.act.actions import save_action
from pipelines.act.pack import PackError, build_pack, render_html, write_pack
from pipelines.cli import main
from pipelines.privacy import operator
from pipelines.settings import DEMO_DIR, PROJECT_ROOT
from tests._dashboard import CHROMIUM

PLANTED = json.loads((DEMO_DIR / "planted.json").read_text())["emerging_hotspot"]
CODE = PLANTED["neighbourhood_code"]
MONTH = max(PLANTED["months"])
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "pack"
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="needs poppler-utils (pdftoppm, pdftotext)")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    built = open_store(tmp_path_factory.mktemp("pack") / "demo.gpkg")
    build_demo(built)
    yield built
    built.close()


@pytest.fixture(scope="module")
def pdf(store, tmp_path_factory) -> Path:
    return write_pack(store, CODE, MONTH, tmp_path_factory.mktemp("out") / "pack.pdf", viewer=operator())


def _text(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def _pages(pdf: Path, folder: Path, dpi: int = 60) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


@needs_poppler
def test_pdf_has_map_page_agenda_and_tables(pdf):
    from PIL import Image

    pages = _pages(pdf, ARTIFACTS / "internal")
    assert len(pages) >= 6
    cover, trends = _text(pdf, 1), _text(pdf, 2)
    assert f"ACT meeting pack: Harare Holomisa, October {MONTH[:4]}" in cover
    assert "Agenda" in cover and "Actions from last time" in cover and "Internal: for ACT members" in cover
    assert "Map" in cover and "H1..." in cover and "I1..." in cover  # the map and its caption, under the agenda
    assert "Trends" in trends
    assert [(page, width >= 1200) for page, width, _ in _images(pdf)] == [(1, True), (2, True)]
    assert Image.open(pages[1]).size == Image.open(pages[0]).size  # the map page rendered like the others
    text = " ".join(_text(pdf).split())
    for expected in (
        "1. Actions from last time",
        "2. Interventions: changes and stale updates",
        "H1: New hot spot near",
        "Changes in counts",
        "Community reports since last meeting",
        "Budget cycles and deadlines",
        "A. Actions register",
        "B. Interventions",
        "C. Budget cycles",
        "D. What falls in which budget cycle",
        "Ncumo Road street lighting upgrade",
        "2026-08-A01",  # the overdue SAPS patrol action, by its short id
        "Bottleneck",
        "MFMA s72(1)",
    ):
        assert expected in text, expected


def _images(pdf: Path) -> list[tuple[int, int, float]]:
    """(page, width in pixels, pixels per inch) of each image in ``pdf`` (pdfimages)."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]
    return [(int(row[0]), int(row[3]), float(row[12])) for row in rows if row[2] == "image"]


def _inked_share(png: Path) -> float:
    """How far down page ``png`` its content reaches, as a share of the page height (the footer left out)."""
    from PIL import Image

    grey = np.asarray(Image.open(png).convert("L"), dtype=int)
    footer = int(grey.shape[0] * 0.93)  # the footer line: on every page, whatever the page holds
    inked = np.flatnonzero((grey[:footer] < 200).any(axis=1))
    return (inked.max() + 1) / grey.shape[0] if len(inked) else 0.0


@needs_poppler
def test_page_one_carries_the_agenda_and_the_map(pdf, tmp_path):
    """Page 1 held the title, the agenda and then blank paper (two thirds of the page): the map now fills it,
    drawn at the size it is printed (its labels at 9.5 pt, not shrunk)."""
    first = _pages(pdf, tmp_path, dpi=40)[0]
    assert _inked_share(first) > 0.8, f"page 1 ends {_inked_share(first):.0%} down the page"
    page, _, ppi = _images(pdf)[0]
    assert page == 1 and abs(ppi - 200) <= 2, f"the map is printed at {ppi} ppi, not at the 200 it was drawn for"


@needs_poppler
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_html_pack_prints_the_map_on_page_one(store, tmp_path, browser):
    """The HTML pack printed from a browser (Chromium's print to PDF) starts with the agenda and the map too."""
    document = tmp_path / "pack.html"
    document.write_text(render_html(build_pack(store, CODE, MONTH, viewer=operator())))
    page = browser.new_page()
    try:
        page.goto(document.as_uri())
        page.pdf(path=str(tmp_path / "printed.pdf"), format="A4")
    finally:
        page.close()
    printed = tmp_path / "printed.pdf"
    assert [p for p, _, _ in _images(printed)][:2] == [1, 2]  # the map on page 1, the trends on page 2
    cover = _text(printed, 1)
    assert "Actions from last time" in cover and "H1..." in cover
    assert _inked_share(_pages(printed, tmp_path / "printed", dpi=40)[0]) > 0.75


@needs_poppler
def test_pdf_prints_in_black_and_white_with_nothing_below_9_points(pdf, tmp_path):
    from PIL import Image

    for page in _pages(pdf, tmp_path, dpi=40):
        rgb = np.asarray(Image.open(page).convert("RGB"), dtype=int)
        spread = rgb.max(axis=2) - rgb.min(axis=2)
        assert spread.max() < 12, f"{page.name} uses colour"
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    heights = [
        float(b) - float(a)
        for a, b in re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', bbox)
    ]
    assert len(heights) > 500
    assert min(heights) > 8.99, f"text of {min(heights):.1f} pt"  # pdftotext's word box height is the font size
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and "DejaVuSans-Bold" in fonts


def test_html_is_self_contained(store):
    document = render_html(build_pack(store, CODE, MONTH, viewer=operator()))
    images = re.findall(r'<img[^>]*src="([^"]+)"', document)
    text = re.sub(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"', 'src=""', document)
    assert not re.search(r"https?:|//[a-z0-9]|<link|<script|@import|url\(|\bsrc=\"[^\"]", text, re.I)
    assert len(images) == 2 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "Actions register" in document and "Ncumo Road street lighting upgrade" in document
    assert document.count("<table>") >= 8


@needs_poppler
def test_public_pack_follows_the_privacy_rules(store, tmp_path):
    pdf = write_pack(store, CODE, MONTH, tmp_path / "public.pdf", viewer=operator(), public=True)
    _pages(pdf, ARTIFACTS / "public")
    text = " ".join(_text(pdf).split())
    assert "PUBLIC" in text and "<5" in text
    assert "Sensitive categories (combined)" in text and "Domestic violence" not in text
    secrets = ("T. Mahlangu", "Capt. M. Ntshona", "Cable stolen", "Amatsotsi", "Young man stabbed", "Eskom")
    for secret in (*secrets, "retired nurse"):
        assert secret not in text, secret
    assert "What was reported" not in text and "Five most frequent categories" not in text
    html = render_html(build_pack(store, CODE, MONTH, viewer=operator(), public=True))
    assert "T. Mahlangu" not in html and "Public version" in html


def test_a_recorded_action_appears_in_the_regenerated_pack(store):
    decision = "Install two solar lights at the footpath to Kuyasa station (pack test)"
    save_action(
        store,
        {"neighbourhood_code": CODE, "month": MONTH, "decision": decision, "owner_org": "Energy", "due": "2026-12-15"},
        user="pytest",
    )
    document = render_html(build_pack(store, CODE, MONTH, viewer=operator()))
    sections = {part.split("</h2>")[0]: part for part in document.split("<h2>")[1:]}
    decisions = next(body for title, body in sections.items() if title.endswith("Decisions recorded at this meeting"))
    assert decision in decisions and f"{MONTH}-A01" in decisions
    assert decision in sections["A. Actions register"]
    assert "Actions from last time" in document and decision not in next(
        body for title, body in sections.items() if title.endswith("Actions from last time")
    )


def test_write_pack_refuses_bad_paths_and_writes_nothing(store, tmp_path):
    with pytest.raises(PackError, match=r"--out must end in .pdf or .html .*got '.*pack.docx'"):
        write_pack(store, CODE, MONTH, tmp_path / "pack.docx", viewer=operator())
    with pytest.raises(PackError, match="--out folder .* does not exist"):
        write_pack(store, CODE, MONTH, tmp_path / "missing" / "pack.pdf", viewer=operator())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--neighbourhood", "KHA-NOPE", "--month", MONTH], "Unknown neighbourhood 'KHA-NOPE'", id="code"),
        pytest.param(
            ["--neighbourhood", CODE, "--month", "Oct 2026"], "--month must be a month written YYYY-MM", id="month"
        ),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(store, tmp_path, capsys, args, message):
    out = tmp_path / "pack.pdf"
    assert main(["--store", store.url, "pack", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("areasafe: error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_cli_writes_html_by_suffix(store, tmp_path, capsys):
    out = tmp_path / "pack.html"
    assert main(["--store", store.url, "pack", "--neighbourhood", CODE, "--month", MONTH, "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert f"wrote the meeting pack to {out}" in capsys.readouterr().out


def test_the_trend_chart_draws_no_month_before_the_data_began():
    """A line that starts at 0 in months with no data reads as a rise (issue 17, item 6)."""
    import numpy as np
    import pandas as pd

    from pipelines.act.figures import missing_before

    months = pd.period_range("2026-01", periods=4, freq="M")
    values = pd.Series([0.0, 0.0, 12.0, 12.0], index=months)
    drawn = missing_before(values, pd.Period("2026-03", "M"))
    assert np.isnan(drawn.iloc[:2]).all() and drawn.iloc[2:].tolist() == [12.0, 12.0]
    assert missing_before(values, None).isna().all()  # no data at all: nothing to draw


@needs_poppler
def test_one_a4_document_for_the_pack_and_the_ward_report(pdf, tmp_path):
    """``a4_pdf`` lays out both documents: A4, titled by AreaSafe, the footer and page number on every page
    ("page N", or "page N of M" when the document says how many pages it has)."""
    from reportlab.platypus import PageBreak, Paragraph

    from pipelines.act.pack.pdf_doc import a4_pdf, pdf_styles

    body = pdf_styles()["body"]
    story = [Paragraph("one", body), PageBreak(), Paragraph("two", body)]
    out = tmp_path / "two.pdf"
    out.write_bytes(a4_pdf(story, title="T", subject="S", footer="FOOT | T", margin=40, footer_room=10, pages=2))
    info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Title:\s+T\n", info) and re.search(r"Author:\s+AreaSafe", info) and "A4" in info
    assert "FOOT | T" in _text(out, 2) and "page 2 of 2" in _text(out, 2)
    pack_info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", pack_info)[1])
    last = _text(pdf, pages)
    assert "INTERNAL: ACT members only" in last and re.search(rf"page {pages}\s*$", last)
