from django.urls import path

from . import views

urlpatterns = [
    path("township/", views.township_list, name="township_complaints"),
    path("township/<int:pk>/", views.township_detail, name="township_complaint"),
]
