"""What else, outside storage: the Azure Activity Log beside an alert's storage activity.

The alert page loads this partial with htmx (one Azure round trip or two should not hold up the page).
It asks ARM (ascmon/azure/activity.py) for what the alert's principal did in the subscription around the
alert window, and for every control-plane action on the alert's storage account (listKeys, SAS, role
assignments, network rules, diagnostic and logging settings), merges them into one timeline and keeps it
in the cache for a few minutes; Azure's errors are shown, never cached.
"""

import hashlib
from datetime import timedelta

from django.core.cache import cache
from django.shortcuts import get_object_or_404, render

from alerts.models import Alert
from ascmon.azure import activity
from ascmon.azure.errors import AzureError, BadCredentials, Forbidden
from ascmon.roles import ANALYST, role_required
from storage_logs import context

CACHE_SECONDS = 300
BEFORE, AFTER = timedelta(hours=24), timedelta(hours=2)
MAX_CALLERS = 3
# Control-plane actions on an account an analyst looks for first: (operation suffix, what it means).
NOTABLE = (
    ("/listkeys/action", "account keys listed"),
    ("/listaccountsas/action", "account SAS made"),
    ("/listservicesas/action", "service SAS made"),
    ("roleassignments/write", "role assigned"),
    ("roleassignments/delete", "role removed"),
    ("storageaccounts/write", "account settings (network rules, public access)"),
    ("containers/write", "container access"),
    ("blobservices/write", "blob service settings (soft delete, logging)"),
    ("diagnosticsettings/write", "diagnostic settings changed"),
    ("diagnosticsettings/delete", "diagnostic settings deleted"),
)


@role_required(ANALYST)
def alert_activity(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("device", "details"), pk=pk)
    return render(request, "alerts/_activity.html", {"alert": alert, **timeline_for(alert)})


def timeline_for(alert):
    start, end = context.alert_window(alert)
    since, until = start - BEFORE, end + AFTER
    base = {"since": since, "until": until, "window_start": start, "window_end": end}
    if not alert.subscription_id:
        return {**base, "problem": "The alert names no subscription, so there is no Activity Log to read."}
    account = context.account_of(alert)
    callers = callers_of(alert, account, start, end)
    resource_id = account.resource_id if account else ""
    key = cache_key(alert, callers, resource_id, since, until)
    found = cache.get(key)
    if found is None:
        try:
            found = fetch(alert, callers, resource_id, since, until)
        except AzureError as error:
            return {**base, "callers": callers, **explain(alert, error)}
        cache.set(key, found, CACHE_SECONDS)
    events = [{**e, "in_window": bool(e["time"] and start <= e["time"] < end)} for e in found]
    return {**base, "callers": callers, "account": account, "events": events}


def callers_of(alert, account, start, end):
    """Whom to ask about: the Entra ID user the alert names, and the UPNs the storage logs show for the
    alert's client IP in the window (a SAS or key has no caller: the account's own events answer)."""
    typed = context.typed(alert)
    named = str(typed.get("azure_ad_user") or "")
    callers = [named] if "@" in named else []
    address = typed.get("client_ip") or ""
    if account is not None and address:
        from storage_logs.models import LogAggregate

        upns = (
            LogAggregate.objects.filter(
                account=account, client_ip=address, window_start__lt=end, window_end__gt=start
            )
            .exclude(upn="")
            .values_list("upn", flat=True)
            .distinct()[:MAX_CALLERS]
        )
        callers += [upn for upn in upns if upn not in callers]
    return callers[:MAX_CALLERS]


def cache_key(alert, callers, resource_id, since, until):
    parts = (alert.device.tenant_id, alert.subscription_id, *callers, resource_id, since, until)
    return "activity:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def fetch(alert, callers, resource_id, since, until):
    """The merged timeline, newest first: each event once, marked with why it is shown."""
    tenant, sub = alert.device.tenant(), alert.subscription_id
    merged = {}
    for caller in callers:
        for event in activity.list_events(tenant, sub, since, until, caller=caller):
            merged.setdefault(event["event_id"], {**event, "reasons": []})["reasons"].append(f"by {caller}")
    if resource_id:
        for event in activity.list_events(tenant, sub, since, until, resource_id=resource_id):
            merged.setdefault(event["event_id"], {**event, "reasons": []})["reasons"].append("on the account")
    for event in merged.values():
        operation = event["operation"].lower()
        event["notable"] = next((label for suffix, label in NOTABLE if operation.endswith(suffix)), "")
        event["properties"] = sorted((k, str(v)) for k, v in event["properties"].items() if k != "statusCode")
    return sorted(merged.values(), key=lambda e: (e["time"] is not None, e["time"]), reverse=True)


def explain(alert, error):
    """What to show instead of the timeline: the error in words and, when ascmon lacks access, the fix."""
    sub = alert.subscription_id
    if isinstance(error, Forbidden):
        message = (
            f"ascmon's app registration may not read the Activity Log of subscription {sub}. Give its "
            "service principal the Reader role on the subscription (the device page lists this finding)."
        )
        return {"error": message, "error_detail": str(error), "retryable": False, "forbidden": True}
    if isinstance(error, BadCredentials):
        message = "Azure rejected the device's credentials; the device page says how to fix them."
        return {"error": message, "error_detail": str(error), "retryable": False}
    message = "Azure did not answer the Activity Log query." + (" Try again." if error.retryable else "")
    return {"error": message, "error_detail": str(error), "retryable": error.retryable}
