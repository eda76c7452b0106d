"""The meeting pack as an A4 PDF (reportlab, DejaVu fonts embedded), and the PDF pieces the ward report
shares: the fonts and paragraph styles, the one table builder, images and the A4 document with its footer.

Place in the data flow: show. No network and no browser: the fonts ship with matplotlib.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from pipelines.act.pack.sections import MeetingPack


def pdf_table(frame: pd.DataFrame, widths: tuple[float, ...], width: float, styles: dict):
    """``frame`` as a boxed PDF table ``width`` wide, its columns shared by ``widths`` (relative): the pack's
    and the ward report's tables."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    if not len(frame):
        return Paragraph("Nothing to list.", styles["caveat"])
    col_widths = _column_widths(frame, widths, width)
    data = [[Paragraph(escape(str(c)), styles["th"]) for c in frame.columns]]
    data += [[Paragraph(escape(str(v)), styles["td"]) for v in row] for row in frame.itertuples(index=False)]
    grid = Table(data, colWidths=col_widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.85, 0.85, 0.85)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return grid


def render_pdf(pack: MeetingPack) -> bytes:
    """The pack as an A4 PDF (reportlab), fonts embedded, every page marked internal or public."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, ListFlowable, ListItem, PageBreak, Paragraph, Spacer

    styles = pdf_styles()
    margin = 14 * mm
    width = A4[0] - 2 * margin
    story = [
        Paragraph(escape(pack.title), styles["title"]),
        Paragraph(escape(pack.facts), styles["small"]),
        Spacer(1, 3 * mm),
        notice_box(pack.notice, width, styles),
        Paragraph("Agenda", styles["h2"]),
        ListFlowable(
            [ListItem(Paragraph(escape(s.title), styles["body"]), leftIndent=14) for s in pack.agenda],
            bulletType="1",
            bulletFontName=PDF_FONT,
            bulletFontSize=10,
        ),
        Paragraph("Annexes: " + escape("; ".join(f"{s.number}. {s.title}" for s in pack.annexes)), styles["small"]),
        # The map fills the rest of page 1 (a cover of a few lines left it mostly blank).
        Paragraph("Map", styles["h2"]),
        _fitted_image(pack.map_png, width, reserve=22 * mm, smallest=110 * mm),
        Paragraph(escape(pack.map_caption), styles["small"]),
        PageBreak(),
        Paragraph("Trends", styles["h2"]),
        pdf_image(pack.trend_png, width, 200 * mm),
        Paragraph(escape(pack.trend_caption), styles["small"]),
    ]
    for i, section in enumerate((*pack.agenda, *pack.annexes)):
        if i in (0, len(pack.agenda)):
            story.append(PageBreak())
        heading = Paragraph(f"{escape(section.number)}. {escape(section.title)}", styles["h2"])
        story.append(KeepTogether([heading, Paragraph(escape(section.summary), styles["body"]), Spacer(1, 2 * mm)]))
        story.append(pdf_table(section.table, section.widths, width, styles))
        story.extend(Paragraph(escape(c), styles["caveat"]) for c in section.caveats)
    footer = ("PUBLIC" if pack.public else "INTERNAL: ACT members only") + f" | {pack.title}"
    return a4_pdf(
        story,
        title=pack.title,
        subject="ACT meeting pack",
        footer=footer[:110],
        margin=margin,
        footer_room=4 * mm,
    )


def a4_pdf(
    story: list,
    *,
    title: str,
    subject: str,
    footer: str,
    margin: float,
    footer_room: float,
    pages: int | None = None,
) -> bytes:
    """``story`` laid out on A4 pages ``margin`` (points) from each edge, ``footer_room`` more at the foot, with
    ``footer`` and the page number ("page 2", or "page 2 of ``pages``") at the foot of every page: the PDF's
    bytes, titled ``title`` by AreaSafe (the pack's and the ward report's documents)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + footer_room,
        title=title,
        author="AreaSafe",
        subject=subject,
    )
    of = "" if pages is None else f" of {pages}"

    def on_page(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(PDF_FONT, 9)
        canvas.drawString(margin, margin - 2 * mm, footer)
        canvas.drawRightString(A4[0] - margin, margin - 2 * mm, f"page {document.page}{of}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def pdf_image(png: bytes, width: float, max_height: float):
    """``png`` as a PDF image as large as fits ``width`` by ``max_height`` (points), its shape kept."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    w, h = ImageReader(io.BytesIO(png)).getSize()
    scale = min(width / w, max_height / h)
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


def notice_box(text: str, width: float, styles: dict):
    """Who may read the document, in bold in a black box ``width`` wide (the first thing under the title)."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table

    return Table(
        [[Paragraph(escape(text), styles["notice"])]],
        colWidths=[width],
        style=[("BOX", (0, 0), (-1, -1), 1.2, colors.black), ("LEFTPADDING", (0, 0), (-1, -1), 5)],
    )


def _fitted_image_class():
    from reportlab.platypus import Image

    class FittedImage(Image):
        """An image as large as the room left on the page allows (less ``reserve`` for its caption), never
        smaller than ``smallest`` high: with less room it goes to the next page whole."""

        def __init__(self, png: bytes, width: float, *, reserve: float, smallest: float) -> None:
            from reportlab.lib.utils import ImageReader

            self._size = ImageReader(io.BytesIO(png)).getSize()
            self._room = (width, reserve, smallest)
            super().__init__(io.BytesIO(png), width=width, height=width * self._size[1] / self._size[0])

        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            width, reserve, smallest = self._room
            w, h = self._size
            room = avail_height - reserve
            scale = min(min(width, avail_width) / w, (room if room >= smallest else 10 * smallest) / h)
            self.drawWidth, self.drawHeight = w * scale, h * scale
            self.hAlign = "CENTER"
            return self.drawWidth, self.drawHeight

    return FittedImage


def _fitted_image(png: bytes, width: float, *, reserve: float, smallest: float):
    """A flowable of ``png`` that fills the room left on its page (:func:`_fitted_image_class`)."""
    return _fitted_image_class()(png, width, reserve=reserve, smallest=smallest)


PDF_FONT = "DejaVuSans"
_PAD = 7.0  # left + right cell padding, points


def _column_widths(frame: pd.DataFrame, weights: tuple[float, ...], width: float) -> list[float]:
    """Column widths in points: in proportion to ``weights``, but never narrower than the longest word of a
    column (so dates and words are not broken mid-way), taking the room from the widest columns."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def longest(texts, font: str) -> float:
        words = (w for t in texts for w in str(t).split())
        return max((stringWidth(w, font, 9) for w in words), default=0.0) + _PAD

    minimum = [
        min(max(longest([c], f"{PDF_FONT}-Bold"), longest(frame[c].head(200), PDF_FONT)), width / 3)
        for c in frame.columns
    ]
    total = sum(weights)
    widths = [width * w / total for w in weights]
    for _ in range(len(widths)):
        short = [i for i, (w, m) in enumerate(zip(widths, minimum, strict=True)) if w < m - 0.01]
        if not short:
            break
        need = sum(minimum[i] - widths[i] for i in short)
        for i in short:
            widths[i] = minimum[i]
        donors = [i for i in range(len(widths)) if i not in short and widths[i] > minimum[i]]
        spare = sum(widths[i] - minimum[i] for i in donors)
        if spare <= 0:
            break
        for i in donors:
            widths[i] -= need * (widths[i] - minimum[i]) / spare
    scale = width / sum(widths)
    return [w * scale for w in widths]


def pdf_styles() -> dict:
    """Paragraph styles on the DejaVu fonts shipped with matplotlib (registered once, embedded in the PDF)."""
    from matplotlib import font_manager
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        folder = Path(font_manager.findfont("DejaVu Sans")).parent
        for name, file in (
            (PDF_FONT, "DejaVuSans.ttf"),
            (f"{PDF_FONT}-Bold", "DejaVuSans-Bold.ttf"),
            (f"{PDF_FONT}-Oblique", "DejaVuSans-Oblique.ttf"),
            (f"{PDF_FONT}-BoldOblique", "DejaVuSans-BoldOblique.ttf"),
        ):
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        pdfmetrics.registerFontFamily(
            PDF_FONT,
            normal=PDF_FONT,
            bold=f"{PDF_FONT}-Bold",
            italic=f"{PDF_FONT}-Oblique",
            boldItalic=f"{PDF_FONT}-BoldOblique",
        )
    base = ParagraphStyle("body", fontName=PDF_FONT, fontSize=10, leading=13.5, spaceAfter=3)
    return {
        "body": base,
        "title": ParagraphStyle(
            "title", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=18, leading=22, spaceAfter=4
        ),
        "h2": ParagraphStyle("h2", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=13.5, leading=17, spaceBefore=8),
        "small": ParagraphStyle("small", parent=base, fontSize=9.5, leading=12),
        "notice": ParagraphStyle("notice", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=10, leading=13),
        "caveat": ParagraphStyle("caveat", parent=base, fontName=f"{PDF_FONT}-Oblique", fontSize=9, leading=11.5),
        "th": ParagraphStyle("th", parent=base, fontName=f"{PDF_FONT}-Bold", fontSize=9, leading=11, spaceAfter=0),
        "td": ParagraphStyle("td", parent=base, fontSize=9, leading=11, spaceAfter=0),
    }
