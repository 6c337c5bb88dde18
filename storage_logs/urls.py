from django.urls import path

from storage_logs import views

app_name = "storage_logs"
urlpatterns = [
    path("cost/", views.cost, name="cost"),
    path("accounts/<int:pk>/", views.account, name="account"),
]
