"""RULES.toml: patterns with named groups, targets, sidecars, refusals for people; and the client
package needs no Python newer than 3.9 (vermin)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ledger_client.rules import RulesError, Waiting, load_rules

RULES = """
settle_seconds = 2
instrument = "J-L-V rig 1"
[[rule]]
name = "jlv"
pattern = "{sample}_{pixel}_*.csv"
kind = "jlv"
params = { pixel_area_cm2 = 0.04 }
[[rule]]
name = "dashes"
pattern = "{sample:DEV-\\\\d{4}}-{pixel:[A-D]}-*.dat"
[[rule]]
name = "el"
pattern = "*.txt"
sidecar = "{stem}.json"
kind = "el"
[[rule]]
name = "rack"
pattern = "lifetime_*.csv"
target = "DEV-0002"
"""


def resolve(rules, path: Path):
    rule, values = rules.first_match(path.name)
    return rule.name, rule.resolve(path, values, rules.instrument)


def test_targets_from_groups_sidecars_and_fixed(tmp_path):
    rules = load_rules(RULES)
    assert rules.settle_seconds == 2
    name, res = resolve(rules, tmp_path / "DEV-0001_A_run3.csv")
    assert (name, res.target, res.kind, res.params, res.instrument) == ("jlv", "DEV-0001-A", "jlv", {"pixel_area_cm2": 0.04}, "J-L-V rig 1")
    assert resolve(rules, tmp_path / "dev-0007-c-sweep.dat")[1].target == "dev-0007-C".replace("C", "c")  # case kept as written
    assert resolve(rules, tmp_path / "lifetime_2.csv") == ("rack", resolve(rules, tmp_path / "lifetime_2.csv")[1])
    assert resolve(rules, tmp_path / "lifetime_2.csv")[1].target == "DEV-0002"  # first match: not the jlv rule
    with pytest.raises(Waiting, match="spec1.json"):
        resolve(rules, tmp_path / "spec1.txt")
    (tmp_path / "spec1.json").write_text('{"sample": "DEV-0003", "pixel": "B", "operator": "ab", "params": {"x": 1}}')
    _, res = resolve(rules, tmp_path / "spec1.txt")
    assert res.target == "DEV-0003-B" and res.metadata["operator"] == "ab" and res.params == {"x": 1}
    (tmp_path / "spec2.json").write_text("DEV-0004-D\n")
    assert resolve(rules, tmp_path / "spec2.txt")[1].target == "DEV-0004-D"
    (tmp_path / "spec3.json").write_text("sample = DEV-0005\nkind: pl\n")
    _, res = resolve(rules, tmp_path / "spec3.txt")
    assert (res.target, res.kind) == ("DEV-0005", "pl")
    assert rules.first_match("notes.docx") is None
    assert rules.ignored("~$export.csv") and rules.ignored("run.csv.part") and not rules.ignored("run.csv")


@pytest.mark.parametrize("text, message", [
    ('[[rule]]\npattern = "*.csv"', "says no target"),
    ('[[rule]]\npattern = "{sample_*.csv"', "never closed"),
    ('[[rule]]\npattern = "{sample}_{sample}.csv"', "appears twice"),
    ('[[rule]]\npattern = "{sample}.csv"\ntarget = "{sample}-{pixel}"', "does not capture"),
    ('[[rule]]\npattern = "{sample}.csv"\nkinds = "el"', "unknown key 'kinds'"),
    ('settle = 3\n[[rule]]\npattern = "{sample}.csv"', "unknown setting 'settle'"),
    ('settle_seconds = 3', "no [[rule]]"),
    ('[[rule]\n', "not valid TOML"),
])
def test_rules_that_cannot_work_are_refused_with_the_reason(text, message, tmp_path):
    with pytest.raises(RulesError, match=message.replace("[", r"\[").replace("(", r"\(")):
        rules = load_rules(text)
        rule, values = rules.first_match("DEV-0001.csv")
        rule.resolve(tmp_path / "DEV-0001.csv", values)


def test_server_validation_agrees_with_the_agent():
    from stations.validation import check_rules

    assert check_rules(RULES, kinds={"jlv", "el", "lifetime"}) == []
    problems = check_rules('[[rule]]\npattern = "*.csv"\nkind = "jvl"', kinds={"jlv"})
    assert any("says no target" in p for p in problems) and any("'jvl' is not one of jlv" in p for p in problems)


def test_client_package_runs_on_python_3_9():
    src = Path(__file__).resolve().parents[2] / "clients" / "ledger-client" / "src"
    # Annotations are strings in every module (from __future__ import annotations), so `X | None`
    # in them is fine on 3.9; vermin checks everything that runs.
    proc = subprocess.run([str(Path(sys.executable).parent / "vermin"), "-t=3.9-", "--violations", "--no-tips", str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
