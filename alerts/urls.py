from django.urls import path

from alerts import activity, bulk, export, groups, views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("export.csv", export.export_csv, name="export"),
    path("bulk/", bulk.bulk_triage, name="bulk"),
    path("groups/", groups.alert_groups, name="groups"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/triage/", views.triage, name="triage"),
    path("<int:pk>/comments/", views.add_comment, name="comment"),
    path("<int:pk>/portal/", views.open_in_portal, name="portal"),
    path("<int:pk>/activity/", activity.alert_activity, name="activity"),
    path("pivots/", views.pivot_metrics, name="pivots"),
    path("polls/", views.poll_runs, name="polls"),
]
