"""Analyse measurement files from the command line, without touching the database.

    python manage.py analyze --kind led --jlv jlv.csv --spectrum el.txt --pixel-area 0.09 --json
    python manage.py analyze --kind lifetime lifetime_*.csv --json
    python manage.py analyze --kind xrd pattern.xy --wavelength 1.5406
    python manage.py analyze --kind absorbance cary_many_samples.csv --json   # one result per sample

A file holding several samples (a Cary CSV with many column pairs) prints one result per sample
(JSON: ``"samples": [{"sample": title, "metrics": …, "warnings": …, "error": …}, …]``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from measurements.analysis.base import AnalysisError
from measurements.analysis.registry import specs
from measurements.parsers import ParseError

# What people type → the registered kind.
KIND_ALIASES = {"led": "jlv"}
# Short option names for parameters whose full name carries the unit.
PARAM_ALIASES = {"pixel_area_cm2": ["--pixel-area"], "wavelength_a": ["--wavelength"]}
ROLE_ALIASES = {"el": ["--spectrum"]}


class Command(BaseCommand):
    help = "Run an analysis on files and print its metrics (canonical names, with units). No database."

    def add_arguments(self, parser):
        all_specs = specs()
        parser.add_argument("--kind", required=True, help=f"one of: led, {', '.join(sorted(all_specs))}")
        parser.add_argument("files", nargs="*", type=Path, help="input files for kinds with one file role")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--column-map", default=None,
                            help='explicit column mapping for odd files (J-L-V, spectra, absorbance, decays), e.g. '
                                 '\'{"Vsrc": "voltage_v", "Ipd": "photodiode_current_a"}\' or '
                                 '\'{"columns": {"0": "wavelength_nm", "1": "absorbance"}, "units": {"0": "nm"}}\'')
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="any analysis parameter")
        roles, params = {}, {}
        for spec in all_specs.values():
            for role in spec.roles:
                roles.setdefault(role.name, role)
            for param in spec.params:
                params.setdefault(param.name, param)
        for name, role in roles.items():
            if name == "files":
                continue
            flags = [f"--{name.replace('_', '-')}", *ROLE_ALIASES.get(name, [])]
            parser.add_argument(*flags, dest=f"role_{name}", type=Path, nargs="+", help=role.help or f"{name} file")
        for name, param in params.items():
            flags = [f"--{name.replace('_', '-')}", *PARAM_ALIASES.get(name, [])]
            parser.add_argument(*flags, dest=f"param_{name}", type=param.type, default=None, help=param.help or name)

    def handle(self, *args, **options):
        kind = KIND_ALIASES.get(options["kind"], options["kind"])
        all_specs = specs()
        if kind not in all_specs:
            raise CommandError(f"unknown kind {options['kind']!r}; use one of: led, {', '.join(sorted(all_specs))}")
        spec = all_specs[kind]
        files: dict[str, list[tuple[str, bytes]]] = {}
        positional = options["files"]
        for role in spec.roles:
            given = options.get(f"role_{role.name}") or []
            if role.name == "files" or (not given and positional and role is spec.roles[0]):
                given, positional = [*given, *positional], []
            if given:
                files[role.name] = [(p.name, self._read(p)) for p in given]
        if positional:
            raise CommandError(f"{kind} takes its files as {', '.join('--' + r.name.replace('_', '-') for r in spec.roles)}")
        params = {p.name: options[f"param_{p.name}"] for p in spec.params if options.get(f"param_{p.name}") is not None}
        for item in options["param"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--param expects NAME=VALUE, got {item!r}")
            params[name.strip()] = value.strip()
        parse_options = None
        if options["column_map"]:
            try:
                mapping = json.loads(options["column_map"])
            except json.JSONDecodeError as exc:
                raise CommandError(f"--column-map is not valid JSON: {exc}") from None
            if not isinstance(mapping, dict):
                raise CommandError("--column-map must be a JSON object")
            # {"Vsrc": "voltage_v", …} or {"columns": {…}, "units": {"0": "cm-1", …}}
            column_options = mapping if set(mapping) <= {"columns", "units"} and mapping else {"columns": mapping}
            parse_options = {role: column_options for role in files}
        from measurements.analysis.registry import run

        try:
            result = run(kind, files, params, parse_options=parse_options)
        except (ParseError, AnalysisError) as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"error": str(exc)}))
                sys.exit(1)
            raise CommandError(str(exc)) from None
        payload = result.to_json()
        if options["json"]:
            self.stdout.write(json.dumps(payload, indent=1, allow_nan=False))
            return
        self.stdout.write(f"{result.method} v{result.version}")
        for name, m in payload["metrics"].items():
            flags = f"  [{', '.join(m['flags'])}]" if m.get("flags") else ""
            unc = f" ± {m['uncertainty']:.4g}" if m.get("uncertainty") is not None else ""
            self.stdout.write(f"  {name:28s} {m['value']:.6g}{unc} {m['unit']}{flags}")
        for entry in payload["per_file"]:
            self.stdout.write(f"  {entry['file']}:")
            for name, m in entry["metrics"].items():
                self.stdout.write(f"    {name:26s} {m['value']:.6g} {m.get('unit', '')}")
        warnings = list(payload["warnings"])
        for entry in payload.get("samples", []):  # one result per sample of a multi-sample file
            self.stdout.write(f"  sample {entry['sample']!r}:" + (f" no number ({entry['error']})" if entry["error"] else ""))
            for name, m in entry["metrics"].items():
                flags = f"  [{', '.join(m['flags'])}]" if m.get("flags") else ""
                self.stdout.write(f"    {name:26s} {m['value']:.6g} {m.get('unit', '')}{flags}")
            warnings.extend(entry["warnings"])
        for warning in warnings:
            self.stderr.write(f"warning: {warning}")

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
