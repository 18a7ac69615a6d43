"""The parser contract: text and binary parsers ranked together, encodings, kind hints."""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from measurements.parsers import (
    _REGISTRY,
    ParsedData,
    Parser,
    Sniff,
    UnknownFormat,
    parse_bytes,
    rank,
    register,
    try_decode,
)
from measurements.parsers.base import axis

EL = "public/el_spectrum.txt"


@pytest.fixture
def magic_parser():
    """A binary parser registered for one test (and removed after)."""

    class Magic(Parser):
        name = "test_magic"
        shape = "decay"
        binary = True

        def sniff_bytes(self, content):
            return Sniff(0.99, "magic 'MAGIC'") if content.startswith(b"MAGIC\x00") else 0.0

        def parse_bytes(self, content, *, filename=None, options=None):
            counts = list(content[6:])
            frame = pd.DataFrame({"time_ns": [float(i) for i in range(len(counts))], "counts": counts})
            return ParsedData(format=self.name, shape=self.shape, data=frame)

    register(Magic)
    yield
    _REGISTRY.pop("test_magic")


def test_a_binary_parser_gets_the_raw_bytes_and_its_evidence_is_kept(magic_parser):
    parsed = parse_bytes(b"MAGIC\x00\x05\x07\x00\x01", filename="run.mgc")
    assert parsed.format == "test_magic" and parsed.data["counts"].tolist() == [5, 7, 0, 1]
    assert parsed.metadata["sniff"] == {"confidence": 0.99, "evidence": ["magic 'MAGIC'"], "encoding": "binary"}
    assert parsed.metadata["kind_hint"]["kinds"] == ["trpl"]
    assert rank(b"MAGIC\x00\x01")[0].parser.name == "test_magic"


def test_binary_content_no_parser_reads_is_refused_naming_what_it_is():
    with pytest.raises(UnknownFormat, match=r"old\.xls: binary content \(an old Office"):
        parse_bytes(b"\xd0\xcf\x11\xe0" + bytes(range(256)) * 4, filename="old.xls")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"])
def test_unicode_text_exports_read_like_the_utf8_file(data_dir, encoding):
    text = (data_dir / EL).read_text()
    content = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        assert not content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))  # no mark at all
    parsed = parse_bytes(content, filename="el.txt")
    reference = parse_bytes(text.encode(), filename="el.txt")
    assert parsed.format == reference.format == "oceanview"
    pd.testing.assert_frame_equal(parsed.data, reference.data)
    assert parsed.metadata["sniff"]["encoding"].startswith(encoding.split("-sig")[0].replace("utf-16", "utf-16")[:6])


def test_cp1252_text_is_decoded_by_detection():
    text = "Temperature (°C)\tµm\n" + "\n".join(f"{i}\t{i * 2}" for i in range(5))
    decoded, encoding = try_decode(text.encode("cp1252"))
    assert "°C" in decoded and "µm" in decoded and encoding == "cp1252"


def test_axis_records_where_a_unit_came_from():
    a = axis("transmittance", "A", source="read", evidence="header '%T'", written="%T", converted="A = 2 - log10(%T)")
    assert a == {"quantity": "transmittance", "unit": "A", "written": "%T", "source": "read",
                 "evidence": "header '%T'", "converted": "A = 2 - log10(%T)"}
    with pytest.raises(ValueError):
        axis("wavelength", "nm", source="guessed")
