"""Chemicals, lots and versioned recipes. Compact ``*List`` serializers for lists; input
serializers only validate shape, the services do the domain checks (full_clean)."""

from __future__ import annotations

from rest_framework import serializers

from recipes.models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion, StepType
from recipes.services import ParamSpec, StepSpec


class ChemicalListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Chemical
        fields = ["id", "name", "abbreviation", "formula", "is_solvent"]


class ChemicalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Chemical
        fields = ["id", "name", "abbreviation", "formula", "cas", "molar_mass_g_mol", "density_g_ml",
                  "purity_wt_percent", "ions", "hazards", "is_solvent", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class ChemicalLotSerializer(serializers.ModelSerializer):
    chemical_name = serializers.CharField(source="chemical.name", read_only=True)

    class Meta:
        model = ChemicalLot
        fields = ["id", "chemical", "chemical_name", "supplier", "lot_number", "catalog_number", "received_on",
                  "opened_on", "expires_on", "location", "amount_left", "amount_unit", "is_active"]


class RecipeParameterSerializer(serializers.ModelSerializer):
    display_value = serializers.CharField(read_only=True)

    class Meta:
        model = RecipeParameter
        fields = ["id", "order", "key", "name", "role", "value_type", "nominal", "min_value", "max_value",
                  "text_value", "unit", "chemical", "stock_mg_ml", "display_value"]


class RecipeParameterUpdateSerializer(serializers.ModelSerializer):
    """In-place edit of an unfrozen version's parameter (recipes.services.recipe_parameter_update)."""

    class Meta:
        model = RecipeParameter
        fields = ["name", "role", "value_type", "nominal", "min_value", "max_value", "text_value", "unit",
                  "chemical", "stock_mg_ml"]


class RecipeStepSerializer(serializers.ModelSerializer):
    parameters = RecipeParameterSerializer(many=True, read_only=True)

    class Meta:
        model = RecipeStep
        fields = ["id", "order", "name", "action", "instructions", "parameters"]


class RecipeVersionListSerializer(serializers.ModelSerializer):
    recipe_name = serializers.CharField(source="recipe.name", read_only=True)

    class Meta:
        model = RecipeVersion
        fields = ["id", "recipe", "recipe_name", "number", "notes", "frozen_at", "created_at"]


class RecipeVersionSerializer(RecipeVersionListSerializer):
    steps = RecipeStepSerializer(many=True, read_only=True)

    class Meta(RecipeVersionListSerializer.Meta):
        fields = [*RecipeVersionListSerializer.Meta.fields, "steps"]


class RecipeListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recipe
        fields = ["id", "name", "step_type", "output_kind", "is_active"]


class RecipeSerializer(serializers.ModelSerializer):
    versions = RecipeVersionListSerializer(many=True, read_only=True)

    class Meta:
        model = Recipe
        fields = ["id", "name", "step_type", "output_kind", "description", "reference", "is_active", "created_at",
                  "versions"]


# --- input -----------------------------------------------------------------------------------

class ParamInputSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=120)
    role = serializers.ChoiceField(RecipeParameter.Role.choices, default=RecipeParameter.Role.SETTING)
    value_type = serializers.ChoiceField(RecipeParameter.ValueType.choices, default=RecipeParameter.ValueType.NUMBER)
    nominal = serializers.FloatField(required=False, allow_null=True, default=None)
    min_value = serializers.FloatField(required=False, allow_null=True, default=None)
    max_value = serializers.FloatField(required=False, allow_null=True, default=None)
    text_value = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=12)
    chemical = serializers.PrimaryKeyRelatedField(queryset=Chemical.objects.all(), required=False, allow_null=True,
                                                  default=None)
    stock_mg_ml = serializers.FloatField(required=False, allow_null=True, default=None)


class StepInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    action = serializers.ChoiceField(RecipeStep.Action.choices, default=RecipeStep.Action.OTHER)
    instructions = serializers.CharField(required=False, allow_blank=True, default="")
    parameters = ParamInputSerializer(many=True, required=False, default=list)


def steps_to_specs(steps: list[dict]) -> list[StepSpec]:
    return [StepSpec(name=s["name"], action=s["action"], instructions=s["instructions"],
                     params=[ParamSpec(**p) for p in s["parameters"]]) for s in steps]


class RecipeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    step_type = serializers.ChoiceField(StepType.choices)
    output_kind = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    steps = StepInputSerializer(many=True, allow_empty=False)

    def validate_name(self, value: str) -> str:
        if Recipe.objects.filter(name=value).exists():
            raise serializers.ValidationError("A recipe with this name exists; revise it to make a new version.")
        return value


REVISABLE_FIELDS = {"name", "nominal", "min_value", "max_value", "text_value", "unit", "role", "value_type",
                    "stock_mg_ml"}


class RecipeReviseSerializer(serializers.Serializer):
    """Either ``changes`` ({"<step order>.<param key>": {"nominal": 160}}) or ``steps`` (full content),
    and ``notes``: what changed and why — required, as on the web page (a version without a reason is
    a record nobody can read a year later)."""

    notes = serializers.CharField(allow_blank=False, trim_whitespace=True,
                                  help_text="What changed and why (shown in the recipe's version list).")
    changes = serializers.DictField(child=serializers.DictField(), required=False)
    steps = StepInputSerializer(many=True, required=False)

    def validate_changes(self, value: dict) -> dict:
        for path, fields in value.items():
            unknown = set(fields) - REVISABLE_FIELDS
            if unknown:
                raise serializers.ValidationError(
                    f"{path}: cannot change {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(REVISABLE_FIELDS))}")
        return value

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("changes") and not attrs.get("steps"):
            raise serializers.ValidationError("Give changes or steps.")
        return attrs
