"""Check a RULES.toml before it is stored, so an agent never downloads rules it cannot use.

The agent (clients/ledger-client, ``ledger_client.rules``) is the reference reader; this checks the
same structure with the standard library only, because the server does not depend on the client.
"""

from __future__ import annotations

import re
import tomllib

RULE_KEYS = {"name", "pattern", "target", "sidecar", "kind", "params", "metadata", "instrument"}
TOP_KEYS = {"rule", "settle_seconds", "poll_seconds", "instrument", "recursive", "ignore"}
_GROUP = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")


def check_rules(text: str, *, kinds: set[str]) -> list[str]:
    """Problems with the rules, for people (empty when they are fine)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [f"not valid TOML: {exc}"]
    problems = [f"unknown setting {k!r} (known: {', '.join(sorted(TOP_KEYS))})" for k in doc if k not in TOP_KEYS]
    rules = doc.get("rule")
    if not isinstance(rules, list) or not rules:
        return [*problems, "no [[rule]] table: give at least one rule with a pattern"]
    for i, rule in enumerate(rules, 1):
        where = f"rule {i} ({rule.get('name')})" if rule.get("name") else f"rule {i}"
        problems += [f"{where}: unknown key {k!r}" for k in rule if k not in RULE_KEYS]
        pattern = rule.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            problems.append(f"{where}: needs a pattern, e.g. \"{{sample}}_{{pixel}}_*.csv\"")
            continue
        groups = set(_GROUP.findall(pattern))
        if not (rule.get("target") or rule.get("sidecar") or groups & {"sample", "target"}):
            problems.append(f"{where}: says no target: give target = \"DEV-0001-A\" (or a template), "
                            "sidecar = \"{stem}.json\", or a {sample} group in the pattern")
        if rule.get("kind") and rule["kind"] not in kinds:
            problems.append(f"{where}: kind {rule['kind']!r} is not one of {', '.join(sorted(kinds))}")
        for key in ("params", "metadata"):
            if key in rule and not isinstance(rule[key], dict):
                problems.append(f"{where}: {key} must be a table, e.g. {key} = {{ pixel_area_cm2 = 0.04 }}")
    return problems
