"""The SOC's own record around alerts: comments, the audit trail, portal pivots, write-back settings."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from alerts.models.alert import Alert
from devices.models import Device


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
