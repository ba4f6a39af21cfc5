from django.urls import path

from yidi.workflow import views

urlpatterns = [
    path("urgings/", views.urging_list, name="urging_list"),
    path("overdue/", views.overdue, name="overdue"),
]
