from django.urls import path

from yidi.supervision import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/new/", views.alert_new, name="alert_new"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/<slug:step>/", views.alert_step, name="alert_step"),
    path("command/tasks/", views.command_tasks, name="command_tasks"),
    path("command/tasks/<int:task_id>/complete/", views.command_task_complete, name="command_task_complete"),
    path("command/<int:alert_id>/", views.command_view, name="command_view"),
    path("command/<int:alert_id>/tasks/", views.command_task_assign, name="command_task_assign"),
    path("command/<int:alert_id>/instructions/", views.command_instruction, name="command_instruction"),
]
