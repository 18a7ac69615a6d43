from django.urls import path

from samples import views

urlpatterns = [
    path("", views.sample_list, name="sample-list"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/", views.project_edit, name="project-create"),
    path("projects/<slug:code>/edit/", views.project_edit, name="project-edit"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/input-samples/", views.run_input_search, name="run-input-search"),
    path("runs/plan/<int:version_id>/", views.run_plan, name="run-plan"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/log/", views.run_log, name="run-log"),
    path("runs/<int:pk>/complete/", views.run_complete, name="run-complete"),
    path("<str:label>/", views.sample_detail, name="sample-detail"),
    path("<str:label>/edit/", views.sample_edit, name="sample-edit"),
]
