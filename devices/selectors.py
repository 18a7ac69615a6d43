"""Reads for devices."""

from __future__ import annotations

import re

from .models import Device, Pixel

# A pixel named in a file name: "DEV-0001-A_jlv.csv", "sweep_B_2.csv", "run-C.txt" (a name between
# separators), "px2" / "pixel2" / "pix-2" (the 2nd pixel, or the pixel named "2").
_SEPARATED = r"(?:(?<=^)|(?<=[_\-\s.]))({name})(?=[_\-\s.]|$)"
_NUMBERED = re.compile(r"(?:^|[_\-\s.])(?:px|pix|pixel)[_\-\s]?(\d{1,2})(?=[_\-\s.]|$)", re.IGNORECASE)


def pixel_for_filename(device: Device, filename: str) -> tuple[Pixel | None, str]:
    """The pixel a file name names, and how it was read ("_A_", "px2"); (None, why) when it names
    none or more than one — the caller then asks the person rather than guessing."""
    pixels = sorted(device.pixels.all(), key=lambda p: p.name)
    base = (filename or "").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    found: dict[int, str] = {}
    for match in _NUMBERED.finditer(stem):
        number = match.group(1)
        by_name = next((p for p in pixels if p.name == number), None)
        pixel = by_name or (pixels[int(number) - 1] if 1 <= int(number) <= len(pixels) else None)
        if pixel is None:
            return None, f"{base!r} names pixel {number}, and {device.sample.label} has {len(pixels)}"
        found[pixel.pk] = match.group(0).strip("_- .")
    for pixel in pixels:
        if re.search(_SEPARATED.format(name=re.escape(pixel.name)), stem):
            found[pixel.pk] = pixel.name
    if len(found) == 1:
        (pk, token), = found.items()
        return next(p for p in pixels if p.pk == pk), token
    if found:
        names = ", ".join(p.name for p in pixels if p.pk in found)
        return None, f"{base!r} names several pixels ({names})"
    return None, f"{base!r} names no pixel"
