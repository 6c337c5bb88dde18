from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ascmon import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", views.login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("alerts/", include("alerts.urls")),
    path("devices/", include("devices.urls")),
    path("storage/", include("storage_logs.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "ascmon.views.permission_denied"
