from __future__ import annotations

from rest_framework import serializers

from core.api.fields import RestrictedPrimaryKeyRelatedField, RestrictedSlugRelatedField
from recipes.models import ChemicalLot, RecipeVersion
from samples.models import MAX_RUN_OUTPUTS, ProcessRun, Project, RunValue, Sample, SampleKind, SampleParent, SampleStatus


class SampleListSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Sample
        fields = ["id", "label", "kind", "name", "project", "status", "created_at"]


class ParentLinkSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="parent.label", read_only=True)
    kind = serializers.CharField(source="parent.kind", read_only=True)

    class Meta:
        model = SampleParent
        fields = ["label", "kind", "role"]


class SampleSerializer(SampleListSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    produced_by = serializers.SlugRelatedField(slug_field="label", read_only=True)
    parents = ParentLinkSerializer(source="parent_links", many=True, read_only=True)

    class Meta(SampleListSerializer.Meta):
        fields = [*SampleListSerializer.Meta.fields, "owner", "produced_by", "parents", "location", "amount",
                  "amount_unit", "notes", "updated_at"]


class SampleCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(SampleKind.choices)
    project = RestrictedSlugRelatedField(slug_field="code", queryset=Project.objects.all())
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    status = serializers.ChoiceField(SampleStatus.choices, default=SampleStatus.ACTIVE)
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.FloatField(required=False, allow_null=True, default=None)
    amount_unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=12)
    produced_by = RestrictedSlugRelatedField(slug_field="label", queryset=ProcessRun.objects.all(), required=False,
                                             allow_null=True, default=None)
    parents = RestrictedSlugRelatedField(slug_field="label", queryset=Sample.objects.all(), many=True, required=False,
                                         default=list)


class SampleParentAddSerializer(serializers.Serializer):
    parent = RestrictedSlugRelatedField(slug_field="label", queryset=Sample.objects.all())
    role = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class RunValueSerializer(serializers.ModelSerializer):
    step = serializers.IntegerField(source="parameter.step.order", read_only=True)
    key = serializers.CharField(source="parameter.key", read_only=True)
    name = serializers.CharField(source="parameter.name", read_only=True)

    class Meta:
        model = RunValue
        fields = ["id", "step", "key", "name", "planned_nominal", "planned_min", "planned_max", "planned_text", "unit",
                  "actual_value", "actual_unit", "actual_text", "is_deviation", "note"]


class RunListSerializer(serializers.ModelSerializer):
    recipe = serializers.CharField(source="recipe_version.recipe.name", read_only=True)
    version = serializers.IntegerField(source="recipe_version.number", read_only=True)
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    operator = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProcessRun
        fields = ["id", "label", "recipe_version", "recipe", "version", "project", "status", "operator",
                  "planned_date", "created_at"]


class RunSerializer(RunListSerializer):
    values = RunValueSerializer(many=True, read_only=True)
    inputs = serializers.SlugRelatedField(slug_field="label", many=True, read_only=True)
    outputs = serializers.SlugRelatedField(slug_field="label", many=True, read_only=True)
    deviation_count = serializers.IntegerField(read_only=True)

    class Meta(RunListSerializer.Meta):
        fields = [*RunListSerializer.Meta.fields, "started_at", "finished_at", "glovebox_o2_ppm", "glovebox_h2o_ppm",
                  "temperature_c", "humidity_percent", "batch_volume_ml", "lots", "inputs", "outputs", "notes",
                  "planned_outputs", "planned_output_kind", "planned_output_names", "planned_output_location",
                  "deviation_count", "values"]


class RunCreateSerializer(serializers.Serializer):
    recipe_version = serializers.PrimaryKeyRelatedField(queryset=RecipeVersion.objects.all())
    project = RestrictedSlugRelatedField(slug_field="code", queryset=Project.objects.all())
    planned_date = serializers.DateField(required=False, allow_null=True, default=None)
    batch_volume_ml = serializers.FloatField(required=False, allow_null=True, default=None)
    inputs = RestrictedSlugRelatedField(slug_field="label", queryset=Sample.objects.all(), many=True, required=False,
                                        default=list)
    lots = RestrictedPrimaryKeyRelatedField(queryset=ChemicalLot.objects.all(), many=True, required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    outputs = serializers.IntegerField(min_value=1, max_value=MAX_RUN_OUTPUTS, default=1,
                                       help_text="How many samples completing the run will create")
    output_kind = serializers.ChoiceField(SampleKind.choices, required=False, allow_blank=True, default="",
                                          help_text="Blank: the recipe's output kind")
    output_names = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list)
    output_location = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)


class ActualValueSerializer(serializers.Serializer):
    """One actual value, by RunValue id or by "<step order>.<param key>" (as on the traveller)."""

    id = serializers.IntegerField(required=False)
    parameter = serializers.CharField(required=False, help_text='"<step order>.<param key>", e.g. "4.volume"')
    actual_value = serializers.FloatField(allow_null=True, required=False, default=None)
    actual_unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=12)
    actual_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)

    def validate(self, attrs):
        if ("id" in attrs) == ("parameter" in attrs):
            raise serializers.ValidationError("Give either id or parameter.")
        return attrs


class RunActualsSerializer(serializers.Serializer):
    values = ActualValueSerializer(many=True, allow_empty=False)


class RunCompleteSerializer(serializers.Serializer):
    """Every field defaults to what the run planned (planned_outputs, …)."""

    outputs = serializers.IntegerField(min_value=1, max_value=MAX_RUN_OUTPUTS, required=False, allow_null=True,
                                       default=None)
    output_kind = serializers.ChoiceField(SampleKind.choices, required=False, allow_null=True, default=None)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                 help_text="One name for every output")
    names = serializers.ListField(child=serializers.CharField(max_length=200), required=False, allow_null=True,
                                  default=None, help_text="One name per output")
    location = serializers.CharField(required=False, allow_null=True, default=None, max_length=120)
