"""Decision support: what is usual for the principal behind a Storage.* anomaly alert.

A registry maps alert-type prefixes to context providers; a new alert type gets context by registering
one more provider. Every number comes from LogAggregate rows (never raw lines), with a fixed number of
queries whatever the volume.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from storage_logs import baseline, charts
from storage_logs.models import LogAggregate

PROVIDERS = []
ACCOUNT_IN_ID = re.compile(r"/storageaccounts/([^/]+)", re.IGNORECASE)


@dataclass
class Provider:
    """How one family of storage alerts is explained: which operations matter and what to call them."""

    prefixes: tuple
    title: str
    focus: str = "read"  # aggregate kind whose volume the chart and the ratio are about
    fn: object = None


@dataclass
class UsualContext:
    """Everything the alert page shows under "What is usual"; `problem` replaces it when logs are missing."""

    provider: Provider
    account: object = None
    problem: str = ""
    note: str = ""
    account_baseline: object = None
    fix_url: str = ""
    fix_label: str = ""
    who: dict = field(default_factory=dict)
    summary: str = ""
    ratio: float | None = None
    window_bytes: int = 0
    baseline: object = None
    hourly: list = field(default_factory=list)
    bytes_figure: dict = field(default_factory=dict)
    operations_figure: dict = field(default_factory=dict)
    containers: list = field(default_factory=list)
    sightings: list = field(default_factory=list)
    elsewhere: list = field(default_factory=list)
    related_alerts: list = field(default_factory=list)


def register(*prefixes, title, focus="read", fn=None):
    """Give alert types starting with any of `prefixes` (case-insensitive) context; `fn(alert, provider)`
    defaults to the principal's usual behaviour on the alert's storage account."""
    PROVIDERS.append(Provider(tuple(p.lower() for p in prefixes), title, focus, fn or principal_context))
    PROVIDERS.sort(key=lambda p: -max(len(x) for x in p.prefixes))


def provider_for(alert_type):
    name = alert_type.lower().removeprefix("simulated_")
    for candidate in PROVIDERS:
        if name.startswith(candidate.prefixes):
            return candidate
    return None


def context_for(alert):
    """The UsualContext for an alert, or None when no provider knows its type."""
    chosen = provider_for(alert.alert_type)
    if chosen is None:
        return None
    return chosen.fn(alert, chosen)


# --- the shared computation ----------------------------------------------------------------------------


def typed(alert):
    details = getattr(alert, "details", None)
    return (details.typed_properties if details else {}) or {}


def account_of(alert):
    """The device's storage account the alert is about: from its resource ids, else its compromised entity."""
    from devices.models import StorageAccount

    details = getattr(alert, "details", None)
    names = [
        m.group(1)
        for rid in (details.resource_ids if details else [])
        for m in [ACCOUNT_IN_ID.search(str(rid))]
        if m
    ]
    names += [typed(alert).get("storage_account") or "", alert.compromised_entity]
    for name in filter(None, names):
        account = StorageAccount.objects.filter(device=alert.device_id, name__iexact=name).first()
        if account:
            return account
    return None


def alert_window(alert):
    start = alert.start_time or alert.time_generated or timezone.now()
    end = alert.end_time or start
    start = baseline.floor_hour(start)
    end = max(baseline.floor_hour(end) + baseline.HOUR, start + baseline.HOUR)
    return start, end


def principal_context(alert, spec):
    result = UsualContext(provider=spec)
    account = result.account = account_of(alert)
    if account is None:
        result.problem = (
            f"The storage account {alert.compromised_entity or '(not named)'} is not in this device's "
            "inventory, so its logs are not read."
        )
        return result
    start, end = alert_window(alert)
    if missing_logs(result, account, start, end):
        return result
    in_window = LogAggregate.objects.filter(account=account, window_start__lt=end, window_end__gt=start)
    client_ip = typed(alert).get("client_ip") or ""
    who = pick_principal(in_window, client_ip, spec.focus)
    if who is None:
        # The alert's client left no line in the window: the account's own usual still answers "is this odd?"
        who = account_wide(in_window)
        result.note = (
            f"The alert's client {client_ip or ''} made no logged request to {account.name} in the alert "
            "window; the numbers below are for all principals on the account."
        ).replace("client  made", "client made")
    result.who = who
    fill_baseline(result, account, who, start, end, spec)
    fill_sightings(result, account, who, start)
    fill_elsewhere(result, alert, account, who, start, end)
    return result


def missing_logs(result, account, start, end):
    """Say plainly why there is nothing to show, and link the device finding that explains the fix."""
    from devices.choices import FindingKind

    logged = account.logging_read or account.diagnostic_logs
    if not logged:
        result.problem = (
            f"Read logging is off on storage account {account.name}, so ascmon cannot tell who read what."
        )
        return link_finding(result, account, FindingKind.READ_LOGGING_OFF)
    retention = account.logging_retention_days
    if retention and retention < settings.BASELINE_DAYS and not account.diagnostic_logs:
        result.problem = ""  # still show what there is; the finding says how to keep more
        link_finding(result, account, FindingKind.RETENTION_TOO_SHORT)
    newest = LogAggregate.objects.filter(account=account).aggregate(newest=Max("window_end"))["newest"]
    if newest is None or newest < start:
        result.problem = (
            f"Logs of storage account {account.name} have not been ingested up to the alert window yet"
            + (f" (newest: {newest:%Y-%m-%d %H:%M} UTC)." if newest else ".")
        )
        result.fix_url = reverse("devices:detail", args=[account.device_id])
        result.fix_label = "See the device's ingestion status"
        return True
    return False


def link_finding(result, account, kind):
    from devices.models import Finding

    open_findings = Finding.objects.open().filter(device=account.device_id, kind=kind)
    finding = open_findings.filter(subject__icontains=account.name).first() or open_findings.first()
    base = reverse("devices:detail", args=[account.device_id])
    result.fix_url = f"{base}#finding-{finding.pk}" if finding else f"{base}#findings"
    result.fix_label = finding.title if finding else "How to turn logging on"
    return True


def pick_principal(in_window, client_ip, focus):
    """The principal that moved most bytes in the window, from the alert's client IP when it names one."""
    rows = in_window.filter(client_ip=client_ip) if client_ip else in_window
    if focus != "read" or not rows.filter(kind="read").exists():
        focus_rows = rows.filter(kind=focus) if rows.filter(kind=focus).exists() else rows
    else:
        focus_rows = rows.filter(kind="read")
    top = (
        focus_rows.values("principal_kind", "principal_id")
        .annotate(moved=Sum("response_bytes"), ops=Sum("count"))
        .order_by("-moved", "-ops")
        .first()
    )
    if top is None:
        return None
    mine = in_window.filter(principal_kind=top["principal_kind"], principal_id=top["principal_id"])
    return {
        "kind": top["principal_kind"],
        "id": top["principal_id"],
        "upns": sorted(set(mine.exclude(upn="").values_list("upn", flat=True))),
        "app_ids": sorted(set(mine.exclude(app_id="").values_list("app_id", flat=True))),
        "ips": sorted(set(mine.exclude(client_ip="").values_list("client_ip", flat=True))),
        "user_agents": sorted(set(mine.exclude(user_agent="").values_list("user_agent", flat=True))),
        "auth_types": sorted(set(mine.exclude(auth_type="").values_list("auth_type", flat=True))),
        "label": principal_label(top["principal_kind"], top["principal_id"]),
    }


def account_wide(in_window):
    """Everyone on the account: used when the alert's client cannot be found in the window's logs."""
    return {
        "kind": None,
        "id": "",
        "upns": [],
        "app_ids": [],
        "ips": [],
        "user_agents": [],
        "auth_types": sorted(set(in_window.exclude(auth_type="").values_list("auth_type", flat=True))),
        "label": "all principals on the account",
    }


def principal_label(kind, principal_id):
    return {
        "account": f"shared key of account {principal_id}",
        "oauth": f"Entra ID object {principal_id}",
        "sas": f"SAS token {principal_id}",
        "anonymous": "anonymous (no credentials)",
    }.get(kind, f"{kind} {principal_id}".strip())


def principal_rows(account, who):
    rows = LogAggregate.objects.filter(account=account)
    if who["kind"] is None:
        return rows
    return rows.filter(principal_kind=who["kind"], principal_id=who["id"])


def hourly_of(rows, since, end, focus):
    """One HourPoint per hour: bytes of the focus kind (read/delete...) and operations by name."""
    hourly = (
        rows.filter(window_start__gte=since, window_start__lt=end)
        .annotate(hour=TruncHour("window_start"))
        .values("hour", "operation", "kind")
        .annotate(moved=Sum("response_bytes"), ops=Sum("count"))
        .order_by("hour")
    )
    data = [(r["hour"], r["operation"], r["moved"] if r["kind"] == focus else 0, r["ops"]) for r in hourly]
    return baseline.hourly_series(data, since, end)


def fill_baseline(result, account, who, start, end, spec):
    since = start - timedelta(days=settings.BASELINE_DAYS)
    series = hourly_of(principal_rows(account, who), since, end, spec.focus)
    before = [point for point in series if point.hour < start]
    during = [point for point in series if point.hour >= start]
    result.baseline = baseline.baseline_of(before, settings.BASELINE_DAYS)
    result.window_bytes = sum(point.bytes_read for point in during)
    result.ratio = baseline.ratio_to_usual(result.window_bytes, end - start, result.baseline)
    if not result.baseline.active_hours and who["kind"] is not None:
        # A principal never seen before: compare with what the whole account usually moves instead.
        everyone = hourly_of(LogAggregate.objects.filter(account=account), since, start, spec.focus)
        result.account_baseline = baseline.baseline_of(everyone, settings.BASELINE_DAYS)
    result.hourly = series
    result.bytes_figure = charts.bytes_read_per_hour(
        series, start, end, p95=result.baseline.p95_bytes_per_hour
    )
    result.operations_figure = charts.operations_per_hour(series, start, end)
    containers = (
        principal_rows(account, who)
        .filter(window_start__gte=since, window_start__lt=end)
        .exclude(container="")
        .values("container")
        .annotate(ops=Sum("count"), moved=Sum("response_bytes"), first=Min("window_start"))
        .order_by("-ops")[:20]
    )
    result.containers = [{**row, "new": row["first"] >= start} for row in containers]
    result.window = (start, end)


def fill_sightings(result, account, who, start):
    """Each IP and user agent of the principal, with the first time the logs show it on this account."""
    mine = principal_rows(account, who)
    sightings = []
    for kind, column, values in (
        ("IP", "client_ip", who["ips"]),
        ("user agent", "user_agent", who["user_agents"]),
    ):
        firsts = dict(
            mine.filter(**{f"{column}__in": values}).values_list(column).annotate(first=Min("first_time"))
        )
        for value in values:
            first = firsts.get(value)
            sightings.append(
                {"kind": kind, "value": value, "first_seen": first, "new": bool(first and first >= start)}
            )
    result.sightings = sightings
    now = result.window[1]  # "first seen today" is relative to the alert, not to when someone reads it
    new = [(s["kind"], s["value"], s["first_seen"]) for s in sightings if s["new"] and s["kind"] == "IP"]
    line = baseline.summary_line(
        result.window_bytes, result.window[1] - result.window[0], result.baseline, new, now=now
    )
    ratio = result.account_baseline and baseline.ratio_to_usual(
        result.window_bytes, result.window[1] - result.window[0], result.account_baseline
    )
    if ratio:
        usual = baseline.human_bytes(result.account_baseline.p95_bytes_per_hour)
        line += f"; the whole account usually moves {usual} an hour at the 95th percentile ({ratio:,.0f}×)"
    result.summary = verb_for(result.provider.focus, line)


def verb_for(focus, line):
    return line if focus == "read" else line.replace("read ", f"{focus}d ", 1)


def fill_elsewhere(result, alert, account, who, start, end):
    """The same principal on the device's other accounts in the window, and other alerts on its entities."""
    from alerts.models import Alert

    if who["kind"] is None:
        return
    result.elsewhere = list(
        LogAggregate.objects.filter(
            account__device=account.device_id,
            principal_kind=who["kind"],
            principal_id=who["id"],
            window_start__lt=end,
            window_end__gt=start,
        )
        .exclude(account=account)
        .values("account__name", "operation")
        .annotate(ops=Sum("count"), moved=Sum("response_bytes"))
        .order_by("account__name", "operation")[:50]
    )
    if not who["ips"]:
        return
    related = (
        Alert.objects.filter(device=alert.device_id)
        .exclude(pk=alert.pk)
        .filter(entities__kind="ip", entities__value__in=who["ips"])
    )
    result.related_alerts = list(related.distinct().order_by("-time_generated")[:10])


# --- the providers: one line per family of storage alerts -------------------------------------------------

register("Storage.Blob_DataExfiltration", "Storage.Files_DataExfiltration", title="Data extracted")
register("Storage.Blob_DeletionAnomaly", "Storage.Files_DeletionAnomaly", title="Deletions", focus="delete")
register(
    "Storage.Blob_GeoAnomaly",
    "Storage.Files_GeoAnomaly",
    "Storage.Blob_SuspiciousIp",
    "Storage.Files_SuspiciousIp",
    "Storage.Blob_TorAnomaly",
    "Storage.Files_TorAnomaly",
    "Storage.Blob_AccountSas",
    title="Access from an unusual place",
)
register(
    "Storage.Blob_ApplicationAnomaly",
    "Storage.Files_ApplicationAnomaly",
    "Storage.Blob_SuspiciousApp",
    "BlobStorageIdmlApplicationAnomaly",
    title="Access by an unusual application",
)
register(
    "Storage.Blob_AnonymousAccessAnomaly", "Storage.Blob_OpenContainersScanning", title="Anonymous access"
)
register("Storage.", title="Storage activity")
