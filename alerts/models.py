import fnmatch
import re
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alerts.choices import (
    AZURE_STATUS_COLOURS,
    POLL_COLOURS,
    SEVERITY_COLOURS,
    TRIAGE_COLOURS,
    AzureStatus,
    ChangeSource,
    PollOutcome,
    Severity,
    TriageStatus,
    colour,
)
from devices.models import Device

PORTAL = "https://portal.azure.com/"


class AlertQuerySet(models.QuerySet):
    def visible(self):
        """What analysts triage: neither suppressed nor a duplicate of another alert."""
        return self.filter(suppressed_by__isnull=True, duplicate_of__isnull=True)

    def suppressed(self):
        return self.filter(suppressed_by__isnull=False)

    def for_list(self):
        """Only what the list shows, so 100,000 rows of raw JSON never leave the database."""
        return self.select_related("device", "assignee", "suppressed_by").only(
            "id",
            "display_name",
            "alert_type",
            "severity",
            "status",
            "triage_status",
            "time_generated",
            "start_time",
            "compromised_entity",
            "product_name",
            "is_preview",
            "is_new_type",
            "is_sample",
            "duplicate_of_id",
            "suppressed_by__id",
            "suppressed_by__reason",
            "device__id",
            "device__name",
            "assignee__id",
            "assignee__username",
            "duplicate_count",
        )


class Alert(models.Model):
    """One Defender for Cloud alert of a device, normalized, with its raw JSON kept."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alerts")
    identity = models.CharField(max_length=400, help_text="systemAlertId|alert type: one record per alert")
    resource_id = models.CharField("Azure resource id", max_length=600, blank=True)
    sightings = models.JSONField(default=list, blank=True, help_text="Other resource ids of the same alert")
    name = models.CharField(max_length=300, blank=True)
    system_alert_id = models.CharField(max_length=300, blank=True)
    subscription_id = models.CharField(max_length=64, blank=True)
    resource_group = models.CharField(max_length=100, blank=True)
    asc_location = models.CharField(max_length=60, blank=True)
    schema = models.CharField(max_length=20, blank=True)

    alert_type = models.CharField(max_length=200)
    display_name = models.CharField(max_length=500)
    severity = models.CharField(max_length=20, choices=Severity.choices, db_index=True)
    severity_rank = models.PositiveSmallIntegerField(
        default=0, help_text="informational 0 … high 3, for sorting"
    )
    status = models.CharField("Azure status", max_length=20, choices=AzureStatus.choices, db_index=True)
    intents = models.JSONField(default=list, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    time_generated = models.DateTimeField(null=True, blank=True, db_index=True)
    processing_end_time = models.DateTimeField(null=True, blank=True)
    compromised_entity = models.CharField(max_length=500, blank=True)
    product_name = models.CharField(max_length=200, blank=True)
    product_component_name = models.CharField(max_length=200, blank=True)
    vendor = models.CharField(max_length=200, blank=True)
    techniques = models.JSONField(default=list, blank=True)
    sub_techniques = models.JSONField(default=list, blank=True)
    is_incident = models.BooleanField(default=False)
    correlation_key = models.CharField(max_length=500, blank=True)
    extractor = models.CharField(max_length=40, blank=True, help_text="Registry entry; empty = unknown type")
    entity_text = models.TextField(blank=True, help_text="Entity values, lower-cased, one a line, for rules")
    search_text = models.TextField(blank=True, help_text="Name, type, entity and entities, lower-cased")

    is_preview = models.BooleanField(default=False, db_index=True)
    is_sample = models.BooleanField(default=False)
    is_new_type = models.BooleanField(default=False)
    suppressed_by = models.ForeignKey(
        "SuppressionRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    duplicate_count = models.PositiveIntegerField(default=0)
    dedup_family = models.CharField(max_length=200, blank=True, db_index=True)
    dedup_principals = models.JSONField(default=list, blank=True)

    triage_status = models.CharField(max_length=20, choices=TriageStatus.choices, default=TriageStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_azure_status = models.CharField(
        max_length=20, blank=True, help_text="Written back to Azure; cleared when a poll sees it"
    )

    content_hash = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-time_generated", "-severity_rank", "-id"]
        constraints = [models.UniqueConstraint(fields=["device", "identity"], name="uniq_alert_identity")]
        indexes = [
            models.Index(
                fields=["suppressed_by", "duplicate_of", "time_generated", "severity_rank"],
                name="alert_visible_list",
            ),
            models.Index(fields=["device", "dedup_family", "start_time"], name="alert_dedup"),
            # "Suppressed only": walk all primaries in time order, reading suppressed_by from the index.
            models.Index(
                fields=["duplicate_of", "time_generated", "severity_rank", "suppressed_by"],
                name="alert_primary_time",
            ),
            models.Index(
                fields=["suppressed_by", "duplicate_of", "severity_rank", "time_generated"],
                name="alert_visible_severity",
            ),
            # Each list filter walks its own index in time order (a page reads ~50 rows), and the trailing
            # severity rank lets the counts come from the index alone.
            *[
                models.Index(
                    fields=[column, "suppressed_by", "duplicate_of", "time_generated", "severity_rank"],
                    name=f"alert_{name}_list",
                )
                for column, name in [
                    ("alert_type", "type"),
                    ("product_name", "product"),
                    ("is_new_type", "new_type"),
                    ("device", "device"),
                    ("triage_status", "triage"),
                ]
            ],
        ]

    def __str__(self):
        return self.display_name

    @property
    def severity_colour(self):
        return colour(SEVERITY_COLOURS, self.severity)

    @property
    def status_colour(self):
        return colour(AZURE_STATUS_COLOURS, self.status)

    @property
    def triage_colour(self):
        return colour(TRIAGE_COLOURS, self.triage_status)

    @property
    def is_storage_anomaly(self):
        """Storage.* alerts: where decision support shows what is usual for the account."""
        return self.alert_type.lower().removeprefix("simulated_").startswith("storage.")

    def portal_url(self):
        """The portal deep link: Azure's own when it points at the portal, else one built from the id."""
        if self.details.alert_uri.startswith(PORTAL):
            return self.details.alert_uri
        return (
            f"{PORTAL}#blade/Microsoft_Azure_Security/AlertBlade/alertId/{self.name}"
            f"/subscriptionId/{self.subscription_id}/resourceGroup/{self.resource_group}"
            f"/referencedFrom/alertDeepLink/location/{self.asc_location}"
        )


# Bulky, detail-page-only fields live in AlertDetails so list scans read small rows.
DETAIL_FIELDS = (
    "description",
    "resource_ids",
    "remediation_steps",
    "alert_uri",
    "extended_links",
    "supporting_evidence",
    "extended_properties",
    "typed_properties",
    "raw",
)


class AlertDetails(models.Model):
    """An alert's long fields: description, remediation, links, evidence, extended properties, raw JSON."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, primary_key=True, related_name="details")
    description = models.TextField(blank=True)
    resource_ids = models.JSONField(default=list, blank=True)
    remediation_steps = models.JSONField(default=list, blank=True)
    alert_uri = models.CharField(max_length=1000, blank=True)
    extended_links = models.JSONField(default=list, blank=True)
    supporting_evidence = models.JSONField(default=dict, blank=True)
    extended_properties = models.JSONField(default=dict, blank=True, help_text="As Azure sent them")
    typed_properties = models.JSONField(default=dict, blank=True, help_text="Typed by the extractor registry")
    raw = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "alert details"

    def __str__(self):
        return f"Details of alert {self.alert_id}"


class AlertEntity(models.Model):
    """Something an alert names: an IP, account, host, Azure resource, file, process..."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="entities")
    kind = models.CharField(max_length=40, db_index=True)
    value = models.CharField(max_length=1000)
    source = models.CharField(max_length=40, help_text="entities, resourceIdentifiers or extendedProperties")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "value"], name="entity_kind_value")]

    def __str__(self):
        return f"{self.kind}: {self.value}"


class AlertChange(models.Model):
    """One change to an alert, for its timeline: status, severity, end time, entities, triage."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=40)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=ChangeSource.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.field}: {self.old} → {self.new}"


class AlertType(models.Model):
    """An alert type ascmon has seen; a type the extractor registry does not know is flagged new."""

    name = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=500, blank=True)
    product_name = models.CharField(max_length=200, blank=True)
    known = models.BooleanField(default=False, help_text="The extractor registry has typed fields for it")
    is_new = models.BooleanField(default=False, help_text="Untick once reviewed")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SuppressionRuleQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(is_active=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def lapsed(self, now=None):
        """Disabled or expired rules."""
        return self.filter(Q(is_active=False) | Q(expires_at__lte=now or timezone.now()))

    def release(self):
        """Hand the alerts these rules suppressed to the first other active rule covering them, or show
        them again: for rules disabled, expired or about to be deleted. Returns how many are shown."""
        ids = list(self.values_list("pk", flat=True))
        leaving = Alert.objects.filter(suppressed_by__in=ids)
        for rule in SuppressionRule.objects.active().exclude(pk__in=ids):
            covered = leaving.filter(rule.db_filter())
            if rule.entity_pattern:
                fields = ("id", "alert_type", "product_name", "is_preview", "severity", "entity_text")
                covered = Alert.objects.filter(
                    pk__in=[a.pk for a in covered.only(*fields) if rule.matches(a)]
                )
            covered.update(suppressed_by=rule)
        return leaving.update(suppressed_by=None)


class SuppressionRule(models.Model):
    """Known noise: matching alerts are kept but hidden from the default list."""

    alert_type = models.CharField(
        max_length=200,
        blank=True,
        help_text="Exact type, or a prefix ending in * (Storage.Blob_*). Empty: any.",
    )
    product_name = models.CharField(max_length=200, blank=True, help_text="Exact product name. Empty: any.")
    preview_only = models.BooleanField(
        default=False, help_text='Only preview alerts ("PREVIEW - " prefix or "(Preview)" suffix)'
    )
    severity = models.CharField(max_length=20, choices=Severity.choices, blank=True, help_text="Empty: any.")
    entity_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Glob on entity values, e.g. 10.0.* or *svc-backup*. Empty: any.",
    )
    reason = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuppressionRuleQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.reason.splitlines()[0][:80] if self.reason else f"Rule {self.pk}"

    def db_filter(self):
        """The criteria the database can check; the entity glob is checked in Python."""
        criteria = Q()
        if self.alert_type.endswith("*"):
            criteria &= Q(alert_type__istartswith=self.alert_type[:-1])
        elif self.alert_type:
            criteria &= Q(alert_type__iexact=self.alert_type)
        if self.product_name:
            criteria &= Q(product_name__iexact=self.product_name)
        if self.preview_only:
            criteria &= Q(is_preview=True)
        if self.severity:
            criteria &= Q(severity=self.severity)
        return criteria

    def entity_regex(self):
        return re.compile(fnmatch.translate(self.entity_pattern.lower())) if self.entity_pattern else None

    def matches(self, alert):
        """Does this rule cover `alert` (an Alert, saved or not)?"""
        kind = self.alert_type.lower()
        alert_type = alert.alert_type.lower()
        if kind and not (alert_type.startswith(kind[:-1]) if kind.endswith("*") else alert_type == kind):
            return False
        if self.product_name and self.product_name.lower() != (alert.product_name or "").lower():
            return False
        if (self.preview_only and not alert.is_preview) or (
            self.severity and self.severity != alert.severity
        ):
            return False
        pattern = self.entity_regex()
        return pattern is None or any(pattern.match(v) for v in alert.entity_text.splitlines())

    def recent_matches(self, days=30):
        """Alerts of the last `days` this rule covers, whether or not it suppressed them."""
        since = timezone.now() - timedelta(days=days)
        candidates = Alert.objects.filter(self.db_filter(), first_seen_at__gte=since).select_related("device")
        if not self.entity_pattern:
            return list(candidates.order_by("-first_seen_at")[:1000])
        return [alert for alert in candidates.order_by("-first_seen_at")[:5000] if self.matches(alert)]

    def apply_to_recent(self, days=30):
        """Suppress the unsuppressed alerts of the last `days` this rule covers; returns how many."""
        ids = [alert.pk for alert in self.recent_matches(days) if alert.suppressed_by_id is None]
        return Alert.objects.filter(pk__in=ids).update(suppressed_by=self)


class Comment(models.Model):
    """An analyst's note on an alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Comment by {self.author} on {self.alert_id}"


class AuditEvent(models.Model):
    """Who did what to an alert or a rule, and when."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=60)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.user} {self.action}"


class PortalPivot(models.Model):
    """An analyst left ascmon for the Azure portal: the measure of context ascmon lacks."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    alert = models.ForeignKey(Alert, null=True, on_delete=models.SET_NULL, related_name="pivots")
    alert_type = models.CharField(max_length=200, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} → portal for {self.alert_type}"


class PollRun(models.Model):
    """One poll of one subscription's alerts: what came, what changed, what failed."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alert_polls")
    subscription_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=20, default="poll", help_text="poll or import")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=PollOutcome.choices, default=PollOutcome.RUNNING)
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    new_types = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0, help_text="Pages retried after 429 or a failure")
    errors = models.JSONField(default=list, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Poll of {self.device} {self.subscription_id} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def outcome_colour(self):
        return colour(POLL_COLOURS, self.outcome)

    def counts(self):
        names = ("created", "updated", "duplicates", "suppressed", "new_types", "rejected")
        return {name: getattr(self, name) for name in names}


class RejectedAlert(models.Model):
    """An alert that could not be read, kept raw with the reason so nothing disappears silently."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="rejected_alerts")
    poll = models.ForeignKey(
        PollRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="rejects"
    )
    reason = models.TextField()
    raw = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"Rejected alert of {self.device}: {self.reason[:60]}"


class DeviceAlertSettings(models.Model):
    """Per-device alert options: whether triage status is written back to Azure."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="alert_settings")
    write_back_status = models.BooleanField(
        default=False, help_text="Send triage status to Azure (needs Security Admin on the subscription)"
    )

    class Meta:
        verbose_name_plural = "device alert settings"

    def __str__(self):
        return f"Alert settings of {self.device}"
