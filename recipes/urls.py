from django.urls import path

from recipes import views

urlpatterns = [
    path("", views.recipe_list, name="recipe-list"),
    path("new/", views.recipe_create, name="recipe-create"),
    path("<int:pk>/", views.recipe_detail, name="recipe-detail"),
    path("versions/<int:version_id>/revise/", views.recipe_revise, name="recipe-revise"),
    path("versions/<int:version_id>/edit/", views.recipe_version_edit, name="recipe-version-edit"),
    path("chemicals/", views.chemical_list, name="chemical-list"),
    path("chemicals/new/", views.chemical_edit, name="chemical-create"),
    path("chemicals/<int:pk>/", views.chemical_detail, name="chemical-detail"),
    path("chemicals/<int:pk>/edit/", views.chemical_edit, name="chemical-edit"),
    path("chemicals/<int:chemical_id>/lots/new/", views.lot_create, name="lot-create"),
    path("lots/<int:pk>/edit/", views.lot_edit, name="lot-edit"),
]
