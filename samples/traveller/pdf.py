"""Render traveller sheets and vial labels to PDF with reportlab platypus.

Layout follows a fab MES run sheet: identity and QR first, then what to collect
(inputs, chemicals, masses), then the operations with a box for every actual value,
then results and sign-off. All text goes through Paragraphs so it wraps instead of
overflowing, in DejaVu Sans (vendored) so ₂, ⟨n⟩, µL, °C and Å always print.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .chart import ChartFlowable
from .data import (
    DateLike,
    LabelData,
    ParamRow,
    Plot,
    Quantity,
    TravellerSheet,
)

# --- fonts -------------------------------------------------------------------------------

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
_FONT_DIR = Path(__file__).with_name("fonts")


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(_FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONT_DIR / "DejaVuSans-Bold.ttf")))
    # Italic maps to regular: one family keeps <b> working without shipping four files.
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


_register_fonts()

# --- look --------------------------------------------------------------------------------

INK = colors.HexColor("#1b2430")
MUTED = colors.HexColor("#5b6675")
RULE = colors.HexColor("#b8c0cc")
BAND = colors.HexColor("#eef1f5")
DEV_FILL = colors.HexColor("#fde3e1")
DEV_INK = colors.HexColor("#b3261e")
ACTUAL_INK = colors.HexColor("#0b4f9c")  # filled-in values read like a blue pen
PLANNED_FILL = colors.HexColor("#e3edfb")
DONE_FILL = colors.HexColor("#e2f3e6")

MARGIN = 14 * mm
PAGE_SIZES = {"A4": A4, "Letter": LETTER}


def _style(name: str, size: float = 8, **kw) -> ParagraphStyle:
    kw.setdefault("fontName", FONT)
    kw.setdefault("textColor", INK)
    kw.setdefault("leading", size * 1.22)
    return ParagraphStyle(name, fontSize=size, **kw)


S_BODY = _style("body")
S_SMALL = _style("small", 6.8, textColor=MUTED)
S_HEAD = _style("head", 7, fontName=FONT_BOLD, textColor=MUTED)
S_BOLD = _style("bold", fontName=FONT_BOLD)
S_NUM = _style("num", alignment=TA_RIGHT)
S_NUM_HEAD = _style("numhead", 7, fontName=FONT_BOLD, textColor=MUTED, alignment=TA_RIGHT)
S_SECTION = _style("section", 9.5, fontName=FONT_BOLD, spaceBefore=0, spaceAfter=0)
S_KEY = _style("key", 7.2, textColor=MUTED)
S_VALUE = _style("value", 9)
S_BADGE = _style("badge", 7.5, fontName=FONT_BOLD, alignment=TA_CENTER)
S_DEV = _style("dev", 6.5, fontName=FONT_BOLD, textColor=DEV_INK)
S_LINEAGE = _style("lineage", 8, fontName=FONT_BOLD)
S_CAPTION = _style("caption", 7, textColor=MUTED, alignment=TA_CENTER)

_GRID = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ("BACKGROUND", (0, 0), (-1, 0), BAND),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
]


# --- text helpers ------------------------------------------------------------------------


def _p(text: object, style: ParagraphStyle = S_BODY) -> Flowable:
    """A cell's plain text: escaped, so '<' or '&' in names never reach the markup parser."""
    return _Text("" if text is None else str(text), style)


class _Text(Flowable):
    """Plain text drawn as one line when it fits, else as a wrapping Paragraph.

    Most cells are short ("1000 rpm", a lot number); skipping Paragraph's markup parser
    and line breaker for them is what keeps a sheet inside its 150 ms budget.
    """

    def __init__(self, text: str, style: ParagraphStyle):
        super().__init__()
        self.text, self.style = text, style
        self._para: Paragraph | None = None

    def wrap(self, avail_w, avail_h):
        st = self.style
        if "\n" not in self.text and pdfmetrics.stringWidth(self.text, st.fontName, st.fontSize) <= avail_w:
            self._para = None
            self.width, self.height = avail_w, st.leading
            return self.width, self.height
        self._para = Paragraph(escape(self.text), st)
        self.width, self.height = self._para.wrap(avail_w, avail_h)
        return self.width, self.height

    def draw(self):
        if self._para is not None:
            self._para.drawOn(self.canv, 0, 0)
            return
        c, st = self.canv, self.style
        c.setFont(st.fontName, st.fontSize)
        c.setFillColor(st.textColor)
        y = self.height - st.fontSize  # same first baseline as a Paragraph
        if st.alignment == TA_RIGHT:
            c.drawRightString(self.width, y, self.text)
        elif st.alignment == TA_CENTER:
            c.drawCentredString(self.width / 2, y, self.text)
        else:
            c.drawString(0, y, self.text)


def fmt_number(value: Quantity) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}"


def fmt_quantity(value: Quantity | None, unit: str = "") -> str:
    """'1000 rpm', '110 °C' — SI style, a space between number and unit."""
    if value is None or value == "":
        return ""
    text = fmt_number(value)
    return f"{text} {unit}" if unit else text


def fmt_range(row: ParamRow) -> str:
    """'100–200 µL', '≥ 45 °C', or '' when the recipe gives no window."""
    unit = f" {row.unit}" if row.unit else ""
    if row.min is not None and row.max is not None:
        return f"{fmt_number(row.min)}–{fmt_number(row.max)}{unit}"
    if row.min is not None:
        return f"≥ {fmt_number(row.min)}{unit}"
    if row.max is not None:
        return f"≤ {fmt_number(row.max)}{unit}"
    return ""


def fmt_date(value: DateLike | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut text with '…' to fit one line; for canvas-drawn strings (footer, boxes)."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


# --- small flowables ---------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _qr_modules(url: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """QR symbol side (modules) and its dark runs (x, y, length), cached per URL."""
    matrix = segno.make(url, error="m", micro=False).matrix
    runs = []
    for y, row in enumerate(matrix):
        x, n = 0, len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append((start, y, x - start))
            else:
                x += 1
    return len(matrix), tuple(runs)


QUIET_ZONE = 4  # modules; ISO/IEC 18004 asks for 4 so any scanner finds the symbol


@lru_cache(maxsize=4096)
def _qr_path(url: str) -> tuple[int, PDFPathObject]:
    """The dark modules as one path in module units (y down from the top), built once per URL.

    Integer coordinates and a reused path keep a QR to a few PDF operators per row instead
    of formatting thousands of floats for every sheet that prints it.
    """
    n, runs = _qr_modules(url)
    path = PDFPathObject()
    for rx, ry, length in runs:
        path.rect(rx, -ry - 1, length, 1)
    return n, path


def draw_qr(canv: Canvas, url: str, x: float, y: float, size: float) -> None:
    """Vector QR (one filled path, so no seams between modules) with its quiet zone."""
    n, path = _qr_path(url)
    m = size / (n + 2 * QUIET_ZONE)
    canv.saveState()
    canv.translate(x + QUIET_ZONE * m, y + size - QUIET_ZONE * m)
    canv.scale(m, m)
    canv.setFillColor(colors.black)
    canv.drawPath(path, stroke=0, fill=1)
    canv.restoreState()


class QRCode(Flowable):
    def __init__(self, url: str, size: float):
        super().__init__()
        self.url, self.size = url, size
        self.width = self.height = size

    def wrap(self, avail_w, avail_h):
        return self.size, self.size

    def draw(self):
        draw_qr(self.canv, self.url, 0, 0, self.size)


class CheckBox(Flowable):
    def __init__(self, checked: bool = False, size: float = 8.5):
        super().__init__()
        self.checked, self.size = checked, size
        self.width = self.height = size

    def wrap(self, avail_w, avail_h):
        return self.size, self.size

    def draw(self):
        c, s = self.canv, self.size
        c.setStrokeColor(INK)
        c.setLineWidth(0.7)
        c.rect(0, 0, s, s)
        if self.checked:
            c.setStrokeColor(ACTUAL_INK)
            c.setLineWidth(1.2)
            c.lines([(s * 0.2, s * 0.5, s * 0.42, s * 0.2), (s * 0.42, s * 0.2, s * 0.85, s * 0.85)])


class EntryBox(Flowable):
    """A box to write a value in, with the unit printed at its right end; filled if known."""

    def __init__(self, width: float, unit: str = "", value: str = "", flagged: bool = False):
        super().__init__()
        self.width, self.height = width, 14
        self.unit, self.value, self.flagged = unit, value, flagged

    def wrap(self, avail_w, avail_h):
        self.width = min(self.width, avail_w)
        return self.width, self.height

    def draw(self):
        c, w, h = self.canv, self.width, self.height
        c.setStrokeColor(DEV_INK if self.flagged else MUTED)
        c.setLineWidth(1.0 if self.flagged else 0.6)
        c.setFillColor(colors.white)
        c.roundRect(0, 0, w, h, 1.5, stroke=1, fill=1)
        unit_w = 0.0
        if self.unit:
            unit = _fit(self.unit, FONT, 7, w * 0.45)
            unit_w = pdfmetrics.stringWidth(unit, FONT, 7) + 6
            c.setFillColor(MUTED)
            c.setFont(FONT, 7)
            c.drawRightString(w - 3, 4, unit)
        if self.value:
            font = FONT_BOLD if self.flagged else FONT
            c.setFillColor(DEV_INK if self.flagged else ACTUAL_INK)
            c.setFont(font, 8.5)
            c.drawString(3, 3.8, _fit(self.value, font, 8.5, max(w - unit_w - 6, 10)))


class _SheetStart(Flowable):
    """Zero-size marker: tells the canvas which sheet the following pages belong to."""

    def __init__(self, index: int, label: str):
        super().__init__()
        self.index, self.label = index, label
        self.width = self.height = 0

    def wrap(self, avail_w, avail_h):
        return 0, 0

    def draw(self):
        self.canv._sheet = (self.index, self.label)


# --- page furniture ----------------------------------------------------------------------


class _TravellerCanvas(Canvas):
    """Holds pages back until the end so each footer can say 'page x/y' of its own sheet."""

    def __init__(self, *args, generated: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._generated = generated
        self._sheet = (0, "")
        self._held: list[tuple[tuple[int, str], dict]] = []

    def showPage(self):
        self._held.append((self._sheet, dict(self.__dict__)))
        self._startPage()

    def save(self):
        totals = Counter(sheet[0] for sheet, _ in self._held)
        seen: Counter[int] = Counter()
        for sheet, state in self._held:
            self.__dict__.update(state)
            seen[sheet[0]] += 1
            self._furniture(sheet[1], seen[sheet[0]], totals[sheet[0]])
            super().showPage()
        super().save()

    def _furniture(self, label: str, page: int, total: int) -> None:
        w, _h = self._pagesize
        right_text = f"page {page}/{total}"
        mid_text = f"generated {self._generated}"
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN, MARGIN - 9, w - MARGIN, MARGIN - 9)
        self.setFont(FONT, 7)
        self.setFillColor(MUTED)
        self.drawRightString(w - MARGIN, MARGIN - 18, right_text)
        self.drawCentredString(w / 2, MARGIN - 18, mid_text)
        room = w / 2 - MARGIN - pdfmetrics.stringWidth(mid_text, FONT, 7) / 2 - 12
        self.setFont(FONT_BOLD, 7)
        self.setFillColor(INK)
        self.drawString(MARGIN, MARGIN - 18, _fit(f"LEDger · {label}", FONT_BOLD, 7, room))
        if page > 1:  # a loose continuation page still says which run it belongs to
            self.drawString(MARGIN, _h - MARGIN + 8, _fit(f"{label} (continued)", FONT_BOLD, 7, w - 2 * MARGIN))
        self.restoreState()


# --- sheet blocks ------------------------------------------------------------------------


def _section(title: str, aside: str = "") -> Table:
    cells = [[_p(title, S_SECTION), _p(aside, _style("aside", 7.5, textColor=MUTED, alignment=TA_RIGHT))]]
    t = Table(cells, colWidths=["55%", "45%"])
    t.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 1.1, INK),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


def _label_style(label: str) -> ParagraphStyle:
    # Short labels print big enough to read across the glovebox; long ones shrink and wrap.
    size = 22 if len(label) <= 14 else 16 if len(label) <= 28 else 12
    return _style(f"label{size}", size, fontName=FONT_BOLD, leading=size * 1.15)


def _header(sheet: TravellerSheet, width: float) -> list[Flowable]:
    qr_size = 31 * mm
    left_w = width * 0.42
    mid_w = width - left_w - qr_size - 6
    badge_fill = DONE_FILL if sheet.completed else PLANNED_FILL
    badge = Table([[_p(sheet.status.upper(), S_BADGE)]], colWidths=[26 * mm])
    badge.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), badge_fill),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    badge.hAlign = "LEFT"
    left = [_p("RUN TRAVELLER", S_HEAD), Spacer(0, 2), _p(sheet.label, _label_style(sheet.label))]
    if sheet.title:
        left += [Spacer(0, 2), _p(sheet.title, _style("title", 9.5, fontName=FONT_BOLD))]
    if sheet.kind:
        left.append(_p(sheet.kind, S_SMALL))
    left += [Spacer(0, 4), badge]

    version = f"v{sheet.recipe_version}" if str(sheet.recipe_version).isdigit() else sheet.recipe_version
    facts = [
        ("Recipe", f"{sheet.recipe_name} · {version}" if version else sheet.recipe_name),
        ("Project", sheet.project),
        ("Planned date", fmt_date(sheet.planned_date)),
    ]
    mid = Table(
        [[_p(k, S_KEY), _p(v or "—", S_VALUE)] for k, v in facts],
        colWidths=[22 * mm, mid_w - 22 * mm],
    )
    mid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    qr = [QRCode(sheet.url, qr_size), _p(sheet.url, _style("url", 5.5, textColor=MUTED, alignment=TA_CENTER))]
    t = Table([[left, mid, qr]], colWidths=[left_w, mid_w, qr_size + 6])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (1, 0), "TOP"),
                ("VALIGN", (2, 0), (2, 0), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("LEFTPADDING", (2, 0), (2, 0), 6),
                ("TOPPADDING", (1, 0), (1, 0), 10),
            ]
        )
    )
    return [t, Spacer(0, 5), _conditions(sheet, width)]


def _conditions(sheet: TravellerSheet, width: float) -> Table:
    """Operator, date and environment blanks: a label then a line to write on."""
    entries = [("Operator", sheet.operator, ""), ("Date", fmt_date(sheet.run_date), "")]
    entries += [(c.name, fmt_number(c.value) if c.value is not None else "", c.unit) for c in sheet.conditions]
    per_row = 2  # room to write by hand (and for a full operator name)
    key_w = 22 * mm
    val_w = width / per_row - key_w
    rows, style = (
        [],
        [
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f8fa")),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ],
    )
    for start in range(0, len(entries), per_row):
        row = []
        for i, (name, value, unit) in enumerate(entries[start : start + per_row]):
            col = 2 * i
            r = len(rows)
            row += [_p(name, _style("ck", 7.2, textColor=MUTED, alignment=TA_RIGHT)), EntryLine(val_w - 4, value, unit)]
            style.append(("LEFTPADDING", (col + 1, r), (col + 1, r), 4))
        row += [""] * (2 * per_row - len(row))
        rows.append(row)
    t = Table(rows, colWidths=[key_w, val_w] * per_row)
    t.setStyle(TableStyle(style))
    return t


class EntryLine(Flowable):
    """A write-on line with the unit at its end (for the header blanks)."""

    def __init__(self, width: float, value: str = "", unit: str = ""):
        super().__init__()
        self.width, self.height = width, 12
        self.value, self.unit = value, unit

    def wrap(self, avail_w, avail_h):
        self.width = min(self.width, avail_w)
        return self.width, self.height

    def draw(self):
        c, w = self.canv, self.width
        c.setStrokeColor(INK)
        c.setLineWidth(0.5)
        c.line(0, 0, w, 0)
        unit_w = 0.0
        if self.unit:
            c.setFont(FONT, 7)
            c.setFillColor(MUTED)
            c.drawRightString(w, 2, self.unit)
            unit_w = pdfmetrics.stringWidth(self.unit, FONT, 7) + 4
        if self.value:
            c.setFont(FONT, 8.5)
            c.setFillColor(ACTUAL_INK)
            c.drawString(2, 2, _fit(self.value, FONT, 8.5, w - unit_w - 4))


def _lineage(sheet: TravellerSheet, width: float) -> list[Flowable]:
    if not sheet.parents:
        return []
    per_row = 4
    cell_w = width / per_row
    qr = 17 * mm
    cells = []
    for parent in sheet.parents:
        text = [_p(parent.label, S_LINEAGE), _p(parent.kind, S_SMALL)]
        inner = Table([[QRCode(parent.url or parent.label, qr), text]], colWidths=[qr + 3, cell_w - qr - 9])
        inner.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        cells.append(inner)
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    t = Table(rows, colWidths=[cell_w] * per_row)
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    aside = f"{len(sheet.parents)} input{'s' if len(sheet.parents) != 1 else ''} — scan to confirm"
    return [KeepTogether([_section("Inputs (lineage)", aside), Spacer(0, 3), t])]


def _chemicals(sheet: TravellerSheet, width: float) -> list[Flowable]:
    if not sheet.chemicals:
        return []
    fr = [0.27, 0.17, 0.14, 0.12, 0.30]
    head = [_p(h, S_HEAD) for h in ("Chemical", "Lot", "Supplier", "Amount", "Hazards")]
    rows = [head]
    for c in sheet.chemicals:
        name = [_p(c.name, S_BOLD)] + ([_p(c.formula, S_SMALL)] if c.formula else [])
        hazards = _p("; ".join(c.hazards), _style("hz", 7, textColor=DEV_INK)) if c.hazards else _p("—", S_SMALL)
        lot = [_p(c.lot_number or "—")]
        if c.expired:
            lot.append(_p(f"EXPIRED {c.expires}", _style("exp", 7, textColor=DEV_INK)))
        elif c.expires:
            lot.append(_p(f"exp. {c.expires}", S_SMALL))
        rows.append([name, lot, _p(c.supplier), _p(c.amount), hazards])
    t = Table(rows, colWidths=[f * width for f in fr], repeatRows=1)
    t.setStyle(TableStyle(_GRID + [("VALIGN", (0, 1), (-1, -1), "TOP")]))
    return [_section("Chemicals and lots", "use these lots; note any substitution"), Spacer(0, 3), t]


def _weighing(sheet: TravellerSheet, width: float) -> list[Flowable]:
    wt = sheet.weigh_table
    if wt is None:
        return []
    table_w = width * 0.66
    fr = [0.27, 0.14, 0.12, 0.18, 0.22, 0.07]
    cw = [f * table_w for f in fr]
    head = [
        _p("Reagent", S_HEAD),
        _p("M (g/mol)", S_NUM_HEAD),
        _p("mmol", S_NUM_HEAD),
        _p("Weigh", S_NUM_HEAD),
        _p("Weighed", S_HEAD),
        _p("✓", S_HEAD),
    ]
    rows, style = [head], list(_GRID)
    for i, r in enumerate(wt.rows, start=1):
        flagged = r.is_deviation
        actual = f"{r.actual_mg:.2f}" if r.actual_mg is not None else ""
        rows.append(
            [
                _p(r.reagent, S_BOLD),
                _p(f"{r.molar_mass:.2f}", S_NUM),
                _p(f"{r.mmol:.3f}", S_NUM),
                _p(f"{r.mg:.2f} mg", _style("mg", 8.5, fontName=FONT_BOLD, alignment=TA_RIGHT)),
                EntryBox(cw[4] - 6, "mg", actual, flagged),
                CheckBox(r.actual_mg is not None),
            ]
        )
        if flagged:
            off = (r.actual_mg - r.mg) / r.mg * 100
            rows[-1][4] = [rows[-1][4], Spacer(0, 1.5), _p(f"▲ off by {off:+.1f} %", S_DEV)]
            style += [("BACKGROUND", (4, i), (4, i), DEV_FILL)]
    t = Table(rows, colWidths=cw, repeatRows=1)
    t.setStyle(TableStyle(style))
    comp = [_p("Composition", S_HEAD), Spacer(0, 2)] + [_p(line, S_BODY) for line in wt.composition]
    box = Table([[comp]], colWidths=[width - table_w - 8])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f8fa")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    outer = Table([[t, box]], colWidths=[table_w + 8, width - table_w - 8])
    outer.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 8),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    solvent = f" {wt.solvent}" if wt.solvent else ""
    # A QD flask or a ligand dose is not made up to a volume: no "for … mL" then.
    aside = f"for {fmt_number(wt.volume_ml)} mL{solvent}" if wt.volume_ml else wt.solvent
    return [KeepTogether([_section("What to weigh", aside), Spacer(0, 3), outer])]


KEEP_STEP_ROWS = 4  # parameter rows kept on the page of their step's header


def _steps(sheet: TravellerSheet, width: float) -> list[Flowable]:
    if not sheet.steps:
        return []
    fr = [0.05, 0.27, 0.17, 0.17, 0.27, 0.07]
    cw = [f * width for f in fr]
    head = [
        _p("#", S_HEAD),
        _p("Parameter", S_HEAD),
        _p("Planned", S_HEAD),
        _p("Allowed range", S_HEAD),
        _p("Actual", S_HEAD),
        _p("✓", S_HEAD),
    ]
    rows, style = [head], list(_GRID)
    for step in sorted(sheet.steps, key=lambda s: s.order):
        r = len(rows)
        title = f"<b>{escape(step.name)}</b>"
        if step.instructions:
            title += f'  <font color="#5b6675" size="7.2">{escape(step.instructions)}</font>'
        rows.append([_p(step.order, S_BOLD), Paragraph(title, S_BODY), "", "", "", ""])
        style += [("SPAN", (1, r), (5, r)), ("BACKGROUND", (0, r), (-1, r), BAND)]
        if step.parameters:
            # Keep the grey header with its first rows: a header alone at a page foot reads as a
            # step with nothing to do. A short step stays whole; a long one may still split later.
            style.append(("NOSPLIT", (0, r), (-1, r + min(len(step.parameters), KEEP_STEP_ROWS))))
        if not step.parameters:
            rows[r][5] = CheckBox(step.done)
            style += [("SPAN", (1, r), (4, r))]
            style.remove(("SPAN", (1, r), (5, r)))
        for p in step.parameters:
            r = len(rows)
            window = fmt_range(p)
            planned = fmt_quantity(p.planned, p.unit) or window
            window_cell = _p(window, S_BODY) if p.planned is not None and window else _p("—", S_SMALL)
            actual = fmt_quantity(p.actual) if p.actual is not None else ""
            entry: Flowable | list[Flowable] = EntryBox(cw[4] - 6, p.unit, actual, p.is_deviation)
            name = [_p(p.name)] + ([_p(p.note, S_SMALL)] if p.note else [])
            if p.is_deviation:
                # Three cues, so a deviation survives a black-and-white photocopy.
                entry = [entry, Spacer(0, 1.5), _p("▲ outside planned range", S_DEV)]
                style += [("BACKGROUND", (4, r), (4, r), DEV_FILL)]
            rows.append(
                [
                    "",
                    name,
                    _p(planned, S_BOLD),
                    window_cell,
                    entry,
                    CheckBox(step.done or p.actual is not None),
                ]
            )
    t = Table(rows, colWidths=cw, repeatRows=1)
    t.setStyle(TableStyle(style))
    aside = "write the actual value in every box; tick when done"
    return [CondPageBreak(60 * mm), _section("Process steps", aside), Spacer(0, 3), t]


def _image(png: bytes, max_w: float, max_h: float) -> Image:
    iw, ih = ImageReader(io.BytesIO(png)).getSize()
    scale = min(max_w / iw, max_h / ih)
    return Image(io.BytesIO(png), width=iw * scale, height=ih * scale)


def _results(sheet: TravellerSheet, width: float) -> list[Flowable]:
    if not (sheet.results or sheet.plots):
        return []
    out: list[Flowable] = [_section("Results", "key metrics from the measurements"), Spacer(0, 3)]
    if sheet.results:
        pairs = 3
        cells = [
            [_p(m.label or m.name, S_KEY), _p(fmt_quantity(m.value, m.unit), _style("mv", 9, fontName=FONT_BOLD))] for m in sheet.results
        ]
        rows = []
        for i in range(0, len(cells), pairs):
            chunk = [x for cell in cells[i : i + pairs] for x in cell]
            rows.append(chunk + [""] * (2 * pairs - len(chunk)))
        key_w = width / pairs * 0.55
        t = Table(rows, colWidths=[key_w, width / pairs - key_w] * pairs)
        t.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        out += [t, Spacer(0, 5)]
    if sheet.plots:
        per_row = 3
        cell_w = width / per_row
        cells = [[ChartFlowable(p.chart, cell_w - 8, 40 * mm) if p.chart else _image(p.png, cell_w - 8, 48 * mm),
                  _p(p.title, S_CAPTION)] for p in (Plot(*t) for t in sheet.plots)]
        rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
        rows[-1] += [""] * (per_row - len(rows[-1]))
        t = Table(rows, colWidths=[cell_w] * per_row)
        t.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        out.append(t)
    return [KeepTogether(out)]


def _signoff(sheet: TravellerSheet, width: float) -> list[Flowable]:
    note_lines = 3 if not sheet.notes else 2
    notes_rows = [[_p(sheet.notes, S_BODY)]] if sheet.notes else []
    notes_rows += [[""] for _ in range(note_lines)]
    notes = Table(notes_rows, colWidths=[width], rowHeights=None)
    notes.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, len(notes_rows) - note_lines), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    key = _style("signkey", 8, fontName=FONT_BOLD)
    line_w = (width - 2 * 22 * mm) / 2
    sign_rows = [
        [_p("Done by", key), EntryLine(line_w * 1.25 - 10, sheet.done_by), _p("Date", key), EntryLine(line_w * 0.75 - 4)],
        [_p("Checked by", key), EntryLine(line_w * 1.25 - 10, sheet.checked_by), _p("Date", key), EntryLine(line_w * 0.75 - 4)],
    ]
    sign = Table(sign_rows, colWidths=[22 * mm, line_w * 1.25, 22 * mm, line_w * 0.75])
    sign.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 12),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("RIGHTPADDING", (2, 0), (2, -1), 6),
            ]
        )
    )
    return [KeepTogether([_section("Notes and sign-off", "deviations, observations, substitutions"), notes, Spacer(0, 4), sign])]


def sheet_story(sheet: TravellerSheet, width: float) -> list[Flowable]:
    """The flowables of one sheet, top to bottom, for a frame `width` points wide."""
    gap = Spacer(0, 9)
    story: list[Flowable] = list(_header(sheet, width))
    for block in (_lineage, _chemicals, _weighing, _steps, _results, _signoff):
        parts = block(sheet, width)
        if parts:
            story += [gap, *parts]
    return story


# --- public API: travellers --------------------------------------------------------------


def _doc(buf: io.BytesIO, pagesize: tuple[float, float], title: str) -> BaseDocTemplate:
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="LEDger",
        creator="LEDger traveller",
    )
    frame = Frame(MARGIN, MARGIN, doc.width, doc.height, 0, 0, 0, 0, id="body")
    doc.addPageTemplates([PageTemplate(id="sheet", frames=[frame])])
    return doc


def render_travellers(
    sheets: list[TravellerSheet],
    pagesize: str = "A4",
    generated_at: dt.datetime | None = None,
) -> bytes:
    """One PDF for all sheets; each sheet starts on a new page and numbers its own pages."""
    if not sheets:
        raise ValueError("render_travellers needs at least one sheet")
    if pagesize not in PAGE_SIZES:
        raise ValueError(f"pagesize must be one of {sorted(PAGE_SIZES)}, not {pagesize!r}")
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    buf = io.BytesIO()
    title = sheets[0].label if len(sheets) == 1 else f"{len(sheets)} travellers"
    doc = _doc(buf, PAGE_SIZES[pagesize], f"Traveller {title}")
    story: list[Flowable] = []
    for i, sheet in enumerate(sheets):
        if i:
            story.append(PageBreak())
        story += [_SheetStart(i, sheet.label), *sheet_story(sheet, doc.width)]
    stamp = generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    doc.build(story, canvasmaker=partial(_TravellerCanvas, generated=stamp))
    return buf.getvalue()


# --- public API: labels ------------------------------------------------------------------


@dataclass(frozen=True)
class LabelLayout:
    """A label stock: page size and the grid of labels on it (all in points)."""

    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float = 0.0  # page edge to first label
    top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0
    padding: float = 2.5 * mm  # keeps print inside die-cut edges and printer margins

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def cell_origin(self, index: int) -> tuple[float, float]:
        """Bottom-left corner of label `index` on its page, filled row by row from the top."""
        col, row = index % self.columns, index // self.columns
        x = self.left + col * (self.label_width + self.gap_x)
        y = self.page_height - self.top - (row + 1) * self.label_height - row * self.gap_y
        return x, y


LABEL_LAYOUTS = {
    # 3 × 10 on A4, 70 × 29.7 mm, edge to edge (e.g. Avery Zweckform 3489).
    "a4-3x10": LabelLayout(210 * mm, 297 * mm, 3, 10, 70 * mm, 29.7 * mm),
    # Brother QL 62 mm roll, 62 × 29 mm die-cut (DK-11209): one label per page.
    "roll-62mm": LabelLayout(62 * mm, 29 * mm, 1, 1, 62 * mm, 29 * mm, padding=2 * mm),
}


def _draw_label(c: Canvas, data: LabelData, layout: LabelLayout, x: float, y: float) -> None:
    pad = layout.padding
    qr = layout.label_height - 2 * pad
    draw_qr(c, data.url, x + pad * 0.5, y + pad, qr)
    tx = x + pad * 0.5 + qr + 1.5 * mm
    tw = layout.label_width - (tx - x) - pad
    th = layout.label_height - 2 * pad
    facts = " · ".join(v for v in (data.kind, fmt_date(data.date)) if v)
    small = "<br/>".join(escape(v) for v in (facts, data.owner) if v)
    # Largest label size that still fits with the facts under it.
    for size in (12, 11, 10, 9, 8, 7, 6, 5.5):
        head = Paragraph(escape(data.label), _style(f"lab{size}", size, fontName=FONT_BOLD))
        tail = Paragraph(small, _style("labsmall", 6.5, textColor=MUTED))
        _, hh = head.wrap(tw, th)
        _, sh = tail.wrap(tw, th) if small else (0, 0)
        if hh + sh + 2 <= th:
            break
    top = y + pad + th - (th - hh - sh - 2) / 2  # centre the text block vertically
    head.drawOn(c, tx, top - hh)
    if small:
        tail.drawOn(c, tx, top - hh - 2 - sh)


def render_labels(labels: list[LabelData], layout: str = "a4-3x10") -> bytes:
    """Vial labels, filled row by row; new pages as needed."""
    if layout not in LABEL_LAYOUTS:
        raise ValueError(f"layout must be one of {sorted(LABEL_LAYOUTS)}, not {layout!r}")
    if not labels:
        raise ValueError("render_labels needs at least one label")
    spec = LABEL_LAYOUTS[layout]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(spec.page_width, spec.page_height))
    c.setTitle(f"{len(labels)} labels")
    c.setCreator("LEDger labels")
    for i, data in enumerate(labels):
        slot = i % spec.per_page
        if i and slot == 0:
            c.showPage()
        _draw_label(c, data, spec, *spec.cell_origin(slot))
    c.showPage()
    c.save()
    return buf.getvalue()
