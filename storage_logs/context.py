"""Decision support: what is usual for the principal behind a Storage.* anomaly alert.

A registry maps alert-type prefixes to context providers; a new alert type gets context by registering
one more provider. The alert view asks `context_for(alert)` and hands the UsualContext it returns to its
template as plain values. Every number comes from LogAggregate rows (never raw lines), with a fixed number
of queries whatever the volume; one Comparison feeds the summary line, the numbers and the charts.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from storage_logs import baseline, charts
from storage_logs.models import LogAggregate

PROVIDERS = []
ACCOUNT_IN_ID = re.compile(r"/storageaccounts/([^/]+)", re.IGNORECASE)
ACCOUNT_WIDE = "all principals on the account"


@dataclass
class Provider:
    """How one family of storage alerts is explained: which operations matter and what to call them."""

    prefixes: tuple
    title: str
    focus: str = "read"  # aggregate kind whose volume the chart and the ratio are about
    fn: object = None

    @property
    def verb(self):
        return "read" if self.focus == "read" else f"{self.focus}d"


@dataclass(frozen=True)
class UsualContext:
    """Everything the alert page shows under "What is usual"; `problem` replaces it when logs are missing."""

    provider: Provider
    account: object = None
    problem: str = ""
    note: str = ""
    fix_url: str = ""
    fix_label: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    who: dict = field(default_factory=dict)
    comparison: baseline.Comparison | None = None
    summary: str = ""
    hourly: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)  # history, window, operations: plotly figure dicts
    containers: list = field(default_factory=list)
    sightings: list = field(default_factory=list)
    elsewhere: list = field(default_factory=list)


@dataclass(frozen=True)
class Fix:
    """Why the logs cannot answer (or answer only in part), and the page that says how to fix it."""

    problem: str = ""
    url: str = ""
    label: str = ""


def register(*prefixes, title, focus="read", fn=None):
    """Give alert types starting with any of `prefixes` (case-insensitive) context; `fn(alert, provider,
    labels)` defaults to the principal's usual behaviour on the alert's storage account."""
    PROVIDERS.append(Provider(tuple(p.lower() for p in prefixes), title, focus, fn or principal_context))
    PROVIDERS.sort(key=lambda p: -max(len(x) for x in p.prefixes))


def provider_for(alert_type):
    name = alert_type.lower().removeprefix("simulated_")
    for candidate in PROVIDERS:
        if name.startswith(candidate.prefixes):
            return candidate
    return None


def context_for(alert, labels=None):
    """The UsualContext for an alert, or None when no provider knows its type. `labels` maps an IP to what
    the alert itself says about it ("Tor exit node"), shown next to the IP."""
    chosen = provider_for(alert.alert_type)
    if chosen is None:
        return None
    return chosen.fn(alert, chosen, labels or {})


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


def principal_context(alert, spec, labels):
    account = account_of(alert)
    if account is None:
        problem = (
            f"The storage account {alert.compromised_entity or '(not named)'} is not in this device's "
            "inventory, so its logs are not read."
        )
        return UsualContext(provider=spec, problem=problem)
    start, end = alert_window(alert)
    fix = missing_logs(account, start)
    if fix.problem:
        return UsualContext(spec, account, fix.problem, fix_url=fix.url, fix_label=fix.label)
    in_window = LogAggregate.objects.filter(account=account, window_start__lt=end, window_end__gt=start)
    client_ip = typed(alert).get("client_ip") or ""
    who, note = pick_principal(in_window, client_ip, spec.focus), ""
    if who is None:
        # The alert's client left no line in the window: the account's own usual still answers "is this odd?"
        who = account_wide(in_window)
        client = f"The alert's client {client_ip}" if client_ip else "The alert's client"
        note = (
            f"{client} made no logged request to {account.name} in the alert window; the numbers below are "
            "for all principals on the account."
        )
    who["ip_labels"] = [(ip, labels.get(ip, [])) for ip in who["ips"]]
    series, comparison = compare_window(account, who, start, end, spec)
    sightings = sightings_of(account, who, start, labels)
    new_ips = [(s["kind"], s["value"], s["first_seen"]) for s in sightings if s["new"] and s["kind"] == "IP"]
    # "first seen today" is relative to the alert, not to when someone reads it
    summary = baseline.summary_line(comparison, new_ips, now=end, verb=spec.verb)
    return UsualContext(
        provider=spec,
        account=account,
        note=note,
        fix_url=fix.url,
        fix_label=fix.label,
        window_start=start,
        window_end=end,
        who=who,
        comparison=comparison,
        summary=summary,
        hourly=series,
        figures={
            "history": charts.bytes_per_hour(
                series, start, end, comparison, f"Bytes {spec.verb} per hour", spec.verb
            ),
            "window": charts.around_window(series, start, end, comparison, spec.verb),
            "operations": charts.operations_per_hour(series, start, end),
        },
        containers=containers_of(account, who, start, end),
        sightings=sightings,
        elsewhere=elsewhere_of(account, who, start, end),
    )


def missing_logs(account, start):
    """Why the logs cannot answer (a Fix with a problem), or a Fix that only links how to keep more."""
    from devices.choices import FindingKind

    if not (account.logging_read or account.diagnostic_logs):
        url, label = finding_link(account, FindingKind.READ_LOGGING_OFF)
        problem = (
            f"Read logging is off on storage account {account.name}, so ascmon cannot tell who read what."
        )
        return Fix(problem, url, label)
    newest = LogAggregate.objects.filter(account=account).aggregate(newest=Max("window_end"))["newest"]
    if newest is None or newest < start:
        problem = (
            f"Logs of storage account {account.name} have not been ingested up to the alert window yet"
            + (f" (newest: {newest:%Y-%m-%d %H:%M} UTC)." if newest else ".")
        )
        return Fix(
            problem, reverse("devices:detail", args=[account.device_id]), "See the device's ingestion status"
        )
    retention = account.logging_retention_days
    if retention and retention < settings.BASELINE_DAYS and not account.diagnostic_logs:
        return Fix("", *finding_link(account, FindingKind.RETENTION_TOO_SHORT))  # show what there is
    return Fix()


def finding_link(account, kind):
    """(url, label) of the device's open finding of `kind` about this account, or of its findings."""
    from devices.models import Finding

    open_findings = Finding.objects.open().filter(device=account.device_id, kind=kind)
    finding = open_findings.filter(subject__icontains=account.name).first() or open_findings.first()
    base = reverse("devices:detail", args=[account.device_id])
    if finding:
        return f"{base}#finding-{finding.pk}", finding.title
    return f"{base}#findings", "How to turn logging on"


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
        "label": principal_label(
            top["principal_kind"],
            top["principal_id"],
            mine.exclude(principal_label="").values_list("principal_label", flat=True).first() or "",
        ),
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
        "label": ACCOUNT_WIDE,
    }


def principal_label(kind, principal_id, stored_label=""):
    """Who, in words. A SAS token says what its identity rests on: Azure Monitor logs carry a hash of its
    signature; classic logs only its visible fields (expiry, permissions…): tokens alike in those are one."""
    details = stored_label.removeprefix("SAS token").strip()
    return {
        "account": f"shared key of account {principal_id}",
        "oauth": f"Entra ID object {principal_id}",
        "sas": f"SAS token {principal_id}, identified by the hash of its signature (Azure Monitor logs)",
        "sas_fields": f"SAS token {principal_id} {details}, identified by its visible fields "
        "(classic logs keep no signature)".replace("  ", " "),
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


def compare_window(account, who, start, end, spec):
    """The principal's hourly series over the baseline days and the window, and the one Comparison of the
    window with its usual level (or the whole account's, when the principal has none)."""
    since = start - timedelta(days=settings.BASELINE_DAYS)
    series = hourly_of(principal_rows(account, who), since, end, spec.focus)
    own = baseline.baseline_of([p for p in series if p.hour < start], settings.BASELINE_DAYS)
    window_bytes = sum(point.bytes_read for point in series if point.hour >= start)
    account_baseline = None
    if who["kind"] is not None:  # always read, so the page's query count does not depend on the history
        everyone = hourly_of(LogAggregate.objects.filter(account=account), since, start, spec.focus)
        account_baseline = baseline.baseline_of(everyone, settings.BASELINE_DAYS)
    own_label = "this principal" if who["kind"] is not None else ACCOUNT_WIDE
    comparison = baseline.compare(window_bytes, end - start, own, own_label, account_baseline)
    return series, comparison


def containers_of(account, who, start, end):
    since = start - timedelta(days=settings.BASELINE_DAYS)
    containers = (
        principal_rows(account, who)
        .filter(window_start__gte=since, window_start__lt=end)
        .exclude(container="")
        .values("container")
        .annotate(ops=Sum("count"), moved=Sum("response_bytes"), first=Min("window_start"))
        .order_by("-ops")[:20]
    )
    return [{**row, "new": row["first"] >= start} for row in containers]


def sightings_of(account, who, start, labels):
    """Each IP and user agent of the principal, with the first time the logs show it on this account and
    what the alert says about it."""
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
                {
                    "kind": kind,
                    "value": value,
                    "first_seen": first,
                    "new": bool(first and first >= start),
                    "labels": labels.get(value, []) if kind == "IP" else [],
                }
            )
    return sightings


def elsewhere_of(account, who, start, end):
    """The same principal on the device's other storage accounts in the alert window."""
    if who["kind"] is None:
        return []
    return list(
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
