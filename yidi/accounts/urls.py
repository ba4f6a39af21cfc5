from django.urls import path

from yidi.accounts import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("password/", views.password_change, name="password_change"),
    path("security/", views.account_security, name="account_security"),
    path("confirm/", views.confirm_identity, name="reauth"),
]
