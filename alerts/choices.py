"""Choices for alerts, each with its label and colour; templates read the colour from here.

A colour is the name of a tone in ascmon/static/ascmon/style.css (`tone-<colour>`), as in devices/choices.py:
high, medium, low, info, ok, progress, neutral. Each tone has at least 4.5:1 contrast on white.
"""

from django.db import models


class Severity(models.TextChoices):
    INFORMATIONAL = "informational", "Informational"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


SEVERITY_COLOURS = {"informational": "info", "low": "low", "medium": "medium", "high": "high"}


class AzureStatus(models.TextChoices):
    """The status Azure holds for the alert (Defender for Cloud's own workflow)."""

    ACTIVE = "Active", "Active"
    IN_PROGRESS = "InProgress", "In progress"
    RESOLVED = "Resolved", "Resolved"
    DISMISSED = "Dismissed", "Dismissed"


AZURE_STATUS_COLOURS = {"Active": "high", "InProgress": "progress", "Resolved": "ok", "Dismissed": "neutral"}


class TriageStatus(models.TextChoices):
    """The SOC's own triage state."""

    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


TRIAGE_COLOURS = {"new": "high", "in_progress": "progress", "resolved": "ok", "dismissed": "neutral"}

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


POLL_COLOURS = {"running": "progress", "ok": "ok", "partial": "medium", "failed": "high"}


class ChangeSource(models.TextChoices):
    AZURE = "azure", "Azure (poll)"
    IMPORT = "import", "Import"
    ANALYST = "analyst", "Analyst"


def colour(mapping, value):
    return mapping.get(value, "neutral")
