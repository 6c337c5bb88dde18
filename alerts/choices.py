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


class Classification(models.TextChoices):
    """How an analyst closes an alert, as Defender XDR records it (docs/azure-formats.md §1.7)."""

    TRUE_POSITIVE = "truePositive", "True positive"
    BENIGN = "informationalExpectedActivity", "Benign true positive (expected activity)"
    FALSE_POSITIVE = "falsePositive", "False positive"


class Determination(models.TextChoices):
    """What the analyst determined; each classification allows some (DETERMINATIONS)."""

    MULTI_STAGED_ATTACK = "multiStagedAttack", "Multistage attack"
    MALICIOUS_USER_ACTIVITY = "maliciousUserActivity", "Malicious user activity"
    COMPROMISED_ACCOUNT = "compromisedAccount", "Compromised account"
    MALWARE = "malware", "Malware"
    PHISHING = "phishing", "Phishing"
    UNWANTED_SOFTWARE = "unwantedSoftware", "Unwanted software"
    SECURITY_TESTING = "securityTesting", "Security test"
    LINE_OF_BUSINESS_APPLICATION = "lineOfBusinessApplication", "Line-of-business application"
    CONFIRMED_ACTIVITY = "confirmedActivity", "Confirmed activity"
    NOT_MALICIOUS = "notMalicious", "Not malicious"
    NOT_ENOUGH_DATA = "notEnoughDataToValidate", "Not enough data to validate"
    OTHER = "other", "Other"


D = Determination
DETERMINATIONS = {
    Classification.TRUE_POSITIVE: (
        D.MULTI_STAGED_ATTACK,
        D.MALICIOUS_USER_ACTIVITY,
        D.COMPROMISED_ACCOUNT,
        D.MALWARE,
        D.PHISHING,
        D.UNWANTED_SOFTWARE,
        D.OTHER,
    ),
    Classification.BENIGN: (
        D.SECURITY_TESTING,
        D.LINE_OF_BUSINESS_APPLICATION,
        D.CONFIRMED_ACTIVITY,
        D.OTHER,
    ),
    Classification.FALSE_POSITIVE: (D.NOT_MALICIOUS, D.NOT_ENOUGH_DATA, D.OTHER),
}
CLASSIFICATION_COLOURS = {
    "truePositive": "high",
    "informationalExpectedActivity": "info",
    "falsePositive": "ok",
}
# Triage status -> the Azure status the write-back asks for, and back: the ARM alerts API takes a status
# only (docs/azure-formats.md §1.7).
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
