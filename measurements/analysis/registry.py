"""Analysis registry: one entry per measurement kind (the names the API, CLI and UI use).

Each kind's module registers a function ``func(inputs, params) -> AnalysisResult`` where
``inputs`` maps a role ("jlv", "el", "files", ...) to a list of ParsedData. ``run`` parses raw
bytes with the parser registry, checks the roles, and calls the function. Pure Python.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..parsers import SHAPE_NAMES, ParsedData, ParseError, parse_bytes
from .base import AnalysisError, AnalysisResult
from .limits import check_parsed


@dataclass(frozen=True)
class Param:
    name: str  # python name, e.g. "pixel_area_cm2"
    type: type = float
    default: Any = None
    required: bool = False
    help: str = ""


@dataclass(frozen=True)
class Role:
    name: str  # e.g. "jlv"
    shapes: tuple[str, ...]  # ParsedData shapes accepted
    many: bool = False  # several files allowed (lifetime runs, overlays)
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class AnalysisSpec:
    kind: str
    method: str
    version: str
    func: Callable[[dict[str, list[ParsedData]], dict[str, Any]], AnalysisResult]
    roles: tuple[Role, ...]
    params: tuple[Param, ...] = ()
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_SPECS: dict[str, AnalysisSpec] = {}
_log = logging.getLogger(__name__)
_MODULES = ["led", "lifetime", "pl", "plqy", "trpl", "ta", "xrd", "absorbance"]


def register_analysis(spec: AnalysisSpec) -> AnalysisSpec:
    _SPECS[spec.kind] = spec
    return spec


_loaded = False


def specs() -> dict[str, AnalysisSpec]:
    # A flag, not "if not _SPECS": importing one analysis module directly registers that kind
    # only, and the rest must still be loaded.
    global _loaded
    if not _loaded:
        for module in _MODULES:
            importlib.import_module(f"{__package__}.{module}")
        _loaded = True
    return dict(_SPECS)


def get_spec(kind: str) -> AnalysisSpec:
    try:
        return specs()[kind]
    except KeyError:
        raise AnalysisError(f"unknown measurement kind {kind!r}; known: {', '.join(sorted(specs()))}") from None


def resolve_params(spec: AnalysisSpec, given: dict[str, Any]) -> dict[str, Any]:
    known = {p.name: p for p in spec.params}
    unknown = set(given) - set(known)
    if unknown:
        raise AnalysisError(f"{spec.kind}: unknown parameter(s) {', '.join(sorted(unknown))}")
    out = {}
    for name, p in known.items():
        value = given.get(name, p.default)
        if value is None:
            if p.required:
                raise AnalysisError(f"{spec.kind}: parameter {name} is required ({p.help})")
        else:
            try:
                value = p.type(value)
            except (TypeError, ValueError):
                raise AnalysisError(f"{spec.kind}: parameter {name} must be a {p.type.__name__}, got {value!r}") from None
        out[name] = value
    return out


def parse_inputs(kind: str, files: dict[str, list[tuple[str, bytes | ParsedData]]],
                 *, parse_options: dict[str, dict] | None = None) -> dict[str, list[ParsedData]]:
    """Parse ``files`` (role -> [(name, bytes)]) for the analysis of ``kind`` and check the roles
    and the bounds (limits.check_parsed) before anything is fitted. An entry whose second item is
    a ParsedData (read by the caller with this role's shape and options) is not parsed again."""
    spec = get_spec(kind)
    inputs: dict[str, list[ParsedData]] = {}
    roles = {r.name: r for r in spec.roles}
    unknown = set(files) - set(roles)
    if unknown:
        raise AnalysisError(f"{kind}: unexpected input(s) {', '.join(sorted(unknown))}; "
                            f"expected {', '.join(roles)}")
    for role in spec.roles:
        given = files.get(role.name) or []
        if not given:
            if role.required:
                raise AnalysisError(f"{kind}: missing {role.name} file ({role.help})")
            continue
        if len(given) > 1 and not role.many:
            raise AnalysisError(f"{kind}: only one {role.name} file expected, got {len(given)}")
        opts = (parse_options or {}).get(role.name)
        parsed = []
        for name, content in given:
            if isinstance(content, ParsedData):
                data = content  # read already (the pipeline parses the file it processes once)
            else:
                # Sniff among the shapes the role accepts first; fall back to any parser so the
                # error can say what the file looked like instead of "unknown format".
                data = parse_bytes(content, filename=name, options=opts,
                                   shape=role.shapes[0] if len(role.shapes) == 1 else None)
            if data.shape not in role.shapes:
                wanted = " or ".join(SHAPE_NAMES[s] for s in role.shapes)
                raise AnalysisError(f"{name}: this is {SHAPE_NAMES[data.shape]} (read as {data.format}), "
                                    f"not {wanted}: {kind} needs {wanted} for its {role.name} input")
            check_parsed(data)
            parsed.append(data)
        inputs[role.name] = parsed
    return inputs


def run_parsed(kind: str, inputs: dict[str, list[ParsedData]], params: dict[str, Any] | None = None) -> AnalysisResult:
    """Run the analysis of ``kind`` on already parsed inputs (role -> [ParsedData])."""
    spec = get_spec(kind)
    resolved = resolve_params(spec, params or {})
    try:
        result = spec.func(inputs, resolved)
    except (AnalysisError, ParseError):
        raise
    except (ValueError, IndexError, ArithmeticError, np.linalg.LinAlgError) as exc:
        # Numbers a fit or filter cannot take (a NaN run, a degenerate axis) that the analysis did
        # not check itself: no number is stored, the file fails with this, and the log keeps the
        # trace so the check can be added where it belongs.
        names = ", ".join(d.source or "?" for ds in inputs.values() for d in ds)
        _log.warning("%s analysis of %s raised %s", kind, names, type(exc).__name__, exc_info=True)
        raise AnalysisError(f"{names}: the {kind} analysis cannot run on these values ({type(exc).__name__}: {exc}); "
                            "check the file for empty, repeated or non-numeric stretches") from exc
    result.method = result.method or spec.method
    result.version = result.version or spec.version
    result.parameters = {**resolved, **result.parameters}
    return result


def run(kind: str, files: dict[str, list[tuple[str, bytes]]], params: dict[str, Any] | None = None,
        *, parse_options: dict[str, dict] | None = None) -> AnalysisResult:
    """Parse ``files`` (role -> [(name, bytes)]) and run the analysis of ``kind``.

    ``parse_options`` maps a role to parser options (e.g. an explicit column mapping).
    Raises ParseError or AnalysisError with a reason a person can act on.
    """
    resolve_params(get_spec(kind), params or {})  # a bad parameter is named before any file is read
    return run_parsed(kind, parse_inputs(kind, files, parse_options=parse_options), params)
