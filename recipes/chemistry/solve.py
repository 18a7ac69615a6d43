"""Inverse problem: what to weigh for a target composition.

Balances imposed, in mmol, with B = b_molarity × volume and the target ⟨n⟩ of L2 A(n-1) Bn X(3n+1)
(Liu, Dong et al., JACS 2021, doi 10.1021/jacs.1c02148):

    each B-site metal k      = b_site[k] · B                  (one metal on hand → all of B)
    each A-site cation i     = a_site[i] · (n−1)/n · B        (3D, n = ∞: · B)
    each spacer j            = spacer[j] · 2/n · B            (3D: 0)
    each halide h            = halide_fractions[h] · (3n+1)/n · B   (charge balance; 3D: · 3B)
    every other lattice ion a reagent brings = 0              (e.g. Cl from PbCl2 not asked for)

Counter-ions (H⁺, carbonate, acetate) are free. The amounts x ≥ 0 solve A·x = b by bounded least
squares (scipy.optimize.lsq_linear); a non-zero residual means the targets are inconsistent for
these reagents. When A has a non-trivial null space (PbI2 + PbBr2 + CsI + CsBr: Br can come from
either), the targets do not fix the recipe; we do not pick one silently but raise and ask the user
to drop a reagent or fix its amount (``fixed_mmol``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import lsq_linear

from .amounts import Component
from .composition import Composition, composition, format_count
from .errors import ChemistryError
from .ions import A_SITE, B_SITE, HALIDE, SPACER
from .reagents import Reagent, ReagentLibrary, default_library

RESIDUAL_TOLERANCE = 1e-7  # relative to the largest ion target; weighing is good to ~1e-4
_GROUP_LABELS = {B_SITE: "the B-site molarity", HALIDE: "the halide fractions", A_SITE: "the A-site mix",
                 SPACER: "⟨n⟩ (spacer/B)"}


@dataclass(frozen=True)
class Targets:
    """What the chemist asks for. Give ``n`` or ``spacer_ratio`` (spacer/B = 2/n); neither means 3D."""

    halide_fractions: Mapping[str, float]  # {"Br": 0.4, "I": 0.6}
    b_molarity_m: float  # all B-site metals, mol/L
    volume_ml: float
    n: float | None = None
    spacer_ratio: float | None = None
    a_site: Mapping[str, float] | None = None  # {"Cs": 0.8, "MA": 0.2}; None → the one A cation on hand
    spacer: Mapping[str, float] | None = None  # {"PEA": 1}; None → the one spacer on hand
    b_site: Mapping[str, float] | None = None  # {"Pb": 1}; None → the one B metal on hand

    def __post_init__(self) -> None:
        for name in ("b_molarity_m", "volume_ml"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ChemistryError(f"{name} must be a positive number (got {value!r})")
        if self.n is not None and self.spacer_ratio is not None:
            raise ChemistryError("give either n or spacer_ratio, not both (spacer/B = 2/n)")
        if self.n is not None and not self.n >= 1:
            raise ChemistryError(f"⟨n⟩ must be at least 1 (got {self.n}); n = 1 is the pure 2D L2BX4")
        if self.spacer_ratio is not None and not 0 <= self.spacer_ratio <= 2:
            raise ChemistryError(f"spacer/B must be between 0 and 2 (got {self.spacer_ratio})")
        for name in ("halide_fractions", "a_site", "spacer", "b_site"):
            mix = getattr(self, name)
            if isinstance(mix, str):
                object.__setattr__(self, name, {mix: 1.0})
            elif mix is not None:
                _check_fractions(name, mix)

    @property
    def n_layers(self) -> float:
        """⟨n⟩ as a number; math.inf for 3D."""
        if self.n is not None:
            return float(self.n)
        if self.spacer_ratio:
            return 2.0 / self.spacer_ratio
        return math.inf

    @property
    def b_mmol(self) -> float:
        return self.b_molarity_m * self.volume_ml

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Targets:
        """From the API: {"halide_fractions", "n" | "spacer_ratio", "b_molarity", "a_site",
        "spacer", "b_site", "volume_ml"}."""
        known = {"halide_fractions", "n", "spacer_ratio", "b_molarity", "b_molarity_m", "a_site", "spacer",
                 "b_site", "volume_ml"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ChemistryError(f"unknown target(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
        if "halide_fractions" not in data:
            raise ChemistryError("targets need halide_fractions, e.g. {\"Br\": 0.4, \"I\": 0.6}")
        b_molarity = data.get("b_molarity_m", data.get("b_molarity"))
        if b_molarity is None or "volume_ml" not in data:
            raise ChemistryError("targets need b_molarity (M) and volume_ml")
        return cls(halide_fractions=data["halide_fractions"], b_molarity_m=b_molarity,
                   volume_ml=data["volume_ml"], n=data.get("n"), spacer_ratio=data.get("spacer_ratio"),
                   a_site=data.get("a_site"), spacer=data.get("spacer"), b_site=data.get("b_site"))


def _check_fractions(name: str, mix: Mapping[str, float]) -> None:
    if not isinstance(mix, Mapping) or not mix:
        raise ChemistryError(f"{name} must be a mix like {{\"Br\": 0.4, \"I\": 0.6}} (got {mix!r})")
    for symbol, fraction in mix.items():
        if not (isinstance(fraction, (int, float)) and 0 <= fraction <= 1):
            raise ChemistryError(f"{name}: the fraction of {symbol} must be between 0 and 1 (got {fraction!r})")
    total = sum(mix.values())
    if abs(total - 1) > 1e-6:
        raise ChemistryError(f"{name} add up to {total:g}, not 1")


@dataclass
class Solution:
    """What to weigh, and the composition it gives (the forward check of the answer)."""

    components: list[Component]
    targets: Targets
    composition: Composition
    warnings: list[str] = field(default_factory=list)

    @property
    def mass_mg(self) -> dict[str, float]:
        return {c.reagent.name: c.mass_mg for c in self.components}

    @property
    def amount_mmol(self) -> dict[str, float]:
        return {c.reagent.name: c.amount_mmol for c in self.components}

    def to_dict(self) -> dict[str, Any]:
        return {"components": [c.to_dict() for c in self.components], "volume_ml": self.targets.volume_ml,
                "composition": self.composition.to_dict(), "warnings": list(self.warnings)}


def _resolve_mix(given: Mapping[str, float] | None, on_hand: list[str], what: str, needed: bool) -> dict[str, float]:
    if given is not None:
        return dict(given)
    if not needed:
        return {}
    if len(on_hand) == 1:
        return {on_hand[0]: 1.0}
    if not on_hand:
        return {}  # the missing-source check below names what is missing
    raise ChemistryError(f"several {what} on hand ({', '.join(on_hand)}): say which mix you want")


def ion_targets_mmol(targets: Targets, reagents: Sequence[Reagent], library: ReagentLibrary) -> dict[str, float]:
    """The ion balances of the module docstring, in mmol, for every lattice ion in play."""
    def on_hand(role: str) -> list[str]:
        return [s for s in library.ions if library.ion(s).role == role and any(s in r.ions for r in reagents)]

    n = targets.n_layers
    b = targets.b_mmol
    per_b = {  # L2 A(n-1) Bn X(3n+1), per B-site metal
        B_SITE: 1.0,
        A_SITE: 1.0 if math.isinf(n) else (n - 1) / n,
        SPACER: 0.0 if math.isinf(n) else 2.0 / n,
        HALIDE: 3.0 if math.isinf(n) else (3 * n + 1) / n,
    }
    mixes = {
        B_SITE: _resolve_mix(targets.b_site, on_hand(B_SITE), "B-site metals", True),
        A_SITE: _resolve_mix(targets.a_site, on_hand(A_SITE), "A-site cations", per_b[A_SITE] > 0),
        SPACER: _resolve_mix(targets.spacer, on_hand(SPACER), "spacer cations", per_b[SPACER] > 0),
        HALIDE: dict(targets.halide_fractions),
    }
    wanted: dict[str, float] = {}
    for role, mix in mixes.items():
        for symbol, fraction in mix.items():
            if library.ion(symbol).role != role:
                raise ChemistryError(f"{symbol} is not a {role}-site ion; it is {library.ion(symbol).role}")
            wanted[symbol] = fraction * per_b[role] * b
    for role in (A_SITE, SPACER):
        if per_b[role] > 0 and not mixes[role]:
            what = "A-site cation" if role == A_SITE else "spacer cation"
            raise ChemistryError(f"no {what} among {', '.join(r.name for r in reagents)} for ⟨n⟩ = {format_count(n)}")
    for role in (A_SITE, B_SITE, HALIDE, SPACER):
        for symbol in on_hand(role):
            wanted.setdefault(symbol, 0.0)  # brought by a reagent but not asked for → must be 0
    return dict(sorted(wanted.items(), key=lambda item: library.ion_order(item[0])))


def solve(targets: Targets | Mapping[str, Any], reagents: Sequence[str | Reagent],
          library: ReagentLibrary | None = None, *, fixed_mmol: Mapping[str, float] | None = None) -> Solution:
    """mmol and mg of each reagent that meet ``targets`` (PROCESS.md §4: 40 % Br, ⟨n⟩ = 3,
    0.4 M Pb, 1.5 mL → 146.80 / 92.20 / 83.14 / 12.72 / 99.64 mg of PbBr2/PbI2/CsI/MAI/PEAI).

    ``fixed_mmol`` pins reagents the user has already decided ({"CsBr": 0.1}); the rest is solved.
    """
    library = library or default_library()
    if not isinstance(targets, Targets):
        targets = Targets.from_dict(targets)
    if not reagents:
        raise ChemistryError("no reagents given to make the target from")
    on_hand = [library.get(r) if isinstance(r, str) else r for r in reagents]
    names = [r.name for r in on_hand]
    if len(set(names)) != len(names):
        raise ChemistryError(f"a reagent is listed twice among {', '.join(names)}")
    fixed = {library.get(k).name: float(v) for k, v in (fixed_mmol or {}).items()}
    for name, value in fixed.items():
        if name not in names:
            raise ChemistryError(f"{name} is fixed but not among the reagents {', '.join(names)}")
        if not (value >= 0 and math.isfinite(value)):
            raise ChemistryError(f"the fixed amount of {name} must be a non-negative number of mmol (got {value})")

    wanted = ion_targets_mmol(targets, on_hand, library)
    for symbol, value in wanted.items():
        if value > 0 and not any(symbol in r.ions for r in on_hand):
            raise ChemistryError(f"no {library.ion(symbol).name} source among {', '.join(names)}")

    ions = list(wanted)
    matrix = np.array([[r.ions.get(s, 0.0) for r in on_hand] for s in ions])
    rhs = np.array([wanted[s] for s in ions])
    free = [i for i, name in enumerate(names) if name not in fixed]
    rhs_free = rhs - sum((matrix[:, i] * fixed[names[i]] for i in range(len(names)) if names[i] in fixed),
                         np.zeros(len(ions)))
    a_free = matrix[:, free]

    if free:
        _require_unique(a_free, [names[i] for i in free])
        x_free = lsq_linear(a_free, rhs_free, bounds=(0, np.inf), method="bvls").x
    else:
        x_free = np.zeros(0)
    amounts = np.array([fixed.get(name, 0.0) for name in names])
    amounts[free] = x_free

    scale = max(float(np.max(np.abs(rhs))), 1e-300)
    residual = matrix @ amounts - rhs
    if np.max(np.abs(residual)) > RESIDUAL_TOLERANCE * scale:
        raise ChemistryError(_inconsistency_message(targets, on_hand, ions, matrix, rhs, free, fixed, library))

    amounts[np.abs(amounts) < RESIDUAL_TOLERANCE * scale] = 0.0  # solver round-off, not a 1e-17 mg weighing
    parts = [Component(r, float(x)) for r, x in zip(on_hand, amounts, strict=True)]
    warnings = [f"{c.reagent.name} is not needed for these targets (0 mg)" for c in parts if c.amount_mmol == 0]
    result = composition(parts, targets.volume_ml, library=library)
    return Solution(components=parts, targets=targets, composition=result, warnings=warnings + result.warnings)


def _require_unique(a_free: np.ndarray, free_names: list[str]) -> None:
    basis = null_space(a_free)
    if basis.shape[1] == 0:
        return
    vector = basis[:, 0]
    vector = vector / np.min(np.abs(vector[np.abs(vector) > 1e-9]))
    left = [(v, n) for v, n in zip(vector, free_names, strict=True) if v > 1e-9]
    right = [(-v, n) for v, n in zip(vector, free_names, strict=True) if v < -1e-9]

    def side(terms: list[tuple[float, str]]) -> str:
        return " + ".join(f"{format_count(v) + ' ' if abs(v - 1) > 1e-6 else ''}{n}" for v, n in terms)

    involved = [n for _, n in left + right]
    raise ChemistryError(
        f"the targets do not fix a unique recipe: {', '.join(involved)} can stand in for one another "
        f"({side(left)} gives the same ions as {side(right)}). Remove one of them from the reagents "
        "or fix its amount (fixed_mmol)")


def _consistent(matrix: np.ndarray, rhs: np.ndarray, rows: list[int], free: list[int],
                fixed_vector: np.ndarray) -> bool:
    if not rows:
        return True
    sub = matrix[rows]
    target = rhs[rows] - sub @ fixed_vector
    x = lsq_linear(sub[:, free], target, bounds=(0, np.inf), method="bvls").x if free else np.zeros(0)
    scale = max(float(np.max(np.abs(rhs))), 1e-300)
    return float(np.max(np.abs(sub[:, free] @ x - target))) <= RESIDUAL_TOLERANCE * scale


def _inconsistency_message(targets: Targets, on_hand: list[Reagent], ions: list[str], matrix: np.ndarray,
                           rhs: np.ndarray, free: list[int], fixed: Mapping[str, float],
                           library: ReagentLibrary) -> str:
    """Name the target group whose removal makes the rest reachable."""
    fixed_vector = np.array([fixed.get(r.name, 0.0) for r in on_hand])
    culprits = []
    for role, label in _GROUP_LABELS.items():
        rows = [i for i, s in enumerate(ions) if library.ion(s).role != role]
        if any(library.ion(s).role == role for s in ions) and _consistent(matrix, rhs, rows, free, fixed_vector):
            culprits.append(label)
    names = ", ".join(r.name for r in on_hand)
    asked = (f"halides {_mix_text(targets.halide_fractions)}, [B] {format_count(targets.b_molarity_m)} M, "
             f"⟨n⟩ {format_count(targets.n_layers) if math.isfinite(targets.n_layers) else '∞ (3D)'}")
    if targets.a_site:
        asked += f", A site {_mix_text(targets.a_site)}"
    if culprits:
        which = " or ".join(culprits)
        return (f"over-constrained/inconsistent targets: {names} cannot give {asked} all at once; "
                f"{which} cannot be met together with the other targets. Relax {which}, or add a reagent "
                "that supplies the missing ion")
    return (f"over-constrained/inconsistent targets: {names} cannot give {asked} all at once; "
            "add a reagent that supplies the missing ions")


def _mix_text(mix: Mapping[str, float]) -> str:
    return "/".join(f"{s} {format_count(v)}" for s, v in mix.items())
