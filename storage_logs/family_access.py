"""The evidence panels of the alert families about who reached the account and from where: SAS token use,
access from an unusual place (Tor, geography, suspicious IP) and by an unusual application. Registry and
shared helpers: storage_logs/families.py; the panels about what happened to the data (malware upload,
public access, deletions) are in storage_logs/family_panels.py.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Min, Q, Sum

from storage_logs.families import (
    ROW_LIMIT,
    Table,
    alert_ip,
    count,
    in_window,
    ip_flags,
    register,
    row,
    size,
    when,
    who,
)
from storage_logs.family_panels import PRINCIPAL
from storage_logs.models import LogAggregate

SAS_KINDS = ("sas", "sas_fields")


@register(
    "Storage.Blob_AccountSas",
    name="sas",
    title="SAS token use",
    question="Where was the token used from, and what did each IP do with it?",
)
def sas(alert, account, start, end, labels):
    address = alert_ip(alert)
    tokens = in_window(account, start, end).filter(principal_kind__in=SAS_KINDS)
    from_ip = tokens.filter(client_ip=address) if address else tokens.none()
    chosen = list(from_ip.values_list("principal_kind", "principal_id").distinct()[:5]) or list(
        tokens.values("principal_kind", "principal_id")
        .annotate(ops=Sum("count"))
        .order_by("-ops")
        .values_list("principal_kind", "principal_id")[:3]
    )
    if not chosen:
        return "No request with a SAS token is in the logs of the alert window.", []
    since = start - timedelta(days=settings.BASELINE_DAYS)
    which = Q()
    for kind, ident in chosen:
        which |= Q(principal_kind=kind, principal_id=ident)
    grouped = (
        LogAggregate.objects.filter(which, account=account, window_start__gte=since, window_start__lt=end)
        .values(*PRINCIPAL, "client_ip", "operation")
        .annotate(
            ops=Sum("count"),
            moved=Sum("response_bytes"),
            first=Min("first_time"),
            last=Max("last_time"),
            in_window=Sum("count", filter=Q(window_start__gte=start)),
        )
        .order_by("first")[:500]
    )
    by_ip = {}
    for r in grouped:
        key = (who(r), r["client_ip"])
        seen = by_ip.setdefault(
            key,
            {
                "ops": 0,
                "window": 0,
                "bytes": 0,
                "first": r["first"],
                "last": r["last"],
                "operations": defaultdict(int),
            },
        )
        seen["ops"] += r["ops"]
        seen["window"] += r["in_window"] or 0
        seen["bytes"] += r["moved"]
        seen["first"], seen["last"] = min(seen["first"], r["first"]), max(seen["last"], r["last"])
        seen["operations"][r["operation"]] += r["ops"]
    rows = [
        row(
            token,
            ip,
            ", ".join(f"{op} {n:,}" for op, n in sorted(s["operations"].items())),
            count(s["window"]),
            count(s["ops"]),
            size(s["bytes"]),
            when(s["first"]),
            when(s["last"]),
            flags=ip_flags(ip, labels, address, s["first"], start),
        )
        for (token, ip), s in by_ip.items()
    ][:ROW_LIMIT]
    new = [ip for (token, ip), s in by_ip.items() if s["first"] >= start]
    summary = (
        f"{len(chosen)} SAS token(s) seen in the alert window were used from "
        f"{len({ip for _, ip in by_ip})} IP(s) "
        f"in the {settings.BASELINE_DAYS} days up to it"
        + (
            f"; first seen in the window: {', '.join(sorted(new))}."
            if new
            else "; no IP is new in the window."
        )
    )
    return summary, [
        Table(
            "evidence-sas-ips",
            "The token's requests by IP",
            (
                "Token",
                "IP",
                "Operations",
                "In the window",
                f"In {settings.BASELINE_DAYS} days",
                "Volume",
                "First",
                "Last",
            ),
            rows,
            note="Classic logs hide a token's signature: tokens alike in their visible fields count as one.",
        ),
    ]


def requests_by(account, start, end, labels, field, value, address=""):
    """(rows of what `field`=`value` did in the window, first time the account saw that value)."""
    done = (
        in_window(account, start, end)
        .filter(**{field: value})
        .values(*PRINCIPAL, "client_ip", "user_agent", "operation", "container", "status_class")
        .annotate(ops=Sum("count"), moved=Sum("response_bytes"), first=Min("first_time"))
        .order_by("first")[:ROW_LIMIT]
    )
    first = LogAggregate.objects.filter(account=account, **{field: value}).aggregate(first=Min("first_time"))[
        "first"
    ]
    rows = [
        row(
            who(r),
            r["client_ip"],
            r["user_agent"],
            r["operation"],
            r["container"],
            r["status_class"] + "xx",
            count(r["ops"]),
            size(r["moved"]),
            when(r["first"]),
            flags=ip_flags(r["client_ip"], labels, address),
        )
        for r in done
    ]
    return rows, done, first


COLUMNS = ("Principal", "IP", "User agent", "Operation", "Container", "Status", "Requests", "Volume", "First")


@register(
    "Storage.Blob_TorAnomaly",
    "Storage.Files_TorAnomaly",
    "Storage.Blob_GeoAnomaly",
    "Storage.Files_GeoAnomaly",
    "Storage.Blob_SuspiciousIp",
    "Storage.Files_SuspiciousIp",
    name="unusual_place",
    title="Access from an unusual place",
    question="What did the alert's IP do, and has the account seen it before?",
)
def unusual_place(alert, account, start, end, labels):
    address = alert_ip(alert)
    if not address:
        return "The alert names no client IP.", []
    rows, done, first = requests_by(account, start, end, labels, "client_ip", address, address)
    elsewhere = list(
        LogAggregate.objects.filter(
            account__device=account.device_id, client_ip=address, window_start__lt=end, window_end__gt=start
        )
        .exclude(account=account)
        .values("account__name")
        .annotate(ops=Sum("count"), moved=Sum("response_bytes"))
        .order_by("account__name")
    )
    seen = (
        "first seen on this account in the alert window"
        if first and first >= start
        else (f"seen on this account since {when(first)}" if first else "never in this account's logs")
    )
    summary = (
        f"{address} made {sum(r['ops'] for r in done):,} request(s) as "
        f"{len({who(r) for r in done})} principal(s) "
        f"in the alert window ({size(sum(r['moved'] for r in done))}); {seen}"
        + (f"; it also reached {len(elsewhere)} other account(s) of the device." if elsewhere else ".")
    )
    return summary, [
        Table("evidence-ip-requests", f"Requests from {address} in the alert window", COLUMNS, rows),
        Table(
            "evidence-ip-elsewhere",
            "The same IP on the device's other storage accounts",
            ("Account", "Requests", "Volume"),
            [row(e["account__name"], count(e["ops"]), size(e["moved"])) for e in elsewhere],
            empty="No other account of the device saw this IP in the window.",
        ),
    ]


@register(
    "Storage.Blob_ApplicationAnomaly",
    "Storage.Files_ApplicationAnomaly",
    "Storage.Blob_SuspiciousApp",
    "BlobStorageIdmlApplicationAnomaly",
    name="application",
    title="Access by an unusual application",
    question="What did the application do, and which applications does the principal usually use?",
)
def application(alert, account, start, end, labels):
    from storage_logs.context import typed

    props = typed(alert)
    agent = str(props.get("user_agent") or props.get("application") or "")
    rows, done, first = (
        requests_by(account, start, end, labels, "user_agent", agent) if agent else ([], [], None)
    )
    if not rows and alert_ip(alert):
        rows, done, first = requests_by(
            account, start, end, labels, "client_ip", alert_ip(alert), alert_ip(alert)
        )
    principals = {(r["principal_kind"], r["principal_id"]) for r in done}
    which = Q(pk__in=[])
    for kind, ident in principals:
        which |= Q(principal_kind=kind, principal_id=ident)
    since = start - timedelta(days=settings.BASELINE_DAYS)
    usual = (
        LogAggregate.objects.filter(which, account=account, window_start__gte=since, window_start__lt=start)
        .values("user_agent")
        .annotate(ops=Sum("count"), first=Min("first_time"))
        .order_by("-ops")[:20]
    )
    seen = (
        "new in the alert window"
        if first and first >= start
        else (f"seen since {when(first)}" if first else "")
    )
    summary = (
        f"{agent or 'The application'} made {sum(r['ops'] for r in done):,} request(s) in the alert window"
        + (f" ({seen})" if seen else "")
        + f"; the same principal(s) used {len(usual)} other user agent(s) in the "
        f"{settings.BASELINE_DAYS} days before."
    )
    return summary, [
        Table("evidence-app-requests", "The application's requests in the alert window", COLUMNS, rows),
        Table(
            "evidence-app-usual",
            "User agents the same principals used before",
            ("User agent", "Requests", "First"),
            [row(u["user_agent"], count(u["ops"]), when(u["first"])) for u in usual],
            empty="The principals had no activity on this account before the window.",
        ),
    ]
