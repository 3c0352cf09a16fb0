from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="training"),
    path("<int:pk>/", views.session_detail, name="training_session"),
    path("library/", views.library, name="training_library"),
    path("coverage/<int:unit_id>/", views.coverage, name="training_coverage"),
    path("people/<int:user_id>/", views.person_record, name="training_record"),
]
