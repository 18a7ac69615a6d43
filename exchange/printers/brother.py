"""Brother QL raster jobs through ``brother_ql_next`` (the maintained fork of brother_ql: the
original 0.9.4 of 2019 calls ``Image.ANTIALIAS``, removed in Pillow 10, so it crashes on this stack).

Decoding uses the library's own reader (``BrotherQLReader``), so a test checks the job with the
same code that documents the protocol, not with a decoder of ours.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path

from brother_ql.conversion import convert
from brother_ql.labels import ALL_LABELS, FormFactor
from brother_ql.models import ALL_MODELS
from brother_ql.raster import BrotherQLRaster
from PIL import Image

from .label import LabelContent, render_label

MODELS = sorted(m.identifier for m in ALL_MODELS)
LABELS = {label.identifier: label for label in ALL_LABELS}
ENDLESS_LENGTH_MM = 29.0  # a 62 mm endless label is cut to the die-cut size, so both print alike
DOTS_PER_MM = 300 / 25.4


class BrotherError(ValueError):
    pass


def label_size_px(label: str, length_mm: float = ENDLESS_LENGTH_MM) -> tuple[int, int]:
    """Printable width × length in dots (300 dpi) of a label stock ('62' endless, '62x29' die-cut…)."""
    spec = LABELS.get(label)
    if spec is None:
        raise BrotherError(f"unknown Brother label {label!r}; use one of {', '.join(sorted(LABELS))}")
    width, length = spec.dots_printable
    if spec.form_factor == FormFactor.ENDLESS or not length:
        length = round(length_mm * DOTS_PER_MM)
    return width, length


def brother_job(content: LabelContent, *, model: str, label: str) -> bytes:
    """The raster instructions for one label, cut after printing."""
    if model not in MODELS:
        raise BrotherError(f"unknown Brother model {model!r}; use one of {', '.join(MODELS)}")
    width, length = label_size_px(label)
    image = render_label(content, width, length)
    raster = BrotherQLRaster(model)
    raster.exception_on_warning = True
    # Logging from brother_ql goes to its logger; the conversion itself raises on a bad label/model pair.
    convert(raster, [image], label, cut=True, rotate="0", threshold=50, dither=False, compress=True)
    return bytes(raster.data)


def decode_brother_job(data: bytes) -> list[Image.Image]:
    """The pages a printer would print, as 1-bit images (brother_ql's reader writes PNGs; read back)."""
    from brother_ql.reader import BrotherQLReader

    with tempfile.TemporaryDirectory() as tmp:
        reader = BrotherQLReader(io.BytesIO(data))
        reader.filename_fmt = str(Path(tmp) / "page{counter:04d}.png")
        with contextlib.redirect_stdout(io.StringIO()):
            logging.getLogger("brother_ql").setLevel(logging.WARNING)
            reader.analyse()
        pages = []
        for path in sorted(Path(tmp).glob("page*.png")):
            with Image.open(path) as im:
                pages.append(im.convert("1").copy())
    return pages
