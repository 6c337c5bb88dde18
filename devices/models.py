from django.db import models

from ascmon import crypto


class Device(models.Model):
    """An onboarded Azure tenant: the app registration ascmon uses and the subscriptions to watch."""

    name = models.CharField(max_length=100, unique=True)
    tenant_id = models.CharField("tenant id", max_length=64)
    client_id = models.CharField("app (client) id", max_length=64)
    secret_encrypted = models.TextField(editable=False)
    expected_subscriptions = models.JSONField(default=list, blank=True)
    contacts = models.TextField(blank=True, help_text="E-mail addresses for notifications, one per line.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_successful_sync_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def set_secret(self, plaintext):
        self.secret_encrypted = crypto.encrypt(plaintext)

    def tenant(self):
        from ascmon.azure.credentials import Tenant

        return Tenant(self.tenant_id, self.client_id, crypto.decrypt(self.secret_encrypted))

    def contact_list(self):
        return [line.strip() for line in self.contacts.splitlines() if line.strip()]


class Subscription(models.Model):
    """A subscription of a device: expected by the customer, visible to ascmon, or both."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="subscriptions")
    subscription_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=20, blank=True)
    expected = models.BooleanField(default=False)
    visible = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device", "display_name", "subscription_id"]
        constraints = [models.UniqueConstraint(fields=["device", "subscription_id"], name="uniq_device_sub")]

    def __str__(self):
        return self.display_name or self.subscription_id


class StorageAccount(models.Model):
    """A storage account found by inventory, with how it logs (classic $logs and/or diagnostic settings)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="storage_accounts")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="storage_accounts")
    resource_id = models.CharField(max_length=400)
    name = models.CharField(max_length=64)
    resource_group = models.CharField(max_length=90, blank=True)
    location = models.CharField(max_length=40, blank=True)
    blob_endpoint = models.CharField(max_length=300, blank=True)
    logging_version = models.CharField(max_length=5, blank=True)
    logging_read = models.BooleanField(default=False)
    logging_write = models.BooleanField(default=False)
    logging_delete = models.BooleanField(default=False)
    logging_retention_days = models.PositiveIntegerField(null=True, blank=True)
    diagnostic_logs = models.BooleanField(default=False)
    diagnostic_target_account_id = models.CharField(max_length=400, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device", "name"]
        constraints = [models.UniqueConstraint(fields=["device", "resource_id"], name="uniq_device_account")]

    def __str__(self):
        return self.name

    @property
    def classic_logging_on(self):
        return self.logging_read or self.logging_write or self.logging_delete
