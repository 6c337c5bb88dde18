"""Finding kinds, severities and run outcomes, with their labels and colours (templates read them here).

A colour is the name of a tone in ascmon/static/ascmon/style.css (`tone-<colour>`), as in alerts/choices.py.
"""

from django.db import models


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
SEVERITY_COLOURS = {Severity.HIGH: "high", Severity.MEDIUM: "medium", Severity.LOW: "low"}


class FindingKind(models.TextChoices):
    CREDENTIALS_REJECTED = "credentials_rejected", "Credentials rejected"
    SUBSCRIPTION_MISSING = "subscription_missing", "Subscription missing"
    SUBSCRIPTION_DISABLED = "subscription_disabled", "Subscription not enabled"
    ALERTS_FORBIDDEN = "alerts_forbidden", "No read access to alerts"
    DEFENDER_OFF = "defender_off", "Defender off everywhere"
    PLAN_OFF = "plan_off", "Defender plan off for existing resources"
    READ_LOGGING_OFF = "read_logging_off", "Storage read logging off"
    RETENTION_TOO_SHORT = "retention_too_short", "Log retention too short"
    DATA_STALE = "data_stale", "Data stale"
    LOG_HOURS_LOST = "log_hours_lost", "Storage log hours lost"
    ACTIVITY_LOG_FORBIDDEN = "activity_log_forbidden", "No read access to the Activity Log"
    EVIDENCE_TOO_SHORT = "evidence_too_short", "Raw log lines kept too briefly"


KIND_SEVERITY = {
    FindingKind.CREDENTIALS_REJECTED: Severity.HIGH,
    FindingKind.SUBSCRIPTION_MISSING: Severity.HIGH,
    FindingKind.SUBSCRIPTION_DISABLED: Severity.MEDIUM,
    FindingKind.ALERTS_FORBIDDEN: Severity.HIGH,
    FindingKind.DEFENDER_OFF: Severity.HIGH,
    FindingKind.PLAN_OFF: Severity.MEDIUM,
    FindingKind.READ_LOGGING_OFF: Severity.MEDIUM,
    FindingKind.RETENTION_TOO_SHORT: Severity.LOW,
    FindingKind.DATA_STALE: Severity.MEDIUM,
    FindingKind.LOG_HOURS_LOST: Severity.MEDIUM,
    FindingKind.ACTIVITY_LOG_FORBIDDEN: Severity.MEDIUM,
    FindingKind.EVIDENCE_TOO_SHORT: Severity.LOW,
}
# Findings that mean the app registration lacks a role or a working secret: onboarding is not finished.
PERMISSION_KINDS = frozenset(
    {FindingKind.CREDENTIALS_REJECTED, FindingKind.SUBSCRIPTION_MISSING, FindingKind.ALERTS_FORBIDDEN}
)


class RunOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCESS = "success", "Succeeded"
    PARTIAL = "partial", "Partly failed"
    FAILED = "failed", "Failed"


RUN_COLOURS = {
    RunOutcome.RUNNING: "progress",
    RunOutcome.SUCCESS: "ok",
    RunOutcome.PARTIAL: "medium",
    RunOutcome.FAILED: "high",
}


class NotificationEvent(models.TextChoices):
    OPENED = "opened", "Opened"
    RESOLVED = "resolved", "Resolved"


EVENT_COLOURS = {NotificationEvent.OPENED: "high", NotificationEvent.RESOLVED: "ok"}


class SampleOutcome(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SENDING = "sending", "Asking Azure"
    SENT = "sent", "Accepted by Azure"
    FAILED = "failed", "Refused"
