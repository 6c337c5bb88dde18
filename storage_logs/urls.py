from django.urls import path

from storage_logs import cost_views, evidence_views, views

app_name = "storage_logs"
urlpatterns = [
    path("cost/", cost_views.cost_overview, name="cost"),
    path("cost/export.csv", cost_views.cost_overview_export, name="cost_export"),
    path("cost/devices/<int:pk>/", cost_views.device_cost, name="device_cost"),
    path("cost/devices/<int:pk>/export.csv", cost_views.device_cost_export, name="device_cost_export"),
    path("cost/accounts/<int:pk>/", cost_views.account_cost, name="account_cost"),
    path("cost/accounts/<int:pk>/export.csv", cost_views.account_cost_export, name="account_cost_export"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("aggregates/<int:pk>/lines/", evidence_views.aggregate_lines, name="aggregate_lines"),
    path(
        "aggregates/<int:pk>/lines.log",
        evidence_views.aggregate_lines_download,
        name="aggregate_lines_download",
    ),
    path("aggregates/<int:pk>/proof/", evidence_views.aggregate_proof, name="aggregate_proof"),
    path("aggregates/<int:pk>/prove/", evidence_views.prove_aggregate, name="prove_aggregate"),
    path("alerts/<int:pk>/lines/", evidence_views.alert_lines, name="alert_lines"),
    path("alerts/<int:pk>/lines.log", evidence_views.alert_lines_download, name="alert_lines_download"),
]
