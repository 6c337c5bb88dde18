from django.apps import AppConfig
from django.db.models.signals import pre_delete


class StorageLogsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "storage_logs"

    def ready(self):
        pre_delete.connect(wait_for_ingestion, sender="devices.StorageAccount", dispatch_uid="storage_logs")


def wait_for_ingestion(sender, instance, **kwargs):
    """Deleting an account first takes the lock its batches are stored under (store.lock), in the deleting
    transaction: a batch being stored finishes first, and its rows are deleted with the others (aggregates
    keep no database constraint to their account, see LogAggregate.account)."""
    from storage_logs.models import AccountIngest

    list(AccountIngest.objects.select_for_update().filter(account_id=instance.pk))
