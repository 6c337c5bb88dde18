"""The alerts app's models, one module per subject: the alert and its parts, suppression rules, the SOC's
own record (comments, audit, pivots, write-back settings), and polls."""

from alerts.models.alert import (
    DETAIL_FIELDS,
    Alert,
    AlertChange,
    AlertDetails,
    AlertEntity,
    AlertQuerySet,
    AlertType,
)
from alerts.models.polls import PollRun, RejectedAlert
from alerts.models.rules import SuppressionRule, SuppressionRuleQuerySet
from alerts.models.triage import AuditEvent, Comment, DeviceAlertSettings, PortalPivot

__all__ = [
    "DETAIL_FIELDS",
    "Alert",
    "AlertChange",
    "AlertDetails",
    "AlertEntity",
    "AlertQuerySet",
    "AlertType",
    "AuditEvent",
    "Comment",
    "DeviceAlertSettings",
    "PollRun",
    "PortalPivot",
    "RejectedAlert",
    "SuppressionRule",
    "SuppressionRuleQuerySet",
]
