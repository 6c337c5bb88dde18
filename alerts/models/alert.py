"""An alert as ascmon keeps it: the normalized alert, its long fields, entities, changes and its type."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from alerts.choices import (
    AZURE_STATUS_COLOURS,
    CLASSIFICATION_COLOURS,
    SEVERITY_COLOURS,
    TRIAGE_COLOURS,
    AzureStatus,
    ChangeSource,
    Classification,
    Determination,
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
            "classification",
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
    classification = models.CharField(max_length=40, choices=Classification.choices, blank=True)
    determination = models.CharField(max_length=40, choices=Determination.choices, blank=True)
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
            # A rule's hits in the last 7 and 30 days and its last hit (alerts/tuning.py): only suppressed
            # alerts are indexed, so the admin's rule list reads a small index however large the table.
            models.Index(
                fields=["suppressed_by", "time_generated"],
                condition=models.Q(suppressed_by__isnull=False),
                name="alert_suppressed_hits",
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
    def classification_colour(self):
        return colour(CLASSIFICATION_COLOURS, self.classification)

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
