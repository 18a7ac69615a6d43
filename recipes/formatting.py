"""How a planned value reads on a page, a traveller and in the API: "100–200 µL", "1000 rpm"."""

from __future__ import annotations


def format_number(value: float | None) -> str:
    if value is None:
        return ""
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.4g}"


def format_planned(nominal, lo, hi, unit: str, text: str = "", value_type: str = "number") -> str:
    if value_type != "number":
        return text
    unit_part = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        core = f"{format_number(lo)}–{format_number(hi)}"
        if nominal is not None and nominal not in (lo, hi) and abs(nominal - (lo + hi) / 2) > 1e-12 * max(1, abs(nominal)):
            return f"{format_number(nominal)}{unit_part} ({core}{unit_part})"
        return core + unit_part
    if lo is not None:
        return f"≥ {format_number(lo)}{unit_part}"
    if hi is not None:
        return f"≤ {format_number(hi)}{unit_part}"
    return f"{format_number(nominal)}{unit_part}"
