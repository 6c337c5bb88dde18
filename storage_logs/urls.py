from django.urls import path

from storage_logs import cost_views, views

app_name = "storage_logs"
urlpatterns = [
    path("cost/", cost_views.cost_overview, name="cost"),
    path("cost/export.csv", cost_views.cost_overview_export, name="cost_export"),
    path("cost/devices/<int:pk>/", cost_views.device_cost, name="device_cost"),
    path("cost/devices/<int:pk>/export.csv", cost_views.device_cost_export, name="device_cost_export"),
    path("cost/accounts/<int:pk>/", cost_views.account_cost, name="account_cost"),
    path("cost/accounts/<int:pk>/export.csv", cost_views.account_cost_export, name="account_cost_export"),
    path("accounts/<int:pk>/", views.account, name="account"),
]
