"""Turn what the health checks found into Finding rows: open new ones, refresh open ones, resolve fixed ones.

Each opening and each resolution notifies exactly once, even when two runs of the same device overlap.
"""

from django.conf import settings
from django.db import IntegrityError, transaction

from devices import notifications
from devices.choices import FindingKind, NotificationEvent
from devices.fixes import advice_for
from devices.models import Finding

# Findings other tasks own: staleness (devices.tasks) and lost storage log hours (storage_logs).
CHECKED_BY_INVENTORY = frozenset(FindingKind) - {FindingKind.DATA_STALE, FindingKind.LOG_HOURS_LOST}


def reconcile(device, found, *, checked, unsure=frozenset(), now):
    """Open or refresh each of `found`; resolve open findings of `checked` kinds that were not found."""
    open_now = {(f.kind, f.subject): f for f in device.findings.open()}
    for item in found:
        text = advice_fields(item, device)
        current = open_now.pop((item.kind, item.subject), None)
        if current is None:
            open_finding(device, item, text, now)
        else:
            Finding.objects.filter(pk=current.pk).update(last_seen_at=now, **text)
    for finding in open_now.values():
        if finding.kind in checked and not ({finding.subject, finding.subscription_id} & set(unsure)):
            resolve(finding, now)


def advice_fields(item, device):
    advice = advice_for(item, device, settings.BASELINE_DAYS)
    return {
        "title": advice.title[:300],
        "explanation": advice.explanation,
        "portal_steps": advice.portal,
        "cli_command": advice.cli,
    }


def open_finding(device, item, text, now):
    try:
        with transaction.atomic():
            finding = Finding.objects.create(
                device=device,
                kind=item.kind,
                severity=Finding.severity_of(item.kind),
                subject=item.subject[:500],
                subscription_id=item.subscription_id,
                first_seen_at=now,
                last_seen_at=now,
                **text,
            )
    except IntegrityError:
        return None  # another run of this device opened it a moment ago (and notified)
    notifications.notify(finding, NotificationEvent.OPENED)
    return finding


def resolve(finding, now):
    if Finding.objects.filter(pk=finding.pk, resolved_at__isnull=True).update(resolved_at=now):
        finding.resolved_at = now
        notifications.notify(finding, NotificationEvent.RESOLVED)
