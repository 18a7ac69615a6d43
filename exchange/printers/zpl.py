"""Zebra ZPL II labels: a QR code (``^BQ``) with the URL and the label text beside it, and a small
parser that reads such a job back (fields with their positions, QR payloads, label size) so the
tests check what a printer would print.

Field data goes through ``^FH`` hex escapes, so a '^' or '~' in a sample name cannot end the field
or start a command (ZPL II Programming Guide, ^FH and ^FD).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .label import LabelContent

DPI_CHOICES = (203, 300, 600)


class ZplError(ValueError):
    pass


def _dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def _escape(text: str) -> str:
    """^FH_ escapes: '_' introduces two hex digits of a UTF-8 byte."""
    out = []
    for ch in text:
        if ch in "^~_" or ord(ch) < 32:
            out.append("".join(f"_{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def zpl_job(content: LabelContent, *, width_mm: float = 62.0, height_mm: float = 29.0, dpi: int = 203) -> bytes:
    """One label: QR at the left (model 2, error correction M), the title in bold-ish font 0 and the
    small lines under it."""
    if dpi not in DPI_CHOICES:
        raise ZplError(f"dpi must be one of {DPI_CHOICES}, not {dpi}")
    if not (10 <= width_mm <= 220 and 10 <= height_mm <= 400):
        raise ZplError(f"a {width_mm:g} × {height_mm:g} mm label is outside what Zebra desktop printers take")
    width, height = _dots(width_mm, dpi), _dots(height_mm, dpi)
    margin = _dots(1.5, dpi)
    # ^BQ magnification: module size in dots; a URL of ~45 characters is a version-3/4 symbol (29–33 modules).
    magnification = max(1, min(10, (height - 2 * margin) // 33))
    qr_size = 33 * magnification
    text_x = margin + qr_size + _dots(2, dpi)
    title_h = max(20, (height - 2 * margin) // 4)
    small_h = max(14, title_h // 2)
    lines = [
        "^XA",
        "^CI28",  # field data is UTF-8
        f"^PW{width}",
        f"^LL{height}",
        "^LH0,0",
        # ^BQ's own top margin is about 10 dots; the field data "MA," = error correction M, automatic mode.
        f"^FO{margin},{max(0, margin - 10)}^BQN,2,{magnification}^FH^FDMA,{_escape(content.url)}^FS",
        f"^FO{text_x},{margin + title_h // 2}^A0N,{title_h},{title_h}^FH^FD{_escape(content.title)}^FS",
    ]
    y = margin + title_h // 2 + title_h + small_h // 2
    for line in content.lines:
        if line:
            lines.append(f"^FO{text_x},{y}^A0N,{small_h},{small_h}^FH^FD{_escape(line)}^FS")
            y += int(small_h * 1.3)
    lines.append("^PQ1")
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- reading a job back -------------------------------------------------------------------------

@dataclass
class ZplField:
    x: int
    y: int
    kind: str  # "text" or "qr"
    data: str
    font_height: int | None = None
    qr_magnification: int | None = None


@dataclass
class ZplLabel:
    width_dots: int | None = None
    length_dots: int | None = None
    fields: list[ZplField] = field(default_factory=list)
    copies: int = 1

    @property
    def texts(self) -> list[str]:
        return [f.data for f in self.fields if f.kind == "text"]

    @property
    def qr_payloads(self) -> list[str]:
        return [f.data for f in self.fields if f.kind == "qr"]


_COMMAND = re.compile(r"[\^~]([A-Z@][A-Z0-9@])")


def _unhex(text: str, indicator: str) -> str:
    raw = bytearray()
    i = 0
    encoded = text.encode("utf-8")
    marker = indicator.encode()
    while i < len(encoded):
        if encoded[i:i + 1] == marker and i + 2 < len(encoded) + 0:
            try:
                raw.append(int(encoded[i + 1:i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        raw.append(encoded[i])
        i += 1
    return raw.decode("utf-8", errors="replace")


def parse_zpl(data: bytes) -> list[ZplLabel]:
    """The labels of a ZPL stream (^XA … ^XZ), with their text and QR fields."""
    text = data.decode("utf-8")
    labels: list[ZplLabel] = []
    current: ZplLabel | None = None
    x = y = 0
    pending: dict = {}
    matches = list(_COMMAND.finditer(text))
    for i, m in enumerate(matches):
        cmd = m.group(1)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        arg = text[m.end():end]
        if cmd == "XA":
            current = ZplLabel()
            x = y = 0
            pending = {}
            continue
        if current is None:
            raise ZplError(f"^{cmd} outside a label (no ^XA before it)")
        args = [a.strip() for a in arg.strip().split(",")]
        if cmd == "XZ":
            labels.append(current)
            current = None
        elif cmd == "PW":
            current.width_dots = int(args[0])
        elif cmd == "LL":
            current.length_dots = int(args[0])
        elif cmd == "PQ":
            current.copies = int(args[0] or 1)
        elif cmd == "FO":
            x, y = int(args[0] or 0), int(args[1] or 0)
        elif cmd == "A0" or cmd.startswith("A"):
            pending["font_height"] = int(args[0]) if len(args) > 0 and args[0].isdigit() else None
            # "^A0N,40,40": the N is glued to the command's argument
            if args and args[0][:1].isalpha() and len(args) > 1 and args[1].isdigit():
                pending["font_height"] = int(args[1])
        elif cmd == "BQ":
            pending["qr"] = int(args[2]) if len(args) > 2 and args[2].isdigit() else 2
        elif cmd == "FH":
            pending["hex"] = arg.strip()[:1] or "_"
        elif cmd == "FD":
            value = arg.rstrip("\n")
            if "hex" in pending:
                value = _unhex(value, pending["hex"])
            if "qr" in pending:
                # "MA,payload": error-correction letter and input mode before the comma
                head, _, payload = value.partition(",")
                if len(head) != 2 or head[0] not in "HQML":
                    raise ZplError(f"^BQ field data should start with e.g. 'MA,' (got {value[:10]!r})")
                current.fields.append(ZplField(x, y, "qr", payload, qr_magnification=pending["qr"]))
            else:
                current.fields.append(ZplField(x, y, "text", value, font_height=pending.get("font_height")))
        elif cmd == "FS":
            pending = {}
    if current is not None:
        raise ZplError("the job ends inside a label (no ^XZ)")
    return labels
