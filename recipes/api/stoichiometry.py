"""REST endpoints of the stoichiometry engine: what is in a solution, and what to weigh.

    POST /api/v1/stoichiometry/        components + solvent_ml → composition
    POST /api/v1/stoichiometry/solve/  targets + reagents       → mg and mmol per reagent

Views stay thin: validate the shape with a serializer, call the engine with the lab's reagent
library, return its ``to_dict()``. Every failure is a 400 in one envelope,
``{"error": {"code": "chemistry" | "invalid", "message": <for the chemist>, "fields": {...}}}``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..chemistry import ChemistryError, components_from_dicts, composition, normalize_unit, solve
from ..stoichiometry import library_from_db

# --- request serializers -------------------------------------------------------------------------

AMOUNT_FIELDS = ("mg", "g", "mmol", "mol", "umol", "ul", "ml")


class ComponentSerializer(serializers.Serializer):
    """One reagent and exactly one amount: ``{"reagent": "CsI", "mg": 83.14}``, ``{"reagent": "HI",
    "ul": 300}``, a stock dose ``{"reagent": "IPAI", "stock_mg_ml": 250, "ml": 0.1}``, or
    ``{"reagent": "PbI2", "amount": 92.2, "unit": "mg"}``. Unit keys may be spelled µL/uL/mL."""

    reagent = serializers.CharField(max_length=120, help_text="Name, abbreviation or formula: PbBr2, MAI, PEAI…")
    mg = serializers.FloatField(required=False, min_value=0)
    g = serializers.FloatField(required=False, min_value=0)
    mmol = serializers.FloatField(required=False, min_value=0)
    mol = serializers.FloatField(required=False, min_value=0)
    umol = serializers.FloatField(required=False, min_value=0, help_text="µmol")
    ul = serializers.FloatField(required=False, min_value=0, help_text="µL of a liquid (needs its density)")
    ml = serializers.FloatField(required=False, min_value=0, help_text="mL of a liquid, or of a stock with stock_mg_ml")
    stock_mg_ml = serializers.FloatField(required=False, min_value=0, help_text="Stock concentration, with ml or ul")
    amount = serializers.FloatField(required=False, min_value=0, help_text="With unit, instead of a unit key")
    unit = serializers.CharField(required=False, max_length=16)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # DRF drops keys it does not know; a unit typo ("kg", "mgs") would then turn into a
        # misleading "no amount". Normalise unit spellings and refuse anything else, by name.
        if isinstance(data, dict):
            cleaned = {}
            for key, value in data.items():
                if key in self.fields:
                    cleaned[key] = value
                    continue
                try:
                    cleaned[normalize_unit(key)] = value
                except ChemistryError:
                    raise serializers.ValidationError(
                        {key: f"unknown unit {key!r}; use one of {', '.join(AMOUNT_FIELDS)} "
                              "(µL/uL/mL spellings work), or stock_mg_ml with ml or ul"}) from None
            data = cleaned
        return super().to_internal_value(data)


class CompositionRequestSerializer(serializers.Serializer):
    components = ComponentSerializer(many=True, allow_empty=False)
    solvent_ml = serializers.FloatField(min_value=0, help_text="Solvent volume in mL (solute volume neglected)")


@extend_schema_field({"oneOf": [{"type": "string", "example": "PEA"},
                                {"type": "object", "additionalProperties": {"type": "number"},
                                 "example": {"Cs": 0.8, "MA": 0.2}}]})
class MixField(serializers.Field):
    """A site mix: ``{"Cs": 0.8, "MA": 0.2}``, or one ion ``"PEA"`` meaning ``{"PEA": 1}``."""

    default_error_messages = {"invalid": 'give one ion ("PEA") or fractions ({"Cs": 0.8, "MA": 0.2})'}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and data.strip():
            return {data.strip(): 1.0}
        if isinstance(data, dict) and data:
            try:
                return {str(k): float(v) for k, v in data.items()}
            except (TypeError, ValueError):
                self.fail("invalid")
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


class TargetsSerializer(serializers.Serializer):
    halide_fractions = MixField(help_text='{"Br": 0.4, "I": 0.6}')
    n = serializers.FloatField(required=False, allow_null=True, min_value=1,
                               help_text="Quasi-2D ⟨n⟩ of L2 A(n−1) Bn X(3n+1); omit (and spacer_ratio) for 3D")
    spacer_ratio = serializers.FloatField(required=False, allow_null=True, help_text="spacer/B = 2/n, instead of n")
    b_molarity = serializers.FloatField(help_text="All B-site metals, mol/L")
    a_site = MixField(required=False, allow_null=True)
    spacer = MixField(required=False, allow_null=True)
    b_site = MixField(required=False, allow_null=True)
    volume_ml = serializers.FloatField(help_text="Volume to make, mL")


class SolveRequestSerializer(serializers.Serializer):
    targets = TargetsSerializer()
    reagents = serializers.ListField(child=serializers.CharField(max_length=120), allow_empty=False,
                                     help_text="Reagents on hand: PbBr2, PbI2, CsI, MAI, PEAI")
    fixed_mmol = serializers.DictField(child=serializers.FloatField(min_value=0), required=False,
                                       help_text="Amounts already decided, mmol: {\"CsBr\": 0.1}")


# --- response serializers (documentation: the views return the engine's to_dict()) -------------

class ComponentResultSerializer(serializers.Serializer):
    reagent = serializers.CharField()
    mmol = serializers.FloatField()
    mg = serializers.FloatField(help_text="Mass to weigh (of the solution, for a liquid below 100 wt %)")
    molar_mass_g_mol = serializers.FloatField()
    ul = serializers.FloatField(required=False, allow_null=True, help_text="Volume to pipette (liquids only)")
    given_as = serializers.CharField(required=False)


class CompositionResultSerializer(serializers.Serializer):
    components = ComponentResultSerializer(many=True)
    solvent_ml = serializers.FloatField()
    ion_mmol = serializers.DictField(child=serializers.FloatField())
    ion_molarities_M = serializers.DictField(child=serializers.FloatField(), help_text="mol/L per ion")
    b_molarity_M = serializers.FloatField()
    halide_fractions = serializers.DictField(child=serializers.FloatField())
    a_site_fractions = serializers.DictField(child=serializers.FloatField())
    b_site_fractions = serializers.DictField(child=serializers.FloatField())
    spacer_fractions = serializers.DictField(child=serializers.FloatField())
    ratios = serializers.DictField(child=serializers.FloatField(), help_text='"X/B", "A/B", "spacer/B"')
    n = serializers.FloatField(allow_null=True, help_text="⟨n⟩ = 2·B/spacer; null for 3D or without a B-site metal")
    formula = serializers.CharField(help_text="PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10")
    charge_excess_mmol = serializers.FloatField()
    warnings = serializers.ListField(child=serializers.CharField())


class SolutionResultSerializer(serializers.Serializer):
    components = ComponentResultSerializer(many=True)
    volume_ml = serializers.FloatField()
    composition = CompositionResultSerializer(help_text="The forward check: what the masses give")
    warnings = serializers.ListField(child=serializers.CharField())


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["chemistry", "invalid"])
    message = serializers.CharField()
    fields = serializers.DictField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# --- views ----------------------------------------------------------------------------------------

def error_response(code: str, message: str, fields: dict[str, Any] | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}},
                    status=status.HTTP_400_BAD_REQUEST)


def _first_message(errors: Any, path: str = "") -> str:
    """The first validation message with where it is: "components[2].mg: A valid number is required."."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):  # a list item (DRF keys list errors by index): 1-based, as chemists count
                where = f"{path}[{key + 1}]"
            elif key == "non_field_errors":
                where = path
            else:
                where = f"{path}.{key}" if path else key
            return _first_message(value, where)
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, (dict, list)) and value:
                return _first_message(value, f"{path}[{index + 1}]")
            if value:
                return f"{path}: {value}" if path else str(value)
    return f"{path}: {errors}" if path else str(errors)


def _invalid(serializer: serializers.Serializer) -> Response:
    return error_response("invalid", _first_message(serializer.errors), serializer.errors)


ERRORS = {400: ErrorSerializer}


class CompositionView(APIView):
    """What is in a solution made from these components."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="stoichiometry_composition",
        summary="What is in it: ion molarities, halide fractions, ratios, ⟨n⟩ and formula",
        request=CompositionRequestSerializer,
        responses={200: CompositionResultSerializer, **ERRORS},
        examples=[OpenApiExample("Quasi-2D matrix precursor (PROCESS.md §4)", request_only=True, value={
            "components": [{"reagent": "PbBr2", "mmol": 0.4}, {"reagent": "PbI2", "mg": 92.20},
                           {"reagent": "CsI", "mg": 83.14}, {"reagent": "MAI", "mg": 12.72},
                           {"reagent": "PEAI", "mg": 99.64}],
            "solvent_ml": 1.5})],
        tags=["stoichiometry"],
    )
    def post(self, request: Request) -> Response:
        serializer = CompositionRequestSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        data = serializer.validated_data
        try:
            library = library_from_db()
            parts = components_from_dicts(data["components"], library)
            result = composition(parts, data["solvent_ml"], library=library)
        except ChemistryError as exc:
            return error_response("chemistry", str(exc))
        return Response(result.to_dict())


class SolveView(APIView):
    """What to weigh, from the reagents on hand, for a target composition."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="stoichiometry_solve",
        summary="What to weigh: mg and mmol of each reagent for target halide fractions, ⟨n⟩, [B] and volume",
        request=SolveRequestSerializer,
        responses={200: SolutionResultSerializer, **ERRORS},
        examples=[OpenApiExample("40 % Br, ⟨n⟩ = 3, 0.4 M Pb in 1.5 mL (PROCESS.md §4)", request_only=True, value={
            "targets": {"halide_fractions": {"Br": 0.4, "I": 0.6}, "n": 3, "b_molarity": 0.4,
                        "a_site": {"Cs": 0.8, "MA": 0.2}, "spacer": "PEA", "volume_ml": 1.5},
            "reagents": ["PbBr2", "PbI2", "CsI", "MAI", "PEAI"]})],
        tags=["stoichiometry"],
    )
    def post(self, request: Request) -> Response:
        serializer = SolveRequestSerializer(data=request.data)
        if not serializer.is_valid():
            return _invalid(serializer)
        data = serializer.validated_data
        # Only the targets the client sent: the engine tells "n" from "spacer_ratio" by presence.
        targets = {key: value for key, value in data["targets"].items() if value is not None}
        try:
            plan = solve(targets, data["reagents"], library_from_db(), fixed_mmol=data.get("fixed_mmol"))
        except ChemistryError as exc:
            return error_response("chemistry", str(exc))
        return Response(plan.to_dict())
