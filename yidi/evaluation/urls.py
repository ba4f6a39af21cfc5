from django.urls import path

from yidi.evaluation import views

urlpatterns = [
    path("return-visits/", views.return_visit_list, name="return_visit_list"),
    path("return-visits/<int:visit_id>/", views.return_visit_record, name="return_visit_record"),
    path("return-visits/<int:visit_id>/risk/", views.return_visit_acknowledge_risk,
         name="return_visit_acknowledge_risk"),
    path("risks/", views.return_visit_risks, name="return_visit_risks"),
    path("dissatisfied/", views.dissatisfied_list, name="evaluation_dissatisfied"),
]
