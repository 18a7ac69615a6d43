"""Stored images (GIWAXS detector frames, micrographs) → a PNG a browser can show. Pure Python.

Detector frames are often 16/32-bit TIFF with a huge dynamic range: they are shown on a log scale
(as GIWAXS images are read), scaled to 8 bits, never altered on disk.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_SIDE_PX = 1600


class NotAnImage(ValueError):
    pass


def preview_png(content: bytes) -> bytes:
    try:
        image = Image.open(io.BytesIO(content))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise NotAnImage(f"not an image Pillow can read ({exc})") from None
    if image.mode not in ("RGB", "RGBA", "L", "P"):
        data = np.asarray(image, dtype=float)
        data = np.log10(np.clip(data - np.nanmin(data), 0, None) + 1.0)  # log scale for diffraction frames
        top = np.nanpercentile(data, 99.9) or 1.0
        image = Image.fromarray(np.clip(data / top * 255, 0, 255).astype(np.uint8), mode="L")
    image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
