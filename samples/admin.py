from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from recipes.admin import NoDeleteMixin

from .models import LotUsage, ProcessRun, Project, RunValue, Sample, SampleParent


@admin.register(Project)
class ProjectAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")
    filter_horizontal = ("members",)


class RunValueInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = RunValue
    extra = 0
    fields = ("parameter", "planned_nominal", "planned_min", "planned_max", "unit", "actual_value", "actual_unit", "actual_text", "is_deviation", "note")
    readonly_fields = ("parameter", "planned_nominal", "planned_min", "planned_max", "unit", "is_deviation")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProcessRun)
class ProcessRunAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("label", "recipe_version", "project", "operator", "status", "planned_date", "started_at")
    list_filter = ("status", "project", "recipe_version__recipe__step_type", "recipe_version__recipe", "operator")
    search_fields = ("label", "recipe_version__recipe__name", "notes", "operator__username")
    date_hierarchy = "created_at"
    filter_horizontal = ("lots", "inputs")
    readonly_fields = ("label",)
    inlines = [RunValueInline]

    def save_formset(self, request, form, formset, change):
        # Deviations are computed, never typed: recompute for every edited actual value.
        from .services import run_value_set_actual

        for value in formset.save(commit=False):
            run_value_set_actual(value, value.actual_value, value.actual_unit, value.actual_text, note=value.note)
        formset.save_m2m()


class ParentInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = SampleParent
    fk_name = "child"
    extra = 0
    autocomplete_fields = ("parent",)
    verbose_name = "parent"


@admin.register(Sample)
class SampleAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("label", "kind", "name", "project", "status", "owner", "location", "created_at")
    list_filter = ("kind", "status", "project", "owner", "produced_by__recipe_version__recipe")
    search_fields = ("label", "name", "notes", "location")
    date_hierarchy = "created_at"
    readonly_fields = ("label",)
    autocomplete_fields = ("produced_by",)
    inlines = [ParentInline]

    def save_model(self, request, obj, form, change):
        if not obj.label:
            from .services import sample_label_for

            obj.label = sample_label_for(obj.kind)
        super().save_model(request, obj, form, change)


@admin.register(SampleParent)
class SampleParentAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("child", "parent", "role")
    search_fields = ("child__label", "parent__label", "role")
    autocomplete_fields = ("child", "parent")


@admin.register(RunValue)
class RunValueAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    """Every logged value across runs; filter on deviations to see what went off-plan."""

    list_display = ("run", "parameter", "planned_nominal", "planned_min", "planned_max", "unit", "actual_value", "actual_unit", "is_deviation")
    list_filter = ("is_deviation", "run__recipe_version__recipe", "unit")
    search_fields = ("run__label", "parameter__name", "parameter__key", "note")
    readonly_fields = ("run", "parameter", "planned_nominal", "planned_min", "planned_max", "planned_text", "unit", "is_deviation")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        from .services import run_value_set_actual

        run_value_set_actual(obj, obj.actual_value, obj.actual_unit, obj.actual_text, note=obj.note)


@admin.register(LotUsage)
class LotUsageAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Written by run_complete; read here (what a run took from a lot, and why not)."""

    list_display = ("run", "lot", "amount", "unit", "remaining_after", "note", "created_at")
    list_select_related = ("run", "lot__chemical")
    readonly_fields = ("run", "lot", "amount", "unit", "remaining_after", "note", "created_at")
    search_fields = ("run__label", "lot__lot_number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
