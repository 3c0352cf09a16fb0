"""The accounts app's API, under /api/: API tokens, the password and the signed-in user."""

from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", api.RevokeTokenView.as_view(), name="api-logout"),
    path("auth/password/", api.ChangePasswordView.as_view(), name="api-password-change"),
    path("me/", api.MeView.as_view(), name="api-me"),
]
