"""Triage writes, one path for one alert and for thousands: set-based updates, each change in the alert's
timeline and the audit trail, comments, and the status written back to Azure where the device opts in.

Azure receives the status only: its alerts API has no classification, assignee or comment
(docs/azure-formats.md §1.7).
"""

from django.db import transaction
from django.utils import timezone

from alerts.choices import ChangeSource
from alerts.models import Alert, AlertChange, AuditEvent, Comment, DeviceAlertSettings

# Ids per statement: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500


def batched(items, size):
    """itertools.batched, which Python 3.11 lacks."""
    return (items[start : start + size] for start in range(0, len(items), size))


# How the old value of each field is read for the timeline.
OLD_VALUE = {
    "triage_status": "triage_status",
    "assignee": "assignee__username",
    "classification": "classification",
    "determination": "determination",
}


def apply(alerts, user, changes, comment=""):
    """Set `changes` ({field: value}, the assignee a user or None) on every alert of the queryset `alerts`
    whose value differs, add `comment` to each, and queue the write-back of changed statuses.
    Returns (alerts changed, alerts commented)."""
    ids = list(alerts.values_list("pk", flat=True))
    changed, status_changed = set(), []
    with transaction.atomic():
        for chunk in batched(ids, CHUNK):
            for field, value in changes.items():
                done = change_field(chunk, field, value, user, bulk=len(ids) > 1)
                changed.update(done)
                if field == "triage_status":
                    status_changed += done
            if comment:
                add_comments(chunk, user, comment)
    queue_write_back(status_changed, user)
    return len(changed), len(ids) if comment else 0


def change_field(ids, field, value, user, bulk=False):
    """One field on these alerts: one read of the old values, one UPDATE, the changes in bulk."""
    column, stored = ("assignee_id", value.pk if value else None) if field == "assignee" else (field, value)
    differ = Alert.objects.filter(pk__in=ids).exclude(**{column: stored})
    olds = list(differ.values_list("pk", OLD_VALUE[field]))
    if not olds:
        return []
    now, new = timezone.now(), "" if value is None else str(value)
    Alert.objects.filter(pk__in=[pk for pk, _ in olds]).update(**{column: stored, "updated_at": now})
    AlertChange.objects.bulk_create(
        AlertChange(
            alert_id=pk, at=now, field=field, old=old or "", new=new, source=ChangeSource.ANALYST, user=user
        )
        for pk, old in olds
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=now,
            user=user,
            alert_id=pk,
            action=f"changed {field}",
            detail={"old": old or "", "new": new, **({"bulk": True} if bulk else {})},
        )
        for pk, old in olds
    )
    return [pk for pk, _ in olds]


def add_comments(ids, user, body):
    now = timezone.now()
    comments = Comment.objects.bulk_create(
        Comment(alert_id=pk, author=user, body=body, created_at=now) for pk in ids
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(at=now, user=user, alert_id=c.alert_id, action="commented", detail={"comment": c.pk})
        for c in comments
    )


def queue_write_back(alert_ids, user):
    """One task for the alerts whose device writes status back to Azure; the next poll confirms it."""
    opted_in = DeviceAlertSettings.objects.filter(write_back_status=True).values("device_id")
    alert_ids = list(alert_ids)
    ids = [
        pk
        for chunk in batched(alert_ids, CHUNK)
        for pk in Alert.objects.filter(pk__in=chunk, device__in=opted_in).values_list("pk", flat=True)
    ]
    if ids:
        from django_q.tasks import async_task

        async_task("alerts.tasks.write_back_statuses", ids, user.pk)
