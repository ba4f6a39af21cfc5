from django.urls import path

from yidi.campaigns import views

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_new, name="campaign_new"),
    path("<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:campaign_id>/activate/", views.campaign_activate, name="campaign_activate"),
    path("<int:campaign_id>/end/", views.campaign_end, name="campaign_end"),
    path("<int:campaign_id>/link/", views.campaign_link, name="campaign_link"),
    path("<int:campaign_id>/unlink/", views.campaign_unlink, name="campaign_unlink"),
    path("<int:campaign_id>/matters.csv", views.campaign_export_csv, name="campaign_export_csv"),
    path("<int:campaign_id>/matters.xlsx", views.campaign_export_xlsx, name="campaign_export_xlsx"),
]
