"""Traveller sheets and labels, read back from the PDF the way a person (or scanner) would.

Reference values are PROCESS.md §4 (what to weigh) and §5 (QD-in-matrix film).
QR codes are decoded for real from a rasterised page (pdftoppm + zbarimg). Without those
tools a developer machine falls back to checking the drawn QR matrix against segno's;
in CI (CI=true) a missing tool fails the test instead, so the real check cannot silently vanish.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import segno
from PIL import Image as PILImage
from pypdf import PdfReader
from reportlab.lib.units import mm

from samples.traveller import (
    LABEL_LAYOUTS,
    ChemicalRow,
    LabelData,
    ParamRow,
    Plot,
    WeighRow,
    render_labels,
    render_travellers,
)
from samples.traveller.demo import demo_completed_sheet, demo_sheet
from samples.traveller.pdf import _qr_modules, fmt_range

GENERATED = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)

# PROCESS.md §5, in the text form the sheet prints: SI spacing, en dash for ranges.
PLANNED_VALUES = [
    "200 µL",  # precursor aliquot
    "1000 rpm",
    "10 s",
    "5000 rpm",
    "30 s",
    "100–200 µL",  # QD ink drip
    "25–27 s",  # drip time into stage 2
    "45–55 °C",
    "2 min",
    "110 °C",
    "5–10 min",
]
# PROCESS.md §4 masses to weigh for 1.5 mL DMSO.
MASSES = ["146.80 mg", "92.20 mg", "83.14 mg", "12.72 mg", "99.64 mg"]


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _tool(name: str) -> str | None:
    path = shutil.which(name)
    if path is None and os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI (apt-get install -y poppler-utils zbar-tools)")
    return path


def _decode_qr(pdf: bytes, page: int = 1, dpi: int = 200) -> list[str] | None:
    """Payloads of every QR code on a page, or None when the tools are not installed."""
    if not (_tool("pdftoppm") and _tool("zbarimg")):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, png = Path(tmp, "in.pdf"), Path(tmp, "page")
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile", src, png],
            check=True,
        )
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", f"{png}.png"],
            capture_output=True,
        )
    return out.stdout.decode().splitlines()


def _assert_qr(pdf: bytes, urls: set[str], page: int = 1) -> None:
    decoded = _decode_qr(pdf, page)
    if decoded is None:  # developer machine without zbar: check what was drawn instead
        for url in urls:
            assert _qr_modules(url)[0] == len(segno.make(url, error="m", micro=False).matrix)
        return
    assert urls <= set(decoded), f"decoded {decoded}"


def _decode_cells(pdf: bytes, layout, dpi: int = 200) -> list[str] | None:
    """Decode each label cell of page 1 on its own; zbar can miss one of 30 codes on a full page."""
    if not (_tool("pdftoppm") and _tool("zbarimg")):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "in.pdf")
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", "-singlefile", src, Path(tmp, "page")], check=True
        )
        page = PILImage.open(Path(tmp, "page.png"))
        scale = dpi / 72
        decoded = []
        for i in range(layout.per_page):
            x, y = layout.cell_origin(i)
            box = (x, layout.page_height - y - layout.label_height, x + layout.label_width, layout.page_height - y)
            cell = Path(tmp, f"cell{i}.png")
            page.crop(tuple(round(v * scale) for v in box)).save(cell)
            out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", cell], capture_output=True)
            decoded.append(out.stdout.decode().strip())
    return decoded


@pytest.fixture(scope="module")
def planned_pdf() -> bytes:
    return render_travellers([demo_sheet()], generated_at=GENERATED)


@pytest.fixture(scope="module")
def completed_pdf() -> bytes:
    png = io.BytesIO()
    PILImage.new("RGB", (240, 170), "white").save(png, format="PNG")
    sheet = demo_completed_sheet(plots=False)
    return render_travellers([replace(sheet, plots=[Plot("EQE–J", png.getvalue())])], generated_at=GENERATED)


def test_sheet_shows_label_planned_values_masses_and_signoff(planned_pdf):
    text = "\n".join(_text(planned_pdf))
    assert "FILM-0042" in text
    for value in PLANNED_VALUES + MASSES:
        assert value in text, value
    for line in ("Done by", "Checked by", "Date", "Operator", "Glovebox O₂", "Glovebox H₂O"):
        assert line in text, line
    for lot in ("MKCQ4821", "TCI-7QH2L", "GS-PEAI-0412"):
        assert lot in text
    assert "H360Df" in text
    assert "PEA₂(Cs₀.₈MA₀.₂)₂Pb₃(I₀.₆Br₀.₄)₁₀" in text
    assert "⟨n⟩ = 3" in text
    assert "for 1.5 mL DMSO" in text
    for parent in ("INK-0007", "PRE-0012", "SUB-0031"):
        assert parent in text
    assert "generated 2025-03-14 09:30 UTC" in text


def test_footer_numbers_pages_per_sheet(planned_pdf):
    pages = _text(planned_pdf)
    for i, page in enumerate(pages, start=1):
        assert f"page {i}/{len(pages)}" in page
        assert "FILM-0042" in page


def test_header_qr_decodes_to_sample_url(planned_pdf):
    _assert_qr(
        planned_pdf,
        {
            "https://ledger.example.org/s/FILM-0042",
            # lineage block: each parent's own code
            "https://ledger.example.org/s/INK-0007",
            "https://ledger.example.org/s/PRE-0012",
        },
    )


def test_completed_sheet_fills_actuals_flags_deviation_and_shows_results(completed_pdf):
    text = "\n".join(_text(completed_pdf))
    assert "COMPLETED" in text
    assert "M. Liu" in text
    assert "outside planned range" in text  # the 58 °C soft anneal (45–55 °C window)
    assert text.count("outside planned range") == 1
    assert "off by +1.5 %" in text  # MAI weighed 12.91 mg for 12.72 mg
    for metric in ("eqe_max", "17.8 %", "4710 cd/m²", "648 nm", "2100 h"):
        assert metric in text
    images = [img for page in PdfReader(io.BytesIO(completed_pdf)).pages for img in page.images]
    assert len(images) == 1


def test_deviation_comes_from_the_window_unless_forced():
    assert ParamRow("T", None, "°C", 45, 55, actual=58).is_deviation
    assert not ParamRow("T", None, "°C", 45, 55, actual=50).is_deviation
    assert not ParamRow("T", 110, "°C", actual=130).is_deviation  # no window, nothing to judge
    assert ParamRow("T", 110, "°C", actual="too hot", deviation=True).is_deviation
    assert WeighRow("MAI", 0.08, 12.72, 158.97, actual_mg=12.91).is_deviation
    assert not WeighRow("MAI", 0.08, 12.72, 158.97, actual_mg=12.75).is_deviation


def test_range_text_forms():
    assert fmt_range(ParamRow("V", None, "µL", 100, 200)) == "100–200 µL"
    assert fmt_range(ParamRow("T", 50, "°C", min=45)) == "≥ 45 °C"
    assert fmt_range(ParamRow("p", None, "ppm", max=0.5)) == "≤ 0.5 ppm"
    assert fmt_range(ParamRow("n", 3)) == ""


LONG_LABEL = "FILM-PEA₂(Cs₀.₈MA₀.₂)₂Pb₃(I₀.₆Br₀.₄)₁₀-⟨n⟩=3-drip150µL-anneal110°C-d5.8Å-batch0042"


def test_long_unicode_label_wraps_inside_the_page():
    assert len(LONG_LABEL) >= 80
    sheet = replace(
        demo_sheet(LONG_LABEL),
        chemicals=[ChemicalRow("Poly[N,N′-bis(4-butylphenyl)-N,N′-bis(phenyl)benzidine] " * 3, "poly-TPD")],
        parents=[replace(p, label=LONG_LABEL) for p in demo_sheet().parents],
    )
    pdf = render_travellers([sheet], generated_at=GENERATED)
    assert _squash(LONG_LABEL) in _squash(_text(pdf)[0])
    if not _tool("pdftotext"):
        return
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    boxes = [
        (float(a), float(b), w)
        for a, b, w in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', html)
    ]
    assert boxes
    margin = 14 * mm
    overflow = [w for x0, x1, w in boxes if x0 < margin - 1 or x1 > width - margin + 1]
    assert not overflow, overflow


def test_batch_puts_each_sheet_on_its_own_pages():
    labels = ["FILM-0101", "FILM-0102", "FILM-0103"]
    pdf = render_travellers([demo_sheet(label) for label in labels], generated_at=GENERATED)
    pages = _text(pdf)
    assert len(pages) >= 3
    owners = []
    for page in pages:
        found = [label for label in labels if label in page]
        assert len(found) == 1, found  # never two sheets on one page
        owners.append(found[0])
    assert owners == sorted(owners) and set(owners) == set(labels)
    assert sum("page 1/" in page for page in pages) == 3


def test_letter_and_a4_page_sizes(planned_pdf):
    letter = render_travellers([demo_sheet()], pagesize="Letter", generated_at=GENERATED)
    box = PdfReader(io.BytesIO(letter)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    box = PdfReader(io.BytesIO(planned_pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    with pytest.raises(ValueError):
        render_travellers([demo_sheet()], pagesize="A5")


def test_markup_characters_in_names_are_printed_not_parsed():
    sheet = replace(demo_sheet("A<B>&C"), title="ratio <1 & >0")
    text = _text(render_travellers([sheet], generated_at=GENERATED))[0]
    assert "A<B>&C" in text and "ratio <1 & >0" in text


def _labels(n: int) -> list[LabelData]:
    return [
        LabelData(f"QD-{i:04d}", f"https://ledger.example.org/s/QD-{i:04d}", "QD batch", dt.date(2025, 3, 14), "M. Liu")
        for i in range(n)
    ]


def test_a4_label_sheet_has_30_cells_that_tile_the_page_and_decode():
    layout = LABEL_LAYOUTS["a4-3x10"]
    assert layout.per_page == 30
    origins = {layout.cell_origin(i) for i in range(30)}
    assert len(origins) == 30
    assert layout.cell_origin(29) == pytest.approx((140 * mm, 0), abs=0.01)
    assert layout.cell_origin(0) == pytest.approx((0, 297 * mm - 29.7 * mm), abs=0.01)

    labels = _labels(31)
    pdf = render_labels(labels)
    pages = _text(pdf)
    assert len(pages) == 2  # 31st label starts a new sheet
    for data in labels[:30]:
        assert data.label in pages[0]
    assert "QD-0030" in pages[1]
    assert "QD batch · 2025-03-14" in pages[0] and "M. Liu" in pages[0]
    decoded = _decode_cells(pdf, layout)
    if decoded is None:
        _assert_qr(pdf, {d.url for d in labels[:30]})
    else:
        assert decoded == [d.url for d in labels[:30]]


def test_roll_label_is_62_mm_wide_one_label_per_page():
    labels = _labels(2)
    pdf = render_labels(labels, layout="roll-62mm")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    assert float(reader.pages[0].mediabox.width) == pytest.approx(62 * mm, abs=0.01)
    assert "QD-0000" in reader.pages[0].extract_text()
    _assert_qr(pdf, {labels[1].url}, page=2)


def test_long_label_on_a_vial_label_stays_in_its_cell():
    data = LabelData(LONG_LABEL, "https://ledger.example.org/s/x", "film", "2025-03-14", "M. Liu")
    pdf = render_labels([data], layout="roll-62mm")
    assert _squash(LONG_LABEL) in _squash(_text(pdf)[0])
    if not _tool("pdftotext"):
        return
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    xmax = [float(x) for x in re.findall(r'xMax="([\d.]+)"', html)]
    ymax = [float(y) for y in re.findall(r'yMax="([\d.]+)"', html)]
    assert max(xmax) <= 62 * mm and max(ymax) <= 29 * mm


def test_step_header_never_ends_a_page_alone():
    """A step's grey header row stays on the page of its first parameter rows, wherever the page
    break falls (the notes text shifts the steps table down a little for each variant)."""
    from samples.traveller import Step

    steps = [Step(n, f"STEP{n:02d}", [ParamRow(f"P{n:02d}a", n, "s"), ParamRow(f"P{n:02d}b", n, "rpm")]) for n in range(1, 31)]
    for extra in range(0, 12):
        sheet = replace(demo_sheet(), steps=steps, chemicals=demo_sheet().chemicals[: extra % 6 + 1],
                        parents=demo_sheet().parents[: 1 + extra // 6])
        pages = _text(render_travellers([sheet], generated_at=GENERATED))
        assert len(pages) >= 2
        for n in range(1, 31):
            header = next(i for i, page in enumerate(pages) if f"STEP{n:02d}" in page)
            first = next(i for i, page in enumerate(pages) if f"P{n:02d}a" in page)
            assert header == first, f"variant {extra}: STEP{n:02d} on page {header + 1}, its rows on {first + 1}"
