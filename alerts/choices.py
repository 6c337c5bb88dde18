"""Choices for alerts, each with its label and colour; templates read the colour from here."""

from django.db import models


class Severity(models.TextChoices):
    INFORMATIONAL = "informational", "Informational"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


SEVERITY_COLOURS = {"informational": "#475467", "low": "#a68b00", "medium": "#c4640a", "high": "#b42318"}


class AzureStatus(models.TextChoices):
    """The status Azure holds for the alert (Defender for Cloud's own workflow)."""

    ACTIVE = "Active", "Active"
    IN_PROGRESS = "InProgress", "In progress"
    RESOLVED = "Resolved", "Resolved"
    DISMISSED = "Dismissed", "Dismissed"


AZURE_STATUS_COLOURS = {
    "Active": "#b42318",
    "InProgress": "#1f5fbf",
    "Resolved": "#067647",
    "Dismissed": "#667085",
}


class TriageStatus(models.TextChoices):
    """The SOC's own triage state."""

    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


TRIAGE_COLOURS = {"new": "#b42318", "in_progress": "#1f5fbf", "resolved": "#067647", "dismissed": "#667085"}

# Triage status -> the Azure status the write-back asks for, and back.
TRIAGE_TO_AZURE = {
    "new": AzureStatus.ACTIVE,
    "in_progress": AzureStatus.IN_PROGRESS,
    "resolved": AzureStatus.RESOLVED,
    "dismissed": AzureStatus.DISMISSED,
}
AZURE_TO_TRIAGE = {azure: triage for triage, azure in TRIAGE_TO_AZURE.items()}


class PollOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    PARTIAL = "partial", "Partial (some pages failed)"
    FAILED = "failed", "Failed"


POLL_COLOURS = {"running": "#1f5fbf", "ok": "#067647", "partial": "#c4640a", "failed": "#b42318"}


class ChangeSource(models.TextChoices):
    AZURE = "azure", "Azure (poll)"
    IMPORT = "import", "Import"
    ANALYST = "analyst", "Analyst"


def colour(mapping, value):
    return mapping.get(value, "#475467")
