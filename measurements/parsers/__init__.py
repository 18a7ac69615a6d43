"""Parser registry: sniff the format from the content (never the extension) and parse.

Adding a format is one module with a ``Parser`` subclass decorated with ``@register`` and one
import line in ``_load_builtin_parsers`` below.
"""

from __future__ import annotations

import importlib
import logging

from .base import SHAPES, ParsedData, ParseError, Parser, UnknownFormat

__all__ = ["SHAPES", "ParseError", "ParsedData", "Parser", "UnknownFormat", "register",
           "parsers", "sniff", "parse_bytes", "decode"]

_REGISTRY: dict[str, Parser] = {}
_log = logging.getLogger(__name__)

# Modules holding built-in parsers; each registers itself on import.
_BUILTIN_MODULES: list[str] = [
    "delimited",  # CSV/TSV/semicolon/whitespace with preamble, unit-aware columns (J-L-V, lifetime, 2-col)
    "oceanoptics",  # OceanView, SpectraSuite, OOIBase32
    "edinburgh",  # Edinburgh Instruments FLS CSV
    "picoquant",  # TimeHarp/PicoHarp histogram text exports
    "xrd_formats",  # Bruker .xy with quoted header, PANalytical .xrdml, Rigaku .ras
    "ta_matrix",  # Surface Xplorer-style delay x wavelength CSV
    "uvvis",  # Cary/Shimadzu/JASCO CSV, Avantes raw with dark/reference
]


def register(cls: type[Parser]) -> type[Parser]:
    if not cls.name or cls.shape not in SHAPES:
        raise TypeError(f"{cls.__name__} needs a name and a shape in {SHAPES}")
    _REGISTRY[cls.name] = cls()
    return cls


def _load_builtin_parsers() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(f"{__name__}.{module}")


_loaded = False


def parsers() -> dict[str, Parser]:
    global _loaded
    if not _loaded:  # a flag: a directly imported parser module must not hide the others
        _load_builtin_parsers()
        _loaded = True
    return dict(_REGISTRY)


SNIFF_BYTES = 65536


def decode(content: bytes, *, filename: str | None = None) -> str:
    """Bytes → text. Refuses empty files and binary junk with a reason."""
    if not content or not content.strip():
        raise ParseError("the file is empty", filename=filename)
    if b"\x00" in content[:SNIFF_BYTES]:
        raise UnknownFormat("binary content: expected a text export (CSV, TXT, XY…)", filename=filename)
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnknownFormat("undecodable bytes: expected a text export", filename=filename)  # pragma: no cover


def sniff(text: str, *, shape: str | None = None) -> Parser:
    """The most confident parser for ``text`` (optionally only those of one shape)."""
    head = text[:SNIFF_BYTES]
    scored = []
    for parser in parsers().values():
        if shape and parser.shape != shape:
            continue
        score = parser.sniff(head)
        if score > 0:
            scored.append((score, parser.name, parser))
    if not scored:
        raise UnknownFormat("no parser recognises this content")
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored[0][2]


def parse_bytes(content: bytes, *, filename: str | None = None, format: str | None = None,
                shape: str | None = None, options: dict | None = None) -> ParsedData:
    """Decode, sniff (unless ``format`` names a parser) and parse."""
    text = decode(content, filename=filename)
    if format:
        try:
            parser = parsers()[format]
        except KeyError:
            raise UnknownFormat(f"unknown format {format!r}; known: {', '.join(sorted(parsers()))}",
                                filename=filename) from None
    else:
        try:
            parser = sniff(text, shape=shape)
        except UnknownFormat as exc:
            raise UnknownFormat(exc.reason, filename=filename) from None
    try:
        parsed = parser.parse(text, filename=filename, options=options or {})
    except ParseError as exc:
        if exc.filename is None and filename:
            raise ParseError(exc.reason, line=exc.line, filename=filename) from exc
        raise
    except (IndexError, KeyError, ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
        # A parser that trips over a truncated or malformed file is still a file it cannot read:
        # say so for the person (and log it, since the parser should have said it itself).
        _log.warning("parser %s raised %s on %s", parser.name, type(exc).__name__, filename, exc_info=True)
        raise ParseError(f"the {parser.name} reader could not read it ({type(exc).__name__}: {exc}); the file "
                         "looks truncated or malformed", filename=filename) from exc
    parsed.source = filename
    return parsed
