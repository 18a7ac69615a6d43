from django.urls import path

from . import views

urlpatterns = [
    path("", views.file_list, name="measurement-list"),
    path("upload/", views.upload, name="measurement-upload"),
    path("upload/pixels/", views.upload_pixels, name="measurement-upload-pixels"),
    path("status/", views.status, name="measurement-status"),
    path("compare/", views.compare, name="compare"),
    path("<int:pk>/", views.detail, name="measurement-detail"),
    path("<int:pk>/download/", views.download, name="measurement-download"),
    path("<int:pk>/reanalyze/", views.reanalyze, name="measurement-reanalyze"),
    path("<int:pk>/image.png", views.image_preview, name="measurement-image"),
    path("analyses/<int:pk>/figures/<slug:name>.<str:fmt>", views.figure, name="analysis-figure"),
]
