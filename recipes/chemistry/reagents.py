"""Reagents (formula, molar mass, density, purity, ion split) and the library that names them.

Lab abbreviations (MAI, PEAI, OAc…) are never handed to molmass: molmass reads "MAI" as the
peptide Met-Ala-Ile (333 g/mol). Every abbreviation maps to an explicit formula here or in the
database (Chemical.abbreviation / formula / ions), which extends the built-in table.
"""

from __future__ import annotations

import difflib
import functools
import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from molmass import Formula, FormulaError

from .errors import ChemistryError
from .ions import DEFAULT_IONS, ORGANIC_CATION_FORMULAS, Ion


def molar_mass_g_mol(formula: str) -> float:
    """Molar mass from standard atomic weights (molmass). Accepts "·" or "." for hydrates."""
    try:
        return float(Formula(_formula_for_molmass(formula)).mass)
    except (FormulaError, ValueError, KeyError) as exc:
        raise ChemistryError(f"cannot read formula {formula!r}: {str(exc).splitlines()[0]}") from None


def _formula_for_molmass(formula: str) -> str:
    text = unicodedata.normalize("NFKC", formula.strip())  # "PbBr₂" → "PbBr2"
    return text.replace("·", ".").replace("•", ".").replace("*", ".").replace(" ", "")


def infer_ions(formula: str, ions: Mapping[str, Ion] | None = None) -> dict[str, float]:
    """Guess the ion split of a simple salt from its formula: "PbBr2" → {"Pb": 1, "Br": 2},
    "C6H5CH2CH2NH3I" → {"PEA": 1, "I": 1}. Raises ChemistryError when the formula is not a
    halide of known metals and organic cations (carbonates, acetates, solvents…)."""
    ions = ions if ions is not None else {ion.symbol: ion for ion in DEFAULT_IONS}
    try:
        counts = {el: n for el, (n, _mass, _frac) in Formula(_formula_for_molmass(formula)).composition().asdict().items()}
    except (FormulaError, ValueError, KeyError) as exc:
        raise ChemistryError(f"cannot read formula {formula!r}: {str(exc).splitlines()[0]}") from None
    split: dict[str, float] = {}
    for element in list(counts):
        if element in ions and ions[element].role != "counter":
            split[element] = float(counts.pop(element))
    if counts:
        organic = _hill(counts)
        for units in range(1, 5):  # (PEA)2PbI4 holds two PEA
            if all(n % units == 0 for n in counts.values()):
                symbol = ORGANIC_CATION_FORMULAS.get(_hill({el: n // units for el, n in counts.items()}))
                if symbol and symbol in ions:
                    split[symbol] = float(units)
                    break
        else:
            raise ChemistryError(
                f"cannot tell which ions {formula!r} splits into (what is left, {organic}, is not a known cation); "
                'give its ion split in Chemicals, e.g. {"Cs": 2} for Cs2CO3')
    charge = sum(ions[s].charge * n for s, n in split.items())
    if charge != 0:
        raise ChemistryError(f"the ions guessed for {formula!r} ({_split_text(split)}) do not balance "
                             f"(net charge {charge:+g}); give its ion split in Chemicals")
    return split


def _hill(counts: Mapping[str, int]) -> str:
    order = sorted(counts, key=lambda el: (el != "C", el != "H" or "C" not in counts, el))
    return "".join(f"{el}{counts[el] if counts[el] != 1 else ''}" for el in order)


def _split_text(split: Mapping[str, float]) -> str:
    return ", ".join(f"{s} {n:g}" for s, n in split.items())


@dataclass(frozen=True)
class Reagent:
    """One chemical as the lab uses it.

    ``purity_wt_percent`` is the mass fraction of ``formula`` in what is weighed or pipetted:
    57 for 57 wt % aqueous HI, 99.99 for a 99.99 % salt. ``density_g_ml`` is that of the material
    as dispensed (the HI solution, not HI), and only liquids have one.
    """

    name: str  # what the lab calls it: "PEAI"
    formula: str  # a formula molmass reads: "C6H5CH2CH2NH3I"
    ions: Mapping[str, float] = field(default_factory=dict)  # per formula unit: {"PEA": 1, "I": 1}
    molar_mass_g_mol: float = 0.0  # 0 → computed from the formula
    density_g_ml: float | None = None
    purity_wt_percent: float = 100.0
    full_name: str = ""
    synonyms: tuple[str, ...] = ()  # other names it is looked up by: "PbI₂", "lead iodide"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ChemistryError("a reagent needs a name")
        if not self.molar_mass_g_mol:
            if not self.formula:
                raise ChemistryError(f"{self.name}: give a formula or a molar mass")
            object.__setattr__(self, "molar_mass_g_mol", molar_mass_g_mol(self.formula))
        if not (self.molar_mass_g_mol > 0 and math.isfinite(self.molar_mass_g_mol)):
            raise ChemistryError(f"{self.name}: molar mass must be positive (got {self.molar_mass_g_mol})")
        if self.density_g_ml is not None and not self.density_g_ml > 0:
            raise ChemistryError(f"{self.name}: density must be positive (got {self.density_g_ml} g/mL)")
        if not 0 < self.purity_wt_percent <= 100:
            raise ChemistryError(f"{self.name}: purity must be in (0, 100] wt % (got {self.purity_wt_percent})")
        for symbol, count in self.ions.items():
            if not count > 0:
                raise ChemistryError(f"{self.name}: ion count of {symbol} must be positive (got {count})")
        object.__setattr__(self, "ions", MappingProxyType({s: float(n) for s, n in self.ions.items()}))
        object.__setattr__(self, "synonyms", tuple(self.synonyms))

    @property
    def is_liquid(self) -> bool:
        return self.density_g_ml is not None

    @classmethod
    def from_formula(cls, name: str, formula: str, *, ions: Mapping[str, float] | None = None,
                     **kwargs: Any) -> Reagent:
        """A reagent whose ion split is guessed from the formula when not given (see infer_ions)."""
        return cls(name=name, formula=formula, ions=infer_ions(formula) if ions is None else ions, **kwargs)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Reagent:
        """From a Chemical row as a dict: ``abbreviation`` (or ``name``), ``formula``,
        ``molar_mass_g_mol``, ``density_g_ml``, ``purity_wt_percent`` (None → 100), ``ions``
        (empty → guessed from the formula when it is a simple halide salt, else none)."""
        abbreviation = (row.get("abbreviation") or "").strip()
        long_name = (row.get("name") or "").strip()
        key = abbreviation or long_name or (row.get("formula") or "").strip()
        formula = (row.get("formula") or "").strip()
        ions = dict(row.get("ions") or {})
        if not ions and formula:
            try:
                ions = infer_ions(formula)
            except ChemistryError:
                ions = {}  # a solvent or a salt the lab has not split yet: it carries no ions
        synonyms = [s for s in (long_name, formula) if s and s != key]
        synonyms += list(row.get("synonyms") or ())
        purity = row.get("purity_wt_percent")
        return cls(name=key, formula=formula, ions=ions,
                   molar_mass_g_mol=row.get("molar_mass_g_mol") or 0.0,
                   density_g_ml=row.get("density_g_ml"),
                   purity_wt_percent=100.0 if purity is None else float(purity),
                   full_name=long_name if long_name != key else "", synonyms=tuple(synonyms))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "formula": self.formula, "molar_mass_g_mol": self.molar_mass_g_mol,
                "density_g_ml": self.density_g_ml, "purity_wt_percent": self.purity_wt_percent,
                "ions": dict(self.ions)}


def _key(name: str) -> str:
    """Lookup key: "PbI₂", "pbi2", "Mn(Ac)2·4H2O" and "Mn(Ac)2.4H2O" find the same reagent."""
    text = unicodedata.normalize("NFKC", name).replace("·", ".").replace("•", ".")
    return "".join(text.split()).casefold()


class ReagentLibrary:
    """Reagents by name, plus the ion table their splits refer to.

    ``default_library()`` gives the built-in table; the Django side extends it with Chemical rows
    (``library.extend(rows)``); a later entry with the same name replaces the earlier one, so the
    lab's own record of a chemical wins over the built-in one.
    """

    def __init__(self, reagents: Iterable[Reagent | Mapping[str, Any]] = (),
                 ions: Iterable[Ion] = DEFAULT_IONS) -> None:
        self._ions: dict[str, Ion] = {}
        self._reagents: dict[str, Reagent] = {}
        self._index: dict[str, str] = {}  # lookup key → name
        for ion in ions:
            self.add_ion(ion)
        self.extend(reagents)

    # --- ions -------------------------------------------------------------------------------
    def add_ion(self, ion: Ion) -> None:
        self._ions[ion.symbol] = ion

    def ion(self, symbol: str) -> Ion:
        try:
            return self._ions[symbol]
        except KeyError:
            raise ChemistryError(f"unknown ion {symbol!r}; known: {', '.join(self._ions)}") from None

    @property
    def ions(self) -> Mapping[str, Ion]:
        return MappingProxyType(self._ions)

    def ion_order(self, symbol: str) -> int:
        return list(self._ions).index(symbol) if symbol in self._ions else len(self._ions)

    # --- reagents ---------------------------------------------------------------------------
    def add(self, reagent: Reagent | Mapping[str, Any]) -> Reagent:
        if not isinstance(reagent, Reagent):
            reagent = Reagent.from_mapping(reagent)
        for symbol in reagent.ions:
            if symbol not in self._ions:
                raise ChemistryError(
                    f"{reagent.name}: unknown ion {symbol!r} in its ion split; known ions: {', '.join(self._ions)}")
        old = self._reagents.pop(reagent.name, None)
        if old is not None:
            self._index = {k: v for k, v in self._index.items() if v != old.name}
        self._reagents[reagent.name] = reagent
        for alias in (reagent.name, reagent.full_name, *reagent.synonyms):
            if not alias:
                continue
            self._index[_key(alias)] = reagent.name
        self._index[_key(reagent.name)] = reagent.name  # its own name wins over another's synonym
        return reagent

    def extend(self, reagents: Iterable[Reagent | Mapping[str, Any]]) -> ReagentLibrary:
        for reagent in reagents:
            self.add(reagent)
        return self

    def copy(self) -> ReagentLibrary:
        return ReagentLibrary(self._reagents.values(), self._ions.values())

    def get(self, name: str) -> Reagent:
        found = self._index.get(_key(name or ""))
        if found is None:
            # only the closest name: a list of three near-misses reads as noise at the balance
            suggestions = difflib.get_close_matches(_key(name or ""), list(self._index), n=1, cutoff=0.6)
            hint = f" — did you mean {self._index[suggestions[0]]}?" if suggestions else "."
            raise ChemistryError(f"unknown reagent {name!r}{hint} Add it with its formula in Chemicals")
        return self._reagents[found]

    def __getitem__(self, name: str) -> Reagent:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._index

    def __iter__(self) -> Iterator[Reagent]:
        return iter(self._reagents.values())

    def __len__(self) -> int:
        return len(self._reagents)

    def names(self) -> list[str]:
        return list(self._reagents)


# name, formula, ion split, extra fields. Densities (g/mL, ~20 °C) from supplier data sheets.
_BUILT_IN: tuple[tuple[str, str, dict[str, float], dict[str, Any]], ...] = (
    # B-site halides
    ("PbI2", "PbI2", {"Pb": 1, "I": 2}, {"full_name": "lead(II) iodide"}),
    ("PbBr2", "PbBr2", {"Pb": 1, "Br": 2}, {"full_name": "lead(II) bromide"}),
    ("PbCl2", "PbCl2", {"Pb": 1, "Cl": 2}, {"full_name": "lead(II) chloride"}),
    ("SnI2", "SnI2", {"Sn": 1, "I": 2}, {"full_name": "tin(II) iodide"}),
    ("SnBr2", "SnBr2", {"Sn": 1, "Br": 2}, {"full_name": "tin(II) bromide"}),
    ("ZnI2", "ZnI2", {"Zn": 1, "I": 2}, {"full_name": "zinc iodide"}),
    ("ZnBr2", "ZnBr2", {"Zn": 1, "Br": 2}, {"full_name": "zinc bromide"}),
    ("MnI2", "MnI2", {"Mn": 1, "I": 2}, {"full_name": "manganese(II) iodide"}),
    ("MnCl2", "MnCl2", {"Mn": 1, "Cl": 2}, {"full_name": "manganese(II) chloride"}),
    ("Mn(Ac)2·4H2O", "Mn(CH3COO)2(H2O)4", {"Mn": 1, "Ac": 2},
     {"full_name": "manganese(II) acetate tetrahydrate", "synonyms": ("Mn(OAc)2·4H2O", "MnAc2·4H2O")}),
    # A-site salts
    ("CsI", "CsI", {"Cs": 1, "I": 1}, {"full_name": "caesium iodide"}),
    ("CsBr", "CsBr", {"Cs": 1, "Br": 1}, {"full_name": "caesium bromide"}),
    ("CsCl", "CsCl", {"Cs": 1, "Cl": 1}, {"full_name": "caesium chloride"}),
    ("Cs2CO3", "Cs2CO3", {"Cs": 2, "CO3": 1}, {"full_name": "caesium carbonate"}),
    ("KI", "KI", {"K": 1, "I": 1}, {"full_name": "potassium iodide"}),
    ("KBr", "KBr", {"K": 1, "Br": 1}, {"full_name": "potassium bromide"}),
    ("RbI", "RbI", {"Rb": 1, "I": 1}, {"full_name": "rubidium iodide"}),
    ("MAI", "CH3NH3I", {"MA": 1, "I": 1}, {"full_name": "methylammonium iodide"}),
    ("MABr", "CH3NH3Br", {"MA": 1, "Br": 1}, {"full_name": "methylammonium bromide"}),
    ("MACl", "CH3NH3Cl", {"MA": 1, "Cl": 1}, {"full_name": "methylammonium chloride"}),
    ("FAI", "CH(NH2)2I", {"FA": 1, "I": 1}, {"full_name": "formamidinium iodide"}),
    ("FABr", "CH(NH2)2Br", {"FA": 1, "Br": 1}, {"full_name": "formamidinium bromide"}),
    # spacer / ligand salts
    ("PEAI", "C6H5CH2CH2NH3I", {"PEA": 1, "I": 1}, {"full_name": "phenethylammonium iodide"}),
    ("PEABr", "C6H5CH2CH2NH3Br", {"PEA": 1, "Br": 1}, {"full_name": "phenethylammonium bromide"}),
    ("PEACl", "C6H5CH2CH2NH3Cl", {"PEA": 1, "Cl": 1}, {"full_name": "phenethylammonium chloride"}),
    ("BAI", "CH3(CH2)3NH3I", {"BA": 1, "I": 1}, {"full_name": "n-butylammonium iodide"}),
    ("BABr", "CH3(CH2)3NH3Br", {"BA": 1, "Br": 1}, {"full_name": "n-butylammonium bromide"}),
    ("IPAI", "(CH3)2CHNH3I", {"IPA": 1, "I": 1}, {"full_name": "isopropylammonium iodide"}),
    ("IPABr", "(CH3)2CHNH3Br", {"IPA": 1, "Br": 1}, {"full_name": "isopropylammonium bromide"}),
    # acids
    ("HI", "HI", {"H": 1, "I": 1},
     {"full_name": "hydroiodic acid, 57 wt % in water", "density_g_ml": 1.70, "purity_wt_percent": 57.0,
      "synonyms": ("hydroiodic acid",)}),
    ("HBr", "HBr", {"H": 1, "Br": 1},
     {"full_name": "hydrobromic acid, 48 wt % in water", "density_g_ml": 1.49, "purity_wt_percent": 48.0,
      "synonyms": ("hydrobromic acid",)}),
    # ligands and solvents: no ions in the lattice
    ("OAc", "C18H34O2", {}, {"full_name": "oleic acid", "density_g_ml": 0.895, "synonyms": ("OA", "oleic acid")}),
    ("OAm", "C18H37N", {}, {"full_name": "oleylamine", "density_g_ml": 0.813, "synonyms": ("OLA", "oleylamine")}),
    ("ODE", "C18H36", {}, {"full_name": "1-octadecene", "density_g_ml": 0.789, "synonyms": ("1-octadecene",)}),
    ("DMSO", "(CH3)2SO", {}, {"full_name": "dimethyl sulfoxide", "density_g_ml": 1.100}),
    ("DMF", "HCON(CH3)2", {}, {"full_name": "N,N-dimethylformamide", "density_g_ml": 0.944}),
    ("toluene", "C6H5CH3", {}, {"full_name": "toluene", "density_g_ml": 0.867}),
    ("MeOAc", "CH3COOCH3", {}, {"full_name": "methyl acetate", "density_g_ml": 0.932,
                                "synonyms": ("methyl acetate",)}),
    ("chlorobenzene", "C6H5Cl", {}, {"full_name": "chlorobenzene", "density_g_ml": 1.106, "synonyms": ("CB",)}),
    ("2-propanol", "(CH3)2CHOH", {}, {"full_name": "2-propanol", "density_g_ml": 0.786,
                                      "synonyms": ("isopropanol",)}),
)


@functools.lru_cache(maxsize=1)
def _built_in_reagents() -> tuple[Reagent, ...]:
    return tuple(Reagent(name=name, formula=formula, ions=ions, **extra) for name, formula, ions, extra in _BUILT_IN)


def default_library() -> ReagentLibrary:
    """A fresh library of the built-in reagents; extend it with the lab's Chemicals."""
    return ReagentLibrary(_built_in_reagents())
