"""What goes on a label: the big text (the sample or run label), up to two small lines and the URL
the QR code opens. Rendered to a 1-bit image for raster printers (Brother QL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parents[2] / "samples" / "traveller" / "fonts"


@dataclass(frozen=True)
class LabelContent:
    title: str  # "DEV-0001"
    url: str  # "https://ledger.lab/samples/DEV-0001/"
    lines: tuple[str, ...] = field(default_factory=tuple)  # ("Device · 2021-03-04", "Demo Operator")


@cache
def _font(bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size_px)


def _fit(draw: ImageDraw.ImageDraw, text: str, bold: bool, size_px: int, width_px: int) -> tuple[str, ImageFont.FreeTypeFont]:
    """The largest font (down to 60 % of ``size_px``) that fits, then an ellipsis if it still does not."""
    for size in range(size_px, max(8, int(size_px * 0.6)) - 1, -1):
        font = _font(bold, size)
        if draw.textlength(text, font=font) <= width_px:
            return text, font
    while text and draw.textlength(text + "…", font=font) > width_px:
        text = text[:-1]
    return text + "…", font


def render_label(content: LabelContent, width_px: int, height_px: int) -> Image.Image:
    """Black on white, QR on the left at full height (whole modules, 4-module quiet zone kept free),
    text to the right. ``height_px`` of an endless roll is chosen by the caller."""
    image = Image.new("1", (width_px, height_px), 1)
    draw = ImageDraw.Draw(image)
    qr = segno.make(content.url, error="m")
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = max(1, height_px // modules)
    qr_img = Image.new("1", (modules * scale, modules * scale), 1)
    qr_draw = ImageDraw.Draw(qr_img)
    for y, row in enumerate(qr.matrix_iter(scale=1, border=4)):
        for x, dark in enumerate(row):
            if dark:
                qr_draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    top = (height_px - qr_img.height) // 2
    image.paste(qr_img, (0, top))
    text_x = qr_img.width + height_px // 20
    text_w = width_px - text_x - height_px // 20
    title, title_font = _fit(draw, content.title, True, max(12, height_px // 4), text_w)
    small = [_fit(draw, line, False, max(10, height_px // 9), text_w) for line in content.lines if line]
    heights = [title_font.size * 1.2] + [f.size * 1.25 for _, f in small]
    y = (height_px - sum(heights)) / 2
    draw.text((text_x, y), title, font=title_font, fill=0)
    y += heights[0]
    for (line, font), h in zip(small, heights[1:], strict=True):
        draw.text((text_x, y), line, font=font, fill=0)
        y += h
    return image
