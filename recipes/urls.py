from django.urls import path

from recipes import views

urlpatterns = [
    path("", views.recipe_list, name="recipe-list"),
    path("<int:pk>/", views.recipe_detail, name="recipe-detail"),
    path("versions/<int:version_id>/revise/", views.recipe_revise, name="recipe-revise"),
    path("chemicals/", views.chemical_list, name="chemical-list"),
    path("chemicals/<int:pk>/", views.chemical_detail, name="chemical-detail"),
]
