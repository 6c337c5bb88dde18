from django.apps import AppConfig


class StorageLogsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "storage_logs"
