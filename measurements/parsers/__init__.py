"""Parser registry: sniff the format from the content (never the extension) and parse.

Adding a format is one module with a ``Parser`` subclass decorated with ``@register`` and one
import line in ``_BUILTIN_MODULES`` below. Text parsers get the decoded text (``decode``); binary
parsers (``binary = True``) get the raw bytes (see ``base.py``). ``rank`` scores both kinds
together, so a zip-based ``.xlsx`` and a UTF-16 CSV are found the same way.
"""

from __future__ import annotations

import codecs
import importlib
import logging
from dataclasses import dataclass

from .base import (
    SHAPE_NAMES,
    SHAPES,
    ParsedData,
    ParseError,
    Parser,
    Sniff,
    UnknownFormat,
    axis,
    kind_hint,
)

__all__ = ["SHAPES", "SHAPE_NAMES", "Candidate", "ParseError", "ParsedData", "Parser", "Sniff", "UnknownFormat",
           "axis", "kind_hint", "register", "parsers", "rank", "sniff", "parse_bytes", "decode", "try_decode"]

_REGISTRY: dict[str, Parser] = {}
_log = logging.getLogger(__name__)

# Modules holding built-in parsers; each registers itself on import.
_BUILTIN_MODULES: list[str] = [
    "delimited",  # CSV/TSV/semicolon/whitespace with preamble, unit-aware columns (J-L-V, lifetime, 2-col)
    "oceanoptics",  # OceanView, SpectraSuite, OOIBase32
    "edinburgh",  # Edinburgh Instruments FLS CSV
    "picoquant",  # TimeHarp/PicoHarp histogram text exports, bins [ps] / Time[ns] tables, Becker & Hickl .asc
    "xrd_formats",  # Bruker .xy with quoted header, PANalytical .xrdml, Rigaku .ras
    "ta_matrix",  # Surface Xplorer-style delay x wavelength CSV
    "uvvis",  # Cary/Shimadzu/JASCO/PerkinElmer, Avantes raw with dark/reference
    "spectra",  # HORIBA LabSpec (Raman or PL), QYB LuQY Pro absolute PL
    "binary",  # .xlsx workbooks (J-L-V sweeps …) and LabVIEW .tdms logs, read as tables
]

# Shape → the kinds it can be when a parser gives no hint (the ingest service decides).
_SHAPE_KINDS = {"spectrum": ["pl", "el"], "jlv": ["jlv"], "lifetime": ["lifetime"], "decay": ["trpl"],
                "xrd": ["xrd"], "ta_matrix": ["ta"], "absorbance": ["absorbance"], "jv": []}


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

# Byte-order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Magic numbers of binary containers no text parser can read, for the refusal message.
_MAGIC = ((b"PK\x03\x04", "a zip container (.xlsx, .brml, .rasx …)"), (b"TDSm", "a LabVIEW TDMS file"),
          (b"%PDF", "a PDF document"), (b"\xd0\xcf\x11\xe0", "an old Office (OLE) file, e.g. .xls"))


def _control_share(text: str) -> float:
    """Share of control characters other than tab/newline/CR/FF: high in binary junk."""
    sample = text[:SNIFF_BYTES]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f\x1a")
    return bad / len(sample)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text written without a BOM: ASCII characters leave every other byte zero."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 8:
        return None
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / max(len(odd), 1)
    if zeros_odd > 0.4 and zeros_even < 0.05:
        return "utf-16-le"
    if zeros_even > 0.4 and zeros_odd < 0.05:
        return "utf-16-be"
    return None


def _single_high_bytes(head: bytes) -> bool:
    """True when (nearly) every run of bytes ≥ 0x80 is one byte long: no multi-byte encoding."""
    runs, long_runs, run = 0, 0, 0
    for byte in head:
        if byte >= 0x80:
            run += 1
            continue
        if run:
            runs += 1
            long_runs += run > 1
        run = 0
    if run:
        runs += 1
        long_runs += run > 1
    return runs > 0 and long_runs <= 0.1 * runs


def try_decode(content: bytes) -> tuple[str, str] | None:
    """(text, encoding) or None when the bytes are not text.

    Order: a byte-order mark (UTF-8/16/32, Windows "Unicode text" exports), strict UTF-8 (most
    files, fast), UTF-16 without a mark, then charset-normalizer's best guess (cp1252 "°" and "µ"
    of older Windows software, GB18030 column titles …). Text with many control characters is
    binary whatever decodes it."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            try:
                return content[len(bom):].decode(encoding), encoding + " (BOM)"
            except UnicodeDecodeError:
                return None
    head = content[:SNIFF_BYTES]
    if b"\x00" not in head:
        try:
            return content.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    encoding = _utf16_without_bom(head) if b"\x00" in head else None
    if encoding:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            text = None
        if text is not None and _control_share(text) < 0.01:
            return text, encoding
    if b"\x00" in head:
        return None  # NUL bytes in a non-UTF-16 file: binary
    if _single_high_bytes(head):
        # Isolated non-ASCII bytes between ASCII ones ("°C", "µm", "cm-¹"): a Western Windows
        # code page. Detectors guess East-Asian double-byte encodings for such short evidence.
        try:
            text = content.decode("cp1252")
            if _control_share(text) <= 0.01:
                return text, "cp1252"
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None or not best.encoding:
        return None
    try:
        text = content.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if _control_share(text) > 0.01:
        return None
    return text, best.encoding


def decode(content: bytes, *, filename: str | None = None) -> str:
    """Bytes → text. Refuses empty files and binary content with a reason."""
    if not content or not content.strip():
        raise ParseError("the file is empty", filename=filename)
    decoded = try_decode(content)
    if decoded is None:
        raise UnknownFormat(_binary_reason(content), filename=filename)
    return decoded[0]


def _binary_reason(content: bytes) -> str:
    for magic, what in _MAGIC:
        if content.startswith(magic):
            return f"binary content ({what}) that no parser here reads"
    return "binary content: expected a text export (CSV, TXT, XY…) or a supported binary format"


@dataclass(frozen=True)
class Candidate:
    """One parser's claim on some content."""

    parser: Parser
    confidence: float
    evidence: tuple[str, ...] = ()


def _score(parser: Parser, content: bytes, head: str | None) -> Candidate | None:
    try:
        score = parser.sniff_bytes(content) if parser.binary else (parser.sniff(head) if head is not None else 0.0)
    except (ParseError, ValueError, IndexError, KeyError):
        return None  # a sniff that trips over odd content simply does not claim it
    if not score or score <= 0:
        return None
    return Candidate(parser, float(score), tuple(getattr(score, "evidence", ())))


def rank(content: bytes, *, shape: str | None = None, text: str | None = None) -> list[Candidate]:
    """Every parser that claims ``content`` (optionally only those of one shape), best first.
    ``text`` is the decoded text when the caller has it already (else decoded here)."""
    if text is None:
        decoded = try_decode(content) if content and content.strip() else None
        text = decoded[0] if decoded else None
    head = text[:SNIFF_BYTES] if text is not None else None
    found = []
    for parser in parsers().values():
        if shape and parser.shape != shape:
            continue
        candidate = _score(parser, content, head)
        if candidate:
            found.append(candidate)
    found.sort(key=lambda c: (-c.confidence, c.parser.name))
    return found


def sniff(text: str, *, shape: str | None = None) -> Parser:
    """The most confident text parser for ``text`` (optionally only those of one shape)."""
    head = text[:SNIFF_BYTES]
    scored = []
    for parser in parsers().values():
        if parser.binary or (shape and parser.shape != shape):
            continue
        candidate = _score(parser, b"", head)
        if candidate:
            scored.append((candidate.confidence, parser.name, parser))
    if not scored:
        raise UnknownFormat("no parser recognises this content")
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored[0][2]


def _claimed(exc: ParseError, parser) -> ParseError:
    if getattr(exc, "shape", None) is None:
        exc.parser_name, exc.shape = parser.name, parser.shape
    return exc


def parse_bytes(content: bytes, *, filename: str | None = None, format: str | None = None,
                shape: str | None = None, options: dict | None = None) -> ParsedData:
    """Decode (text parsers), sniff (unless ``format`` names a parser) and parse.

    With ``shape``, parsers of that shape are tried first; when none claims the content, the
    best parser of any shape reads it, so the caller can say what the file is ("this is a
    spectrum, not a J-L-V sweep") instead of "unknown format". The result's metadata always has
    ``kind_hint`` and ``sniff`` (confidence, evidence, encoding)."""
    if not content or not content.strip():
        raise ParseError("the file is empty", filename=filename)
    decoded = try_decode(content)
    text, encoding = decoded if decoded else (None, "binary")
    evidence: tuple[str, ...] = ()
    if not format and options and options.get("columns") and text is not None:
        # A column map says "read this as a table with these columns": the delimited reader of
        # the shape asked for (or the one the mapped columns describe) reads it, whatever else
        # might claim the file (an odd Cary or spectrum export rescued by naming its columns).
        from .delimited import shape_for_columns

        wanted = shape or shape_for_columns([str(t) for t in options["columns"].values()])
        if wanted and f"delimited_{wanted}" in parsers():
            format = f"delimited_{wanted}"
    if format:
        try:
            parser = parsers()[format]
        except KeyError:
            raise UnknownFormat(f"unknown format {format!r}; known: {', '.join(sorted(parsers()))}",
                                filename=filename) from None
        confidence = 1.0
    else:
        # Parsers of the shape asked for first: most files are claimed confidently by their own
        # reader, and ranking every other reader costs more than the parse (bench/bench_analysis.py).
        found = rank(content, shape=shape, text=text) if shape else []
        if not found or found[0].confidence < 0.5:
            found = rank(content, text=text)
        if shape:
            # The shape asked for first — unless its readers claim the file only weakly and another
            # reader knows it for what it is (a PerkinElmer %T file asked for as a PL spectrum):
            # then that reading wins, so the caller can say "this is an absorbance spectrum".
            # (The delimited readers answering for each other — a J-V table asked for as J-L-V —
            # are one reader: its own parse gives the reason, "no luminance or photodiode column".)
            own = [c for c in found if c.parser.shape == shape]
            same_reader = own and found[0].parser.name.startswith("delimited_") and \
                own[0].parser.name.startswith("delimited_")
            if own and (same_reader or not (found[0].confidence >= 0.8 and own[0].confidence < 0.5)):
                found = own
        if not found:
            if text is None:
                raise UnknownFormat(_binary_reason(content), filename=filename)
            raise UnknownFormat("no parser recognises this content", filename=filename)
        parser, confidence, evidence = found[0].parser, found[0].confidence, found[0].evidence
    if not parser.binary and text is None:
        raise UnknownFormat(_binary_reason(content), filename=filename)
    try:
        if parser.binary:
            parsed = parser.parse_bytes(content, filename=filename, options=options or {})
        else:
            parsed = parser.parse(text, filename=filename, options=options or {})
    except ParseError as exc:
        # Which reader claimed the file travels with the error: the ingest service files a broken
        # J-L-V as a failed J-L-V (with this reason), not as "other" (issue 14).
        if exc.filename is None and filename:
            raise _claimed(type(exc)(exc.reason, line=exc.line, filename=filename), parser) from exc
        raise _claimed(exc, parser)
    except (IndexError, KeyError, ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
        # A parser that trips over a truncated or malformed file is still a file it cannot read:
        # say so for the person (and log it, since the parser should have said it itself).
        _log.warning("parser %s raised %s on %s", parser.name, type(exc).__name__, filename, exc_info=True)
        raise _claimed(ParseError(f"the {parser.name} reader could not read it ({type(exc).__name__}: {exc}); the "
                                  "file looks truncated or malformed", filename=filename), parser) from exc
    parsed.source = filename
    for sample in parsed.samples:
        sample.source = filename
    parsed.metadata["sniff"] = {"confidence": round(confidence, 3), "evidence": list(evidence), "encoding": encoding}
    if "kind_hint" not in parsed.metadata:
        parsed.metadata["kind_hint"] = kind_hint(_SHAPE_KINDS.get(parsed.shape, []), min(confidence, 0.5),
                                                 f"read by {parser.name} as {SHAPE_NAMES[parsed.shape]}",
                                                 *evidence)
    return parsed
