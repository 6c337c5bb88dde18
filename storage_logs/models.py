import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from storage_logs import aggregate
from storage_logs.choices import INGESTION_ITEMS, UNITS, PriceItem

KIND_CHOICES = [(kind, kind.title()) for kind in aggregate.KINDS]
WINDOW_CHOICES = [
    (m, f"{m} minutes" if m < 60 else ("1 hour" if m == 60 else "1 day")) for m in aggregate.WINDOW_CHOICES
]
FIELD_FLAGS = {name: f"by_{name}" for name in aggregate.FIELDS}


class AggregationPolicy(models.Model):
    """Which fields make two operations of one kind "the same", and the width of their time window."""

    kind = models.CharField(max_length=10, choices=KIND_CHOICES, unique=True)
    by_operation = models.BooleanField(default=True)
    by_status_class = models.BooleanField(default=True)
    by_auth_type = models.BooleanField(default=False)
    by_principal = models.BooleanField(default=True)
    by_client_ip = models.BooleanField("by client IP", default=True)
    by_user_agent = models.BooleanField(default=True)
    by_container = models.BooleanField(default=True)
    by_object = models.BooleanField(default=False)
    window_minutes = models.PositiveIntegerField(choices=WINDOW_CHOICES, default=60)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name_plural = "aggregation policies"

    def __str__(self):
        return f"{self.kind} operations"

    def as_policy(self):
        fields = tuple(name for name, flag in FIELD_FLAGS.items() if getattr(self, flag))
        return aggregate.Policy(self.kind, fields, self.window_minutes)

    @classmethod
    def current(cls):
        """{kind: aggregate.Policy}: the stored policies, defaults for kinds without one."""
        return {**aggregate.DEFAULT_POLICIES, **{p.kind: p.as_policy() for p in cls.objects.all()}}


class IngestRun(models.Model):
    """One run of an ingestion task (a span of an account's hours, or the sweep that queues them), with what
    it read.

    A span is one hour or several contiguous hours of one UTC day, `hour` to `last_hour`: a worker reads an
    account's pending hours in one task (one listing per container, one transaction per batch), not one
    task per hour. A run is queued by the sweep, running while a worker holds it, and ends ok or failed with
    its reason, or lost when its hours cannot be read without counting lines twice (an hour of a span that
    is lost gets a lost run of its own); a run whose worker or task was lost is closed as abandoned by a
    later sweep, which queues its hours again. Every run ends in one of those."""

    QUEUED, RUNNING, OK, FAILED, LOST, ABANDONED = "queued", "running", "ok", "failed", "lost", "abandoned"
    STATUS_CHOICES = [(s, s.title()) for s in (QUEUED, RUNNING, OK, FAILED, LOST, ABANDONED)]
    OPEN = (QUEUED, RUNNING)

    task = models.CharField(max_length=20)  # "sweep" or "account_hour"
    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.CASCADE)
    account = models.ForeignKey("devices.StorageAccount", null=True, blank=True, on_delete=models.CASCADE)
    hour = models.DateTimeField(null=True, blank=True)  # the span's first hour
    last_hour = models.DateTimeField(null=True, blank=True)  # and its last (the same for one hour)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=RUNNING)
    started_at = models.DateTimeField(default=timezone.now)  # when queued, for a queued run
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the last batch it stored
    finished_at = models.DateTimeField(null=True, blank=True)
    blobs_read = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    merged = models.BigIntegerField(default=0)
    changed_blobs = models.PositiveIntegerField(default=0)
    rejected_samples = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-started_at"]),
            models.Index(fields=["account", "hour", "status"], name="run_account_hour_status"),
        ]

    def __str__(self):
        return f"{self.task} {self.account or self.device} {self.hour or ''} {self.status}"

    def save(self, *args, **kwargs):
        if self.hour is not None and self.last_hour is None:
            self.last_hour = self.hour  # a span of one hour
        super().save(*args, **kwargs)

    def hours(self):
        """The hours of the run's span, first to last."""
        if self.hour is None:
            return []
        last = self.last_hour or self.hour
        count = int((last - self.hour).total_seconds()) // 3600 + 1
        return [self.hour + timedelta(hours=n) for n in range(count)]


class AccountIngest(models.Model):
    """Where ingestion of one account stands: the hours fully read, and the row every batch of the account
    locks while it is stored (so batches of one account are stored one at a time, in any process)."""

    account = models.OneToOneField("devices.StorageAccount", on_delete=models.CASCADE, related_name="ingest")
    read_until = models.DateTimeField(null=True, blank=True, help_text="every hour before this one is read")
    lost_hours = models.PositiveIntegerField(default=0, help_text="hours that could no longer be read")
    lost_at = models.DateTimeField(null=True, blank=True)
    last_stored_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.account} read until {self.read_until}"


class BlobCheckpoint(models.Model):
    """How far a log blob has been read; advanced in the transaction that stores its aggregates. `tail`
    holds the bytes just before `consumed`, so a blob that grew is told from a blob that was rewritten."""

    account = models.ForeignKey(
        "devices.StorageAccount", on_delete=models.CASCADE, related_name="checkpoints"
    )
    container = models.CharField(max_length=63)
    name = models.CharField(max_length=1024)
    etag = models.CharField(max_length=100, blank=True)
    consumed = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0)
    tail = models.BinaryField(default=b"", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "container", "name"], name="uniq_blob_checkpoint")
        ]

    def __str__(self):
        return f"{self.container}/{self.name} @ {self.consumed}"


class SeenRequests(models.Model):
    """8-byte digests of the (request id, operation count) of the lines one stored batch counted, filed
    under the hours it read (`hour` to `last_hour`): later batches of nearby hours drop lines Azure wrote
    again."""

    account = models.ForeignKey("devices.StorageAccount", on_delete=models.CASCADE)
    hour = models.DateTimeField()
    last_hour = models.DateTimeField()
    digests = models.BinaryField(default=b"")

    class Meta:
        indexes = [models.Index(fields=["account", "hour"], name="seen_account_hour")]

    def __str__(self):
        return f"{self.account} {self.hour:%Y-%m-%d %H}:00"


class LogBatch(models.Model):
    """The lines one stored batch read: per blob, the ETag it had and the byte range. Aggregates name the
    batches that fed them, so their lines can be read again from the customer's blobs."""

    account = models.ForeignKey(
        "devices.StorageAccount", on_delete=models.CASCADE, related_name="log_batches"
    )
    hour = models.DateTimeField()  # the first hour it read
    stored_at = models.DateTimeField(default=timezone.now)
    ranges = models.JSONField(default=list)  # [[container, blob name, etag, start, end], ...]

    def __str__(self):
        return f"{self.account} {self.hour:%Y-%m-%d %H}:00, {len(self.ranges)} blob(s)"


class JSONText(models.TextField):
    """JSON kept as plain text in the database. The aggregates' JSON columns are only ever read whole, never
    searched: on PostgreSQL, jsonb made the server parse and rebuild every value of every row the engine
    copies in (about a third of COPY's time on a busy account here: bench/ingest_e2e.py)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))


class LogAggregate(models.Model):
    """Operations that are the same under a policy in one time window: counts, sums and samples. Rows are
    written by the storage log engine (storage_logs/aggregate.py, ROW_COLUMNS), never one by one."""

    # No database constraint and no index of its own: every bulk COPY paid a deferred check per row at
    # commit (about a sixth of storing a busy batch) and an index the unique constraint below already
    # gives (it starts with the account). Rows are written only under the account's AccountIngest lock,
    # which deleting an account takes first (storage_logs/apps.py), so no row outlives its account.
    account = models.ForeignKey(
        "devices.StorageAccount", on_delete=models.CASCADE, related_name="log_aggregates",
        db_constraint=False, db_index=False,
    )  # fmt: skip
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    operation = models.CharField(max_length=64, blank=True)
    status_class = models.CharField(max_length=1, blank=True)
    auth_type = models.CharField(max_length=20, blank=True)
    principal_kind = models.CharField(max_length=20, blank=True)
    principal_id = models.CharField(max_length=200, blank=True)
    principal_label = models.CharField(max_length=300, blank=True)
    upn = models.CharField("UPN", max_length=300, blank=True)
    app_id = models.CharField(max_length=64, blank=True)
    client_ip = models.CharField("client IP", max_length=64, blank=True)
    user_agent = models.TextField(blank=True)
    container = models.CharField(max_length=300, blank=True)
    object_key = models.TextField(blank=True)
    count = models.BigIntegerField()
    first_time = models.DateTimeField()
    last_time = models.DateTimeField()
    request_bytes = models.BigIntegerField(default=0)
    request_bytes_min = models.BigIntegerField(default=0)
    request_bytes_max = models.BigIntegerField(default=0)
    response_bytes = models.BigIntegerField(default=0)
    response_bytes_min = models.BigIntegerField(default=0)
    response_bytes_max = models.BigIntegerField(default=0)
    latency_ms_sum = models.BigIntegerField(default=0)
    latency_ms_min = models.BigIntegerField(default=0)
    latency_ms_max = models.BigIntegerField(default=0)
    server_ms_sum = models.BigIntegerField(default=0)
    server_ms_min = models.BigIntegerField(default=0)
    server_ms_max = models.BigIntegerField(default=0)
    status_counts = JSONText(default=dict)
    distinct_objects = models.PositiveIntegerField(default=0)
    sample_objects = JSONText(default=list)
    sample_request_ids = JSONText(default=list)
    # sorted 8-byte digests of the distinct objects, so that merging keeps distinct_objects exact
    object_digests = models.BinaryField(default=b"", editable=False)
    # the policy and the group's key fields (SHA-256): one row per group and window. A row made another
    # way (by hand, in a test) gets a key of its own and never merges.
    group_key = models.UUIDField(default=uuid.uuid4, editable=False)
    export_size = models.PositiveIntegerField(default=0, help_text="bytes of the aggregate as one JSON line")
    billed_size = models.PositiveIntegerField(default=0, help_text="bytes Log Analytics would bill for it")
    batches = JSONText(default=list, editable=False)  # LogBatch ids: where its lines are

    SAS_KINDS = ("sas", "sas_fields")  # told apart by the signature's hash, or by the token's visible fields

    class Meta:
        ordering = ["window_start"]
        constraints = [
            # the window first: a batch's rows land next to each other, and it serves queries by time
            models.UniqueConstraint(
                fields=["account", "window_start", "group_key"], name="uniq_log_aggregate_group"
            )
        ]
        indexes = [
            models.Index(fields=["account", "principal_id", "window_start"], name="agg_account_principal"),
        ]

    def __str__(self):
        return f"{self.operation} ×{self.count} {self.principal_kind}:{self.principal_id} {self.window_start}"


class EvidenceProof(models.Model):
    """One check that an aggregate's raw lines, read again from the customer's blobs, add up to it (count
    and bytes). Queued, running while a worker reads, then ok (they add up), differ, or unfetchable."""

    QUEUED, RUNNING, OK, DIFFER, UNFETCHABLE, FAILED = (
        "queued",
        "running",
        "ok",
        "differ",
        "unfetchable",
        "failed",
    )
    STATUS_CHOICES = [(s, s.title()) for s in (QUEUED, RUNNING, OK, DIFFER, UNFETCHABLE, FAILED)]
    OPEN = (QUEUED, RUNNING)

    # no database constraint: ingestion may rewrite aggregate rows in bulk without looking at proofs
    aggregate = models.ForeignKey(
        LogAggregate, on_delete=models.CASCADE, related_name="proofs", db_constraint=False
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=12, choices=STATUS_CHOICES, default=QUEUED)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    lines = models.BigIntegerField(default=0)
    request_bytes = models.BigIntegerField(default=0)
    response_bytes = models.BigIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"proof of aggregate {self.aggregate_id}: {self.status}"


class DailyVolume(models.Model):
    """Per account and day: raw log lines and bytes read, aggregates stored, and what Log Analytics would
    bill for each (storage_logs/billing.py)."""

    account = models.ForeignKey(
        "devices.StorageAccount", on_delete=models.CASCADE, related_name="daily_volumes"
    )
    day = models.DateField()
    raw_lines = models.BigIntegerField(default=0)
    raw_bytes = models.BigIntegerField(default=0)
    billable_bytes = models.BigIntegerField(default=0)
    rejected_lines = models.BigIntegerField(default=0)
    duplicate_lines = models.BigIntegerField(default=0)
    aggregate_records = models.BigIntegerField(default=0)
    aggregate_bytes = models.BigIntegerField(default=0)
    aggregate_billable_bytes = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="uniq_daily_volume")]

    def __str__(self):
        return f"{self.account} {self.day}"


class PriceList(models.Model):
    """Azure Monitor Logs prices in one region and currency: what the cost page prices billed volumes with."""

    name = models.CharField(max_length=100)
    region = models.CharField(max_length=40, help_text="Azure region name, e.g. eastus")
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code, e.g. USD")
    is_default = models.BooleanField(
        default=False, help_text="the cost page uses this list unless told otherwise"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-is_default", "region", "currency"]
        constraints = [models.UniqueConstraint(fields=["region", "currency"], name="uniq_price_list")]

    def __str__(self):
        return f"{self.name} ({self.region}, {self.currency})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if self.is_default:
            PriceList.objects.exclude(pk=self.pk).update(is_default=False)


class Price(models.Model):
    """One price of a price list from the day it takes effect, with where it was read."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    item = models.CharField(max_length=30, choices=PriceItem.choices)
    tier_gb_per_day = models.PositiveIntegerField(
        "tier (GB per day)", default=0, help_text="commitment tiers only: the GB per day committed to"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=4, help_text="in the price list's currency")
    included_retention_days = models.PositiveIntegerField(
        default=0, help_text="ingestion prices: the days of retention the price includes"
    )
    effective_from = models.DateField(help_text="the first day this price applies")
    source = models.CharField(max_length=500, help_text="where the price was read (an address or document)")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["price_list", "item", "tier_gb_per_day", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "item", "tier_gb_per_day", "effective_from"], name="uniq_price"
            )
        ]

    def __str__(self):
        tier = f" {self.tier_gb_per_day} GB/day" if self.tier_gb_per_day else ""
        return f"{self.get_item_display()}{tier}: {self.amount} {self.unit} from {self.effective_from}"

    @property
    def unit(self):
        return UNITS[self.item]

    def clean(self):
        errors = {}
        if self.item == PriceItem.COMMITMENT_TIER and not self.tier_gb_per_day:
            errors["tier_gb_per_day"] = "A commitment tier needs its GB per day."
        if self.item != PriceItem.COMMITMENT_TIER and self.tier_gb_per_day:
            errors["tier_gb_per_day"] = "Only commitment tiers have GB per day."
        if self.item not in INGESTION_ITEMS and self.included_retention_days:
            errors["included_retention_days"] = "Only ingestion prices include retention."
        if self.amount is not None and self.amount < 0:
            errors["amount"] = "A price cannot be negative."
        if errors:
            raise ValidationError(errors)


def yearly_cost(mb_per_day, price_per_gb=None, mb_per_gb=None, days_per_year=None):
    """Log Analytics $/year for a daily volume in MB (docs/azure-formats.md §7)."""
    price = settings.LOG_ANALYTICS_PRICE_PER_GB if price_per_gb is None else price_per_gb
    per_gb = settings.LOG_ANALYTICS_MB_PER_GB if mb_per_gb is None else mb_per_gb
    days = settings.LOG_ANALYTICS_DAYS_PER_YEAR if days_per_year is None else days_per_year
    return mb_per_day / per_gb * price * days
