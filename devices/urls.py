from django.urls import path

from devices import views

app_name = "devices"
urlpatterns = [
    path("", views.device_list, name="list"),
    path("notifications/", views.notification_list, name="notifications"),
]
