"""The numeric block of a text file: every field as float() reads it, every row as wide as the
others. A short row beside a long one used to be reshaped into rows of the right width — the
columns of every row after it shifted, silently (a J-L-V read with voltage 0.21 V and a current
density of 52.5 mA/cm² where the file says 2.1 V, 0.21 mA/cm²)."""

import random

import numpy as np
import pytest

from measurements.parsers import ParseError, parse_bytes
from measurements.parsers.numbers import _PANDAS_FROM_CHARS, _plain_numbers, float_rows, has_non_rows


def _jlv(rows: int = 40) -> list[bytes]:
    return [b"Voltage (V),Current density (mA/cm2),Luminance (cd/m2)",
            *(f"{v / 10:.1f},{v * 0.01:.3f},{v * 2.5:.2f}".encode() for v in range(1, rows))]


def test_a_short_row_and_a_long_row_in_a_jlv_are_refused_with_the_short_ones_line():
    lines = _jlv()
    lines[20] = b"2.0,0.2"  # one field short …
    lines[22] += b",9.9"  # … and one too many two rows on: as many fields in all as a rectangle
    with pytest.raises(ParseError) as error:
        parse_bytes(b"\n".join(lines), filename="sweep.csv", shape="jlv")
    assert error.value.line == 21 and "expected 3 numeric columns, found 2" in str(error.value)


def test_a_short_and_a_long_row_in_an_oceanview_spectrum_are_refused():
    head = b"Data from x.txt Node\nXAxis mode: Wavelengths\n>>>>>Begin Spectral Data<<<<<\n"
    rows = [f"{400 + 0.5 * k:.3f}\t{500 + k:.2f}".encode() for k in range(60)]
    rows[10] = b"405.000"
    rows[12] += b"\t7.0"
    with pytest.raises(ParseError) as error:
        parse_bytes(head + b"\n".join(rows) + b"\n>>>>>End Spectral Data<<<<<\n", filename="el.txt",
                    shape="spectrum")
    assert error.value.line == 14 and "expected 2 numeric columns, found 1" in str(error.value)


def _fields(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        k = rng.random()
        if k < 0.3:
            out.append(f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 20)}f}")
        elif k < 0.6:
            out.append(f"{rng.uniform(-10, 10):.{rng.randint(0, 25)}e}".replace("e", rng.choice("eE")))
        elif k < 0.8:
            out.append(repr(rng.uniform(0, 1) * 10.0 ** rng.randint(-320, 308)))  # subnormals too
        else:
            out.append(rng.choice(["+3", ".5", "10.", "-0", "1E+05", "000123.4500", "-.5e-3", "4.9e-324"]))
    return out


@pytest.mark.parametrize("rows", [30, 20_000])  # below and above the size where pandas' reader is used
def test_every_field_is_the_double_float_gives(rows):
    fields = _fields(random.Random(rows), 3 * rows)
    block = "\n".join(" ".join(fields[3 * i:3 * i + 3]) for i in range(rows))
    # The large block goes through pandas' reader (plain numbers, long enough), the small one not.
    assert (len(block) >= _PANDAS_FROM_CHARS and _plain_numbers(block)) == (rows > 1000)
    values = float_rows(block, rows)
    expected = np.array([float(f) for f in fields]).reshape(rows, 3)
    assert values.shape == (rows, 3)
    assert np.array_equal(values.view(np.int64), expected.view(np.int64))  # bit for bit, -0.0 included


@pytest.mark.parametrize("rows", [30, 20_000])
def test_what_is_not_a_rectangle_of_numbers_is_none_and_what_float_takes_is_read(rows):
    good = [f"{10 + 0.01 * k:.4f}  {k * 3.25:.2f}" for k in range(rows)]
    assert float_rows("\n".join(good), rows).shape == (rows, 2)
    short = [*good[:5], "10.0500", *good[6:]]
    assert float_rows("\n".join(short), rows) is None
    wide = [*good[:5], good[5] + " 1.0", *good[6:]]
    assert float_rows("\n".join(wide), rows) is None
    assert float_rows("\n".join([*good[:5], "10.0500 abc", *good[6:]]), rows) is None
    assert float_rows("\n".join([*good[:5], "   ", *good[6:]]), rows) is None  # not the rows asked for
    grouped = float_rows("\n".join([*good[:5], "10.0500 1_000", *good[6:]]), rows)  # float() takes 1_000
    assert grouped[5, 1] == 1000.0
    spelled = float_rows("\n".join([*good[:5], "10.0500 nan", "10.0600 -inf", *good[7:]]), rows)
    assert np.isnan(spelled[5, 1]) and spelled[6, 1] == -np.inf  # as float() reads them (the bounds check refuses inf)


def test_lines_that_are_not_rows_are_found_whatever_their_indentation():
    rows = ["1 2", "3 4", "5 6"]
    assert not has_non_rows(rows, ("#",))
    for odd in ("", "   ", "\t", "\u00a0", "# note", "   # note"):
        assert has_non_rows([*rows[:1], odd, *rows[1:]], ("#",)), repr(odd)
    assert has_non_rows([*rows, "  "])  # a last line of whitespace
    assert not has_non_rows([*rows[:1], "# note", *rows[1:]])  # "#" is a comment only where it is named one
    assert has_non_rows([*rows[:1], "/* block", *rows[1:]], ("/*", "#"))
