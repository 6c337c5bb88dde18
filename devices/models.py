from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ascmon import crypto
from devices.choices import (
    EVENT_COLOURS,
    KIND_SEVERITY,
    RUN_COLOURS,
    SEVERITY_COLOURS,
    FindingKind,
    NotificationEvent,
    RunOutcome,
    SampleOutcome,
    Severity,
)


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
    logs_ingested_until = models.DateTimeField(
        null=True, blank=True, help_text="Newest storage log record ingested (set by storage log ingestion)."
    )

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
        return [line.strip() for line in self.contacts.replace(",", "\n").splitlines() if line.strip()]

    def missing_subscriptions(self):
        return self.subscriptions.filter(expected=True, visible=False)

    def is_stale(self, now=None):
        now = now or timezone.now()
        since = self.last_successful_sync_at or self.created_at
        return since < now - timedelta(minutes=settings.STALE_AFTER_MINUTES)

    def ingestion_lag(self, now=None):
        if self.logs_ingested_until is None:
            return None
        return (now or timezone.now()) - self.logs_ingested_until


class Subscription(models.Model):
    """A subscription of a device: expected by the customer, visible to ascmon, or both."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="subscriptions")
    subscription_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=20, blank=True)
    expected = models.BooleanField(default=False)
    visible = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    resource_total = models.PositiveIntegerField(default=0)
    activity_log_readable = models.BooleanField(
        null=True, blank=True, help_text="whether the app may read the Activity Log (unknown until inventory)"
    )

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
    # days after which a lifecycle management rule deletes blobs of the insights-logs-* containers
    lifecycle_delete_days = models.PositiveIntegerField(null=True, blank=True)
    diagnostic_logs = models.BooleanField(default=False)
    diagnostic_target_account_id = models.CharField(max_length=400, blank=True)
    diagnostic_settings = models.JSONField(default=list, blank=True)
    logging_error = models.CharField(max_length=200, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device", "name"]
        constraints = [models.UniqueConstraint(fields=["device", "resource_id"], name="uniq_device_account")]

    def __str__(self):
        return self.name

    @property
    def classic_logging_on(self):
        return self.logging_read or self.logging_write or self.logging_delete


class ResourceCount(models.Model):
    """How many resources of one type a subscription held at the last inventory."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="resource_counts")
    resource_type = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["subscription", "-count", "resource_type"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "resource_type"], name="uniq_sub_resource_type")
        ]

    def __str__(self):
        return f"{self.resource_type}: {self.count}"


class DefenderPlan(models.Model):
    """One Defender for Cloud plan (a pricing) of a subscription, as the last inventory saw it."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(max_length=100)
    pricing_tier = models.CharField(max_length=20)
    sub_plan = models.CharField(max_length=100, blank=True)
    deprecated = models.BooleanField(default=False)
    replaced_by = models.JSONField(default=list, blank=True)
    enablement_time = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["subscription", "name"]
        constraints = [models.UniqueConstraint(fields=["subscription", "name"], name="uniq_sub_plan")]

    def __str__(self):
        return f"{self.name}: {self.pricing_tier}"

    @property
    def enabled(self):
        return self.pricing_tier.lower() == "standard"


class InventoryRun(models.Model):
    """One inventory of a device: when, how long, how many API calls, what failed, and what it saw."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="inventory_runs")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    api_calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0, help_text="Calls Azure throttled (429) past retries")
    errors = models.JSONField(default=list, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text="What this run saw, kept for history")
    summary = models.JSONField(
        default=dict, blank=True, help_text="Headline numbers, to show change over time"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["device", "-started_at"])]

    def __str__(self):
        return f"{self.device} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None

    @property
    def colour(self):
        return RUN_COLOURS[self.outcome]


class FindingQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def by_severity(self):
        order = models.Case(
            models.When(severity=Severity.HIGH, then=0),
            models.When(severity=Severity.MEDIUM, then=1),
            default=2,
        )
        return self.order_by(order, "kind", "subject")


class Finding(models.Model):
    """A misconfiguration a health check found; resolved (never deleted) when an inventory sees the fix."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=40, choices=FindingKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    subject = models.CharField(max_length=500, blank=True, help_text="What the finding is about")
    subscription_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=300)
    explanation = models.TextField()
    portal_steps = models.TextField("steps in the Azure portal")
    cli_command = models.TextField("az CLI command")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "kind", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="uniq_open_finding",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.resolved_at is None

    @property
    def colour(self):
        return SEVERITY_COLOURS[self.severity]

    @classmethod
    def severity_of(cls, kind):
        return KIND_SEVERITY[kind]


class NotificationQuerySet(models.QuerySet):
    def unread_by(self, user):
        return self.exclude(read_by=user)

    def annotate_read(self, user):
        read = Notification.read_by.through.objects.filter(notification=models.OuterRef("pk"), user=user)
        return self.annotate(is_read=models.Exists(read))


class Notification(models.Model):
    """A finding opened or resolved: shown in the notification centre, e-mailed to the device's contacts."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="notifications")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=10, choices=NotificationEvent.choices)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_to = models.TextField(blank=True)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["finding", "event"], name="uniq_finding_event")]

    def __str__(self):
        return f"{self.get_event_display()}: {self.finding}"

    @property
    def colour(self):
        return EVENT_COLOURS[self.event]


class SampleAlertRequest(models.Model):
    """One "send sample alerts" check: what Azure was asked (Alerts_Simulate) and what it answered. Whether
    the samples arrived is read from the alerts the poll stored since (devices/sample_alerts.py)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sample_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=SampleOutcome.choices, default=SampleOutcome.REQUESTED)
    sent_at = models.DateTimeField(null=True, blank=True)
    subscriptions = models.JSONField(
        default=list, blank=True, help_text="Subscriptions Azure accepted it for"
    )
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"Sample alerts for {self.device} at {self.requested_at:%Y-%m-%d %H:%M}"
