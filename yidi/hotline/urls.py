from django.urls import path

from yidi.hotline import views

urlpatterns = [
    path("import/", views.import_list, name="hotline_import"),
    path("import/<int:run_id>/", views.run_detail, name="hotline_import_run"),
    path("import/<int:run_id>/progress/", views.run_progress, name="hotline_import_progress"),
    path("import/<int:run_id>/rejects.csv", views.rejects_download, name="hotline_import_rejects"),
]
