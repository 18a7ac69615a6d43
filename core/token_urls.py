from django.urls import path

from core import token_views

urlpatterns = [
    path("", token_views.token_list, name="api-tokens"),
    path("<int:pk>/revoke/", token_views.token_revoke_view, name="api-token-revoke"),
]
