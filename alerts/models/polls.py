"""What each poll of Azure brought: its counts and errors, and the alerts it could not read."""

from django.db import models
from django.utils import timezone

from alerts.choices import POLL_COLOURS, PollOutcome, colour
from devices.models import Device


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
