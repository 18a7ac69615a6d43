from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from .models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion


class NoDeleteMixin:
    """Lab records are never hard-deleted through the UI (CONVENTIONS: SampleDB)."""

    def has_delete_permission(self, request, obj=None):
        return False


class LotInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = ChemicalLot
    extra = 0
    fields = ("supplier", "lot_number", "received_on", "expires_on", "location", "amount_left", "amount_unit", "is_active")


@admin.register(Chemical)
class ChemicalAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("name", "abbreviation", "formula", "molar_mass_g_mol", "cas", "density_g_ml", "purity_wt_percent", "is_solvent")
    search_fields = ("name", "abbreviation", "formula", "cas")
    list_filter = ("is_solvent",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [LotInline]


@admin.register(ChemicalLot)
class ChemicalLotAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("chemical", "supplier", "lot_number", "received_on", "expires_on", "location", "amount_left", "amount_unit", "is_active")
    search_fields = ("lot_number", "chemical__name", "chemical__abbreviation", "supplier", "location")
    list_filter = ("is_active", "supplier", "chemical", "expires_on")
    date_hierarchy = "received_on"
    autocomplete_fields = ("chemical",)


class VersionInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = RecipeVersion
    extra = 0
    fields = ("number", "notes", "created_by", "frozen_at")
    readonly_fields = ("frozen_at",)
    show_change_link = True


@admin.register(Recipe)
class RecipeAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("name", "step_type", "output_kind", "is_active", "created_at")
    list_filter = ("step_type", "is_active")
    search_fields = ("name", "description", "reference")
    inlines = [VersionInline]


class StepInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = RecipeStep
    extra = 0
    fields = ("order", "name", "action", "instructions")
    show_change_link = True


class FrozenGuard:
    """Editing a frozen version is refused with a message; the user is pointed at 'new version'."""

    frozen_message = "This version is frozen: a run used it. Create a new version instead (Recipes → New version)."

    def _version_of(self, obj):
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        if obj is not None and self._version_of(obj).is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if self._version_of(obj).is_frozen:
            raise ValidationError(self.frozen_message)
        super().save_model(request, obj, form, change)


@admin.register(RecipeVersion)
class RecipeVersionAdmin(NoDeleteMixin, FrozenGuard, SimpleHistoryAdmin):
    list_display = ("recipe", "number", "created_by", "created_at", "frozen_at")
    list_filter = ("recipe__step_type", "recipe")
    search_fields = ("recipe__name", "notes")
    readonly_fields = ("frozen_at",)
    inlines = [StepInline]

    def _version_of(self, obj):
        return obj


class ParameterInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = RecipeParameter
    extra = 0
    fields = ("order", "key", "name", "role", "value_type", "nominal", "min_value", "max_value", "unit", "text_value", "chemical", "stock_mg_ml")
    autocomplete_fields = ("chemical",)


@admin.register(RecipeStep)
class RecipeStepAdmin(NoDeleteMixin, FrozenGuard, SimpleHistoryAdmin):
    list_display = ("version", "order", "name", "action")
    list_filter = ("action", "version__recipe__step_type")
    search_fields = ("name", "version__recipe__name")
    inlines = [ParameterInline]

    def _version_of(self, obj):
        return obj.version


@admin.register(RecipeParameter)
class RecipeParameterAdmin(NoDeleteMixin, FrozenGuard, SimpleHistoryAdmin):
    list_display = ("name", "step", "role", "nominal", "min_value", "max_value", "unit", "chemical")
    list_filter = ("role", "unit", "step__version__recipe__step_type")
    search_fields = ("name", "key", "step__version__recipe__name", "chemical__name", "chemical__abbreviation")
    autocomplete_fields = ("chemical",)

    def _version_of(self, obj):
        return obj.step.version
