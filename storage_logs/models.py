import hashlib
from collections import Counter

from django.conf import settings
from django.db import models

from storage_logs import aggregate

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
    """One run of an ingestion task (a device fan-out or one account-hour), with what it read."""

    RUNNING, OK, FAILED, SKIPPED = "running", "ok", "failed", "skipped"
    STATUS_CHOICES = [(s, s.title()) for s in (RUNNING, OK, FAILED, SKIPPED)]

    task = models.CharField(max_length=20)  # "device" or "account_hour"
    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.CASCADE)
    account = models.ForeignKey("devices.StorageAccount", null=True, blank=True, on_delete=models.CASCADE)
    hour = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    blobs_read = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    rejected_samples = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["account", "-started_at"])]

    def __str__(self):
        return f"{self.task} {self.account or self.device} {self.hour or ''} {self.status}"


class BlobCheckpoint(models.Model):
    """How far a log blob has been read; advanced in the transaction that stores its aggregates."""

    account = models.ForeignKey(
        "devices.StorageAccount", on_delete=models.CASCADE, related_name="checkpoints"
    )
    container = models.CharField(max_length=63)
    name = models.CharField(max_length=1024)
    etag = models.CharField(max_length=100, blank=True)
    consumed = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "container", "name"], name="uniq_blob_checkpoint")
        ]

    def __str__(self):
        return f"{self.container}/{self.name} @ {self.consumed}"


class SeenRequests(models.Model):
    """8-byte digests of (request id, operation count) already counted for an account-hour: repeats drop."""

    account = models.ForeignKey("devices.StorageAccount", on_delete=models.CASCADE)
    hour = models.DateTimeField()
    digests = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "hour"], name="uniq_seen_requests")]

    def __str__(self):
        return f"{self.account} {self.hour:%Y-%m-%d %H}:00"


class LogAggregate(models.Model):
    """Operations that are the same under a policy in one time window: counts, sums and samples."""

    account = models.ForeignKey(
        "devices.StorageAccount", on_delete=models.CASCADE, related_name="log_aggregates"
    )
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    operation = models.CharField(max_length=64, blank=True)
    status_class = models.CharField(max_length=1, blank=True)
    auth_type = models.CharField(max_length=20, blank=True)
    principal_kind = models.CharField(max_length=20, blank=True)
    principal_id = models.CharField(max_length=200, blank=True)
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
    status_counts = models.JSONField(default=dict)
    distinct_objects = models.PositiveIntegerField(default=0)
    sample_objects = models.JSONField(default=list)
    sample_request_ids = models.JSONField(default=list)
    # sorted 8-byte digests of the distinct objects, so that merging keeps distinct_objects exact
    object_digests = models.BinaryField(default=b"", editable=False)
    source_blob = models.CharField(max_length=1100, blank=True)
    group_key = models.CharField(max_length=32, default="", editable=False)

    IDENTITY = (
        "operation", "status_class", "auth_type", "principal_kind", "principal_id", "upn", "app_id",
        "client_ip", "user_agent", "container", "object_key",
    )  # fmt: skip
    TIMES = ("window_start", "window_end", "first_time", "last_time")
    SUMS = ("count", "request_bytes", "response_bytes", "latency_ms_sum", "server_ms_sum")
    MINS = ("request_bytes_min", "response_bytes_min", "latency_ms_min", "server_ms_min")
    MAXS = ("request_bytes_max", "response_bytes_max", "latency_ms_max", "server_ms_max")

    class Meta:
        ordering = ["window_start"]
        constraints = [
            # group_key first: a batch looks its rows up by account and group_key__in.
            models.UniqueConstraint(
                fields=["account", "group_key", "window_start", "kind"],
                name="uniq_log_aggregate_group",
                condition=~models.Q(group_key=""),
            )
        ]
        indexes = [
            models.Index(fields=["account", "principal_id", "window_start"], name="agg_account_principal"),
            models.Index(fields=["account", "window_start"], name="agg_account_window"),
        ]

    def __str__(self):
        return f"{self.operation} ×{self.count} {self.principal_kind}:{self.principal_id} {self.window_start}"

    @classmethod
    def key_of(cls, record):
        """A digest of the policy's key values (blank when the policy ignores a field)."""
        text = "\x1f".join(str(record[name]) for name in cls.IDENTITY)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    @property
    def slot(self):
        return (self.kind, self.window_start, self.group_key)

    def as_record(self, names):
        """The aggregate as the engine's record dict (keys `names`), times as ISO text."""
        return {
            name: getattr(self, name).isoformat() if name in self.TIMES else getattr(self, name)
            for name in names
        }

    def merge(self, other):
        """Fold another aggregate of the same group and window into this one, losing nothing countable."""
        for name in self.SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for names, pick in ((self.MINS, min), (self.MAXS, max)):
            for name in names:
                setattr(self, name, pick(getattr(self, name), getattr(other, name)))
        self.first_time, self.last_time = (
            min(self.first_time, other.first_time),
            max(self.last_time, other.last_time),
        )
        self.status_counts = dict(
            sorted((Counter(self.status_counts) + Counter(other.status_counts)).items())
        )
        self.distinct_objects, self.object_digests = merged_distinct(self, other)
        self.sample_objects = sorted({*self.sample_objects, *other.sample_objects})[: aggregate.SAMPLES]
        ids = self.sample_request_ids + [
            i for i in other.sample_request_ids if i not in self.sample_request_ids
        ]
        self.sample_request_ids = ids[: aggregate.SAMPLE_IDS]


def merged_distinct(one, other):
    """(distinct objects, their digests) of two aggregates of one group: the union of their object
    digests. Rows stored before digests were kept count exactly while each one's samples hold all its
    objects (always so when the policy keys by object), else as the larger count, a lower bound."""
    mine, theirs = bytes(one.object_digests), bytes(other.object_digests)
    if len(mine) == 8 * one.distinct_objects and len(theirs) == 8 * other.distinct_objects:
        union = sorted({*_chunks(mine), *_chunks(theirs)})
        return len(union), b"".join(union)
    union = {*one.sample_objects, *other.sample_objects}
    complete = all(a.distinct_objects == len(a.sample_objects) for a in (one, other))
    return (len(union) if complete else max(one.distinct_objects, other.distinct_objects, len(union))), b""


def _chunks(digests):
    return (digests[i : i + 8] for i in range(0, len(digests), 8))


class DailyVolume(models.Model):
    """Per account and day: raw log lines and bytes read, aggregates stored, estimated billable size."""

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

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="uniq_daily_volume")]

    def __str__(self):
        return f"{self.account} {self.day}"


def yearly_cost(mb_per_day, price_per_gb=None, mb_per_gb=None, days_per_year=None):
    """Log Analytics $/year for a daily volume in MB (docs/azure-formats.md §7)."""
    price = settings.LOG_ANALYTICS_PRICE_PER_GB if price_per_gb is None else price_per_gb
    per_gb = settings.LOG_ANALYTICS_MB_PER_GB if mb_per_gb is None else mb_per_gb
    days = settings.LOG_ANALYTICS_DAYS_PER_YEAR if days_per_year is None else days_per_year
    return mb_per_day / per_gb * price * days
