"""recipes' API, relative to the API root (config.api_urls includes it under /api/v1/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from .stoichiometry import CompositionView, SolveView
from .views import ChemicalLotViewSet, ChemicalViewSet, RecipeParameterViewSet, RecipeVersionViewSet, RecipeViewSet

router = DefaultRouter()
router.include_root_view = False  # the schema and docs describe the API; no unauthenticated index
router.register("chemicals", ChemicalViewSet, basename="chemical")
router.register("lots", ChemicalLotViewSet, basename="chemicallot")
router.register("recipes", RecipeViewSet, basename="recipe")
router.register("recipe-versions", RecipeVersionViewSet, basename="recipeversion")
router.register("recipe-parameters", RecipeParameterViewSet, basename="recipeparameter")

urlpatterns = [
    path("stoichiometry/", CompositionView.as_view(), name="stoichiometry-composition"),
    path("stoichiometry/solve/", SolveView.as_view(), name="stoichiometry-solve"),
    *router.urls,
]
