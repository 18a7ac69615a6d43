"""The import contracts (pyproject.toml [tool.importlinter], run by lint-imports) cover every app.

lint-imports reads only the root packages it is given, so an app missing from them would be
silently unchecked; these tests fail instead and say what to add.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _contract(contract_id: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["id"] == contract_id)


def _layer_modules() -> list[str]:
    """Every module named in the layers contract, optional ones without their parentheses."""
    names = []
    for layer in _contract("layers")["layers"]:
        names += [name.strip().strip("()") for name in re.split(r"[|:]", layer)]
    return names


def _our_apps() -> set[str]:
    """The project's own Django apps: installed apps whose package is a folder of this repository."""
    return {config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT}


def test_every_app_is_a_root_package_and_in_a_layer():
    roots = set(CONFIG["root_packages"])
    missing = _our_apps() - roots
    assert not missing, f"add {sorted(missing)} to root_packages in pyproject.toml [tool.importlinter]"
    unlayered = roots - set(_layer_modules())
    assert not unlayered, f"put {sorted(unlayered)} in a layer of the 'layers' contract (pyproject.toml)"


def test_every_package_on_disk_that_is_an_app_is_installed():
    # A folder with apps.py that is not in INSTALLED_APPS is a forgotten app, or a stale folder.
    on_disk = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert on_disk <= _our_apps(), f"{sorted(on_disk - _our_apps())} have apps.py but are not in INSTALLED_APPS"


def test_root_packages_exist():
    # lint-imports stops at a root package it cannot import ("Could not find package"): add an
    # app to root_packages when its folder lands, not before (the layers contract lists it optional).
    absent = [name for name in CONFIG["root_packages"] if not (ROOT / name / "__init__.py").exists()]
    assert not absent, f"{absent} are in root_packages but have no package folder"
