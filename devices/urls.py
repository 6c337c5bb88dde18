from django.urls import path

from devices import views

app_name = "devices"
urlpatterns = [
    path("", views.device_list, name="list"),
    path("add/", views.device_add, name="add"),
    path("<int:pk>/", views.device_detail, name="detail"),
    path("<int:pk>/edit/", views.device_edit, name="edit"),
    path("<int:pk>/sync/", views.device_sync, name="sync"),
    path("<int:pk>/permissions/", views.device_permissions, name="permissions"),
    path("<int:pk>/sample-alerts/", views.sample_alerts_status, name="sample_alerts"),
    path("<int:pk>/sample-alerts/send/", views.sample_alerts_send, name="sample_alerts_send"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
