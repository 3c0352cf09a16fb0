from django.urls import path

from .views import deadline_list

app_name = "deadlines"

urlpatterns = [path("", deadline_list, name="list")]
