"""Stored images (GIWAXS detector frames, micrographs) → a PNG a browser can show. Pure Python.

Detector frames are often 16/32-bit TIFF with a huge dynamic range: they are shown on a log scale
(as GIWAXS images are read), scaled to 8 bits, never altered on disk.

Bounded: a 300 kB PNG can declare 20 000 × 20 000 pixels (a decompression bomb). The header is read
first; past ``MAX_PREVIEW_PIXELS`` nothing is decoded, and a large frame is reduced in its integer
mode before it becomes floats, so a preview costs tens of MB, not gigabytes.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_SIDE_PX = 1600
# The largest detector frames (Eiger 16M: 4150 × 4371 ≈ 18 MP) fit with room to spare.
MAX_PREVIEW_PIXELS = 40_000_000
# Pillow's own bomb check (it warns past this, raises DecompressionBombError past twice this).
Image.MAX_IMAGE_PIXELS = MAX_PREVIEW_PIXELS


class NotAnImage(ValueError):
    pass


class ImageTooLarge(NotAnImage):
    """An image whose declared size is past MAX_PREVIEW_PIXELS: stored, never decoded."""


def image_info(content: bytes) -> dict:
    """Width, height and mode from the header alone (nothing is decoded)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            image = Image.open(io.BytesIO(content))
    except Image.DecompressionBombError as exc:  # past twice the cap: Pillow refuses to open it
        raise ImageTooLarge(f"the image is too large to show ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NotAnImage(f"not an image Pillow can read ({exc})") from None
    width, height = image.size
    if width * height > MAX_PREVIEW_PIXELS:
        raise ImageTooLarge(f"{width} × {height} pixels ({width * height / 1e6:.0f} MP) is over the "
                            f"{MAX_PREVIEW_PIXELS / 1e6:.0f} MP a preview decodes; the file is stored as it is")
    return {"width": width, "height": height, "mode": image.mode}


def preview_png(content: bytes) -> bytes:
    image_info(content)  # refuses a bomb before a pixel is decoded
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageTooLarge(f"the image is too large to show ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise NotAnImage(f"not an image Pillow can read ({exc})") from None
    if image.mode not in ("RGB", "RGBA", "L", "P"):
        if image.mode.startswith("I;16"):
            image = image.convert("I")
        factor = math.ceil(max(image.size) / MAX_SIDE_PX)
        if factor > 1 and image.mode in ("I", "F"):
            image = image.reduce(factor)  # before floats: a 16-bit frame stays 4 bytes a pixel
        data = np.asarray(image, dtype=np.float32)
        if data.ndim > 2:
            data = data[..., 0]
        finite = np.isfinite(data)
        if not finite.any():
            raise NotAnImage("the image holds no finite pixel values")
        data = np.where(finite, data, np.nanmin(np.where(finite, data, np.nan)))
        data = np.log10(np.clip(data - data.min(), 0, None) + 1.0)  # log scale for diffraction frames
        top = float(np.percentile(data, 99.9)) or 1.0
        image = Image.fromarray(np.clip(data / top * 255, 0, 255).astype(np.uint8), mode="L")
    image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
