"""Storage log hours that could no longer be read become a finding of the device, with what happened.

A finding stays open while an account lost hours within the last STORAGE_LOGS_LOST_WINDOW, and resolves
itself afterwards (the customer was told when it opened)."""

from django.conf import settings

from devices.checks import Found
from devices.choices import FindingKind
from devices.findings import reconcile
from storage_logs.models import AccountIngest


def refresh_lost_hours(device, now, reasons=None):
    """Open or refresh a finding per account of `device` that lost hours recently; resolve the others."""
    recent = AccountIngest.objects.filter(
        account__device=device, lost_at__gte=now - settings.STORAGE_LOGS_LOST_WINDOW
    ).select_related("account")
    found = [
        Found(
            FindingKind.LOG_HOURS_LOST,
            state.account.name,
            facts=(("hours", str(state.lost_hours)), ("reason", (reasons or {}).get(state.account_id, ""))),
        )
        for state in recent
    ]
    reconcile(device, found, checked={FindingKind.LOG_HOURS_LOST}, now=now)
