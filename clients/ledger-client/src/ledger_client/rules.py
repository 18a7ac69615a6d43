"""Which file goes to which sample: RULES.toml.

```toml
settle_seconds = 5          # a file is complete when its size and mtime have not changed for this long
instrument = "J-L-V rig 1"  # default for every rule

[[rule]]                    # first matching rule wins
name = "jlv"
pattern = "{sample}_{pixel}_*.csv"   # DEV-0001_A_run3.csv → target DEV-0001-A
kind = "jlv"
params = { pixel_area_cm2 = 0.09 }

[[rule]]
name = "el"
pattern = "*.txt"
sidecar = "{stem}.json"     # {"sample": "DEV-0001-A"} (or key = value lines, or one line with the label)

[[rule]]
name = "lifetime rack"
pattern = "lifetime_*.csv"
target = "DEV-0001"         # a fixed target for a dedicated rig
```

A pattern is a glob on the file name (``*``, ``?``) with named groups: ``{name}`` matches up to the
next ``_`` (no path separators), ``{name:REGEX}`` matches REGEX (``{sample:DEV-\\d{4}}``). Matching
ignores case. The target is ``target`` (a template over the groups, ``{stem}``, ``{name}``), else the
sidecar's, else ``{target}``, ``{sample}-{pixel}`` or ``{sample}`` from the groups.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the instrument PCs' Pythons
    import tomli as tomllib

DEFAULT_GROUP = r"[^_/\\]+"
DEFAULT_IGNORE = ["~$*", "*.tmp", "*.part", "*.partial", "*.crdownload", ".*", "*.lock", "*.swp", "Thumbs.db",
                  "desktop.ini"]
RULE_KEYS = {"name", "pattern", "target", "sidecar", "kind", "params", "metadata", "instrument"}
TOP_KEYS = {"rule", "settle_seconds", "poll_seconds", "instrument", "recursive", "ignore"}


class RulesError(ValueError):
    """A rule file that cannot be used; the message names the rule and what to write instead."""


class Waiting(Exception):
    """The file cannot be sent yet (its sidecar is not there); look again later."""


@dataclass
class Resolution:
    target: str
    kind: str | None
    params: dict[str, Any]
    metadata: dict[str, Any]
    instrument: str | None
    measured_at: str | None = None


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], list[str]]:
    out: list[str] = []
    groups: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "{":
            depth, j = 1, i + 1
            while j < len(pattern) and depth:
                depth += {"{": 1, "}": -1}.get(pattern[j], 0)
                j += 1
            if depth:
                raise RulesError(f"pattern {pattern!r}: a {{ at position {i + 1} is never closed")
            name, _, regex = pattern[i + 1:j - 1].partition(":")
            if not name.isidentifier():
                raise RulesError(f"pattern {pattern!r}: {{{name}}} is not a group name (letters, digits, _)")
            if name in groups:
                raise RulesError(f"pattern {pattern!r}: the group {{{name}}} appears twice")
            try:
                re.compile(regex or DEFAULT_GROUP)
            except re.error as exc:
                raise RulesError(f"pattern {pattern!r}: the regex of {{{name}}} is invalid ({exc})") from None
            groups.append(name)
            out.append(f"(?P<{name}>{regex or DEFAULT_GROUP})")
            i = j
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL), groups


def _format(template: str, values: dict[str, str], what: str) -> str:
    try:
        return template.format_map(values)
    except KeyError as exc:
        raise RulesError(f"{what} {template!r} uses {{{exc.args[0]}}}, which the pattern does not capture "
                         f"(it has {', '.join('{' + k + '}' for k in values)})") from None


def read_sidecar(path: Path) -> dict[str, Any]:
    """JSON object; else ``key = value`` / ``key: value`` lines; else one line with the label."""
    text = path.read_text(encoding="utf-8-sig", errors="replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RulesError(f"sidecar {path.name}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise RulesError(f"sidecar {path.name}: expected a JSON object")
        return data
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    pairs = [re.split(r"\s*[=:]\s*", ln, maxsplit=1) for ln in lines]
    if lines and all(len(p) == 2 for p in pairs):
        return {k.strip().lower(): v.strip().strip('"') for k, v in pairs}
    if len(lines) == 1:
        return {"target": lines[0]}
    raise RulesError(f"sidecar {path.name}: expected JSON, key = value lines or one line with the sample label")


@dataclass
class Rule:
    name: str
    pattern: str
    target: str | None = None
    sidecar: str | None = None
    kind: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    instrument: str | None = None

    def __post_init__(self) -> None:
        self.regex, self.groups = compile_pattern(self.pattern)
        if not (self.target or self.sidecar or {"target", "sample"} & set(self.groups)):
            raise RulesError(f"rule {self.name!r}: says no target; give target = \"DEV-0001-A\" (or a template), "
                             "sidecar = \"{stem}.json\", or a {sample} group in the pattern")
        for key in ("params", "metadata"):
            if not isinstance(getattr(self, key), dict):
                raise RulesError(f"rule {self.name!r}: {key} must be a table, e.g. {key} = {{ pixel_area_cm2 = 0.09 }}")

    def match(self, filename: str) -> dict[str, str] | None:
        m = self.regex.match(filename)
        if m is None:
            return None
        stem, dot, ext = filename.rpartition(".")
        values = {"name": filename, "stem": stem if dot else filename, "ext": ext if dot else ""}
        values.update({k: v for k, v in m.groupdict().items() if v is not None})
        return values

    def sidecar_path(self, path: Path, values: dict[str, str]) -> Path | None:
        if not self.sidecar:
            return None
        return path.parent / _format(self.sidecar, values, f"rule {self.name!r}: sidecar")

    def resolve(self, path: Path, values: dict[str, str], default_instrument: str | None = None) -> Resolution:
        side: dict[str, Any] = {}
        sidecar = self.sidecar_path(path, values)
        if sidecar is not None:
            if not sidecar.is_file():
                raise Waiting(f"waiting for its sidecar {sidecar.name}")
            side = read_sidecar(sidecar)
        if self.target:
            target = _format(self.target, values, f"rule {self.name!r}: target")
        elif side.get("target") or side.get("sample"):
            target = str(side.get("target") or side["sample"])
            if side.get("pixel") and not side.get("target"):
                target = f"{target}-{side['pixel']}"
        elif "target" in values:
            target = values["target"]
        elif "sample" in values:
            target = f"{values['sample']}-{values['pixel']}" if values.get("pixel") else values["sample"]
        else:
            raise RulesError(f"rule {self.name!r}: the sidecar {sidecar.name if sidecar else ''} names no sample "
                             "(give \"sample\" or \"target\")")
        params = {**self.params, **(side.get("params") or {})}
        known = {"target", "sample", "pixel", "kind", "params", "metadata", "instrument", "measured_at"}
        metadata = {**self.metadata, **(side.get("metadata") or {}), **{k: v for k, v in side.items() if k not in known},
                    "agent_rule": self.name}
        return Resolution(target=target.strip(), kind=side.get("kind") or self.kind, params=params, metadata=metadata,
                          instrument=side.get("instrument") or self.instrument or default_instrument,
                          measured_at=side.get("measured_at"))


@dataclass
class RuleSet:
    rules: list[Rule]
    settle_seconds: float = 5.0
    poll_seconds: float | None = None
    instrument: str | None = None
    recursive: bool = True
    ignore: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORE))
    source: str = "RULES.toml"

    def ignored(self, filename: str) -> bool:
        return any(fnmatch.fnmatch(filename.lower(), p.lower()) for p in self.ignore)

    def first_match(self, filename: str) -> tuple[Rule, dict[str, str]] | None:
        for rule in self.rules:
            values = rule.match(filename)
            if values is not None:
                return rule, values
        return None

    def sidecars_of(self, path: Path) -> set[Path]:
        """Sidecar files of the data files beside ``path`` (never uploaded themselves)."""
        found = self.first_match(path.name)
        if found is None:
            return set()
        rule, values = found
        side = rule.sidecar_path(path, values)
        return {side} if side else set()


def load_rules(text: str, source: str = "RULES.toml") -> RuleSet:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML ({exc})") from None
    unknown = [k for k in doc if k not in TOP_KEYS]
    if unknown:
        raise RulesError(f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(TOP_KEYS))})")
    raw_rules = doc.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesError(f"{source}: no [[rule]] table; give at least one rule with a pattern")
    rules = []
    for i, raw in enumerate(raw_rules, 1):
        name = str(raw.get("name") or f"rule {i}")
        bad = [k for k in raw if k not in RULE_KEYS]
        if bad:
            raise RulesError(f"{source}: rule {name!r}: unknown key {bad[0]!r} (known: {', '.join(sorted(RULE_KEYS))})")
        if not isinstance(raw.get("pattern"), str) or not raw["pattern"]:
            raise RulesError(f"{source}: rule {name!r} needs a pattern, e.g. pattern = \"{{sample}}_{{pixel}}_*.csv\"")
        try:
            rules.append(Rule(name=name, **{k: v for k, v in raw.items() if k != "name"}))
        except RulesError as exc:
            raise RulesError(f"{source}: {exc}") from None
    ignore = doc.get("ignore", DEFAULT_IGNORE)
    return RuleSet(rules=rules, settle_seconds=float(doc.get("settle_seconds", 5.0)),
                   poll_seconds=float(doc["poll_seconds"]) if doc.get("poll_seconds") else None,
                   instrument=doc.get("instrument"), recursive=bool(doc.get("recursive", True)),
                   ignore=list(ignore), source=source)


def fixed_rules(target: str, *, kind: str | None = None, params: dict | None = None,
                instrument: str | None = None) -> RuleSet:
    """Every file of the folder to one target (``ledger watch DIR --target DEV-0001-A``)."""
    return RuleSet(rules=[Rule(name="fixed", pattern="*", target=target, kind=kind, params=params or {},
                               instrument=instrument)], instrument=instrument, source="--target")
