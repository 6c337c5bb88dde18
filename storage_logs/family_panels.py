"""The evidence panels of the alert families about what happened to the data: malware upload, public
access, deletions (registry and shared helpers: storage_logs/families.py; who reached the account from
where: storage_logs/family_access.py). Each panel takes the alert, its account and window (whole hours)
and returns a summary sentence and its tables, from stored aggregates only, in a fixed number of queries.

Aggregates keep what their policy groups by (storage_logs/aggregate.py DEFAULT_POLICIES): writes and
deletes name each object, reads name their container and up to three sample objects; the panels say so
where it matters.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Sum

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
from storage_logs.models import LogAggregate

PRINCIPAL = ("principal_kind", "principal_id", "principal_label", "upn")
ACCESS_CHANGES = ("SetContainerACL", "SetContainerProperties", "SetBlobServiceProperties")


def blob_of(alert):
    """(container, blob name) the alert names; a path "container/blob" or "/account/container/blob" too."""
    from storage_logs.context import typed

    props = typed(alert)
    blob, container = str(props.get("blob_name") or ""), str(props.get("container") or "")
    parts = [part for part in blob.split("/") if part]
    if len(parts) > 1 and not container:
        if alert.compromised_entity and parts[0].lower() == alert.compromised_entity.lower():
            parts = parts[1:]
        container, blob = parts[0], "/".join(parts[1:])
    return container, blob


@register(
    "Storage.Blob_AM.MalwareFound",
    "Storage.Blob_MalwareHashReputation",
    "Storage.Files_MalwareHashReputation",
    "Storage.Blob_MalwareDownload",
    "Storage.Files_WidespreadeAm",
    name="malware",
    title="Malware upload",
    question="Who uploaded the blob, from where, and who read it since?",
    needs=("write", "read"),
)
def malware(alert, account, start, end, labels):
    container, blob = blob_of(alert)
    writes = LogAggregate.objects.filter(account=account, kind="write", object_key=blob, first_time__lt=end)
    if container:
        writes = writes.filter(container=container)
    uploads = list(
        writes.order_by("first_time").values(
            *PRINCIPAL,
            "operation",
            "client_ip",
            "user_agent",
            "container",
            "first_time",
            "count",
            "request_bytes",
        )[:ROW_LIMIT]
    )
    uploaded_at = uploads[0]["first_time"] if uploads else start
    container = container or (uploads[0]["container"] if uploads else "")
    reads = LogAggregate.objects.filter(
        account=account, kind="read", container=container, last_time__gte=uploaded_at
    )
    read_rows = list(
        reads.order_by("first_time").values(
            *PRINCIPAL,
            "client_ip",
            "user_agent",
            "operation",
            "count",
            "response_bytes",
            "first_time",
            "object_key",
            "sample_objects",
        )[:500]
    )
    upload_table = [
        row(
            when(u["first_time"]),
            u["operation"],
            who(u),
            u["client_ip"],
            u["user_agent"],
            count(u["count"]),
            size(u["request_bytes"]),
            flags=ip_flags(u["client_ip"], labels),
        )
        for u in uploads
    ]
    readers = defaultdict(lambda: {"ops": 0, "bytes": 0, "first": None, "names": False, "ops_by": set()})
    for r in read_rows:
        seen = readers[(who(r), r["client_ip"], r["user_agent"])]
        seen["ops"] += r["count"]
        seen["bytes"] += r["response_bytes"]
        seen["first"] = min(filter(None, (seen["first"], r["first_time"])))
        seen["names"] |= f"{container}/{blob}" in (r["sample_objects"] or []) or r["object_key"] == blob
        seen["ops_by"].add(r["operation"])
    read_table = [
        row(
            principal,
            ip,
            agent,
            ", ".join(sorted(s["ops_by"])),
            count(s["ops"]),
            size(s["bytes"]),
            when(s["first"]),
            flags=[*ip_flags(ip, labels), "names the blob" if s["names"] else ""],
        )
        for (principal, ip, agent), s in sorted(readers.items(), key=lambda item: item[1]["first"])
    ][:ROW_LIMIT]
    if uploads:
        first = uploads[0]
        summary = (
            f"{blob} was uploaded to {container} by {who(first)} from {first['client_ip']} at "
            f"{when(first['first_time'])}; since then {len(readers)} client(s) read from {container}, "
            f"{sum(1 for s in readers.values() if s['names'])} of them naming this blob."
        )
    else:
        summary = f"No upload of {blob or 'the blob'} is in the logs up to the alert window."
    return summary, [
        Table(
            "evidence-uploads",
            "Uploads of the blob",
            ("Time", "Operation", "Principal", "IP", "User agent", "Operations", "Size"),
            upload_table,
        ),
        Table(
            "evidence-readers",
            f"Reads from {container or 'its container'} since the upload",
            ("Principal", "IP", "User agent", "Operations", "Count", "Volume", "First"),
            read_table,
            note='Reads are stored per container: a reader is marked "names the blob" when the blob is '
            "among its sample objects, so others may have read it too.",
        ),
    ]


@register(
    "Storage.Blob_AnonymousAccessAnomaly",
    "Storage.Blob_OpenACL",
    "Storage.Blob_OpenContainersScanning",
    name="public",
    title="Public access",
    question="Who opened the container, and which anonymous requests followed?",
    needs=("read", "write"),
)
def public(alert, account, start, end, labels):
    from storage_logs.context import typed

    container = str(typed(alert).get("container") or "")
    address = alert_ip(alert)
    changes = LogAggregate.objects.filter(
        account=account,
        operation__in=ACCESS_CHANGES,
        first_time__gte=start - timedelta(days=7),
        first_time__lt=end,
    )
    change_rows = [
        row(
            when(c["first_time"]),
            c["operation"],
            c["container"] or "(account)",
            who(c),
            c["client_ip"],
            c["user_agent"],
            c["status_class"] + "xx",
            flags=ip_flags(c["client_ip"], labels),
        )
        for c in changes.order_by("-first_time").values(
            *PRINCIPAL, "first_time", "operation", "container", "client_ip", "user_agent", "status_class"
        )[:ROW_LIMIT]
    ]
    anonymous = (
        in_window(account, start, end)
        .filter(principal_kind="anonymous")
        .values("client_ip", "container", "user_agent", "status_class")
        .annotate(
            ops=Sum("count"),
            moved=Sum("response_bytes"),
            first=Min("first_time"),
            objects=Sum("distinct_objects"),
        )
        .order_by("-ops")[:ROW_LIMIT]
    )
    anon_rows, failed, ok = [], 0, 0
    for a in anonymous:
        failed += a["ops"] if a["status_class"] in ("4", "5") else 0
        ok += a["ops"] if a["status_class"] in ("2", "3") else 0
        anon_rows.append(
            row(
                a["client_ip"],
                a["container"],
                a["user_agent"],
                a["status_class"] + "xx",
                count(a["ops"]),
                size(a["moved"]),
                when(a["first"]),
                flags=[
                    *ip_flags(a["client_ip"], labels, address),
                    "failed" if a["status_class"] in ("4", "5") else "",
                ],
            )
        )
    ips = {a["client_ip"] for a in anonymous}
    change = (
        f"access to {change_rows[0]['cells'][2]} changed ({change_rows[0]['cells'][1]}) by "
        f"{change_rows[0]['cells'][3]} at {change_rows[0]['cells'][0]}; "
        if change_rows
        else "no access change in the logs of the week before; "
    )
    summary = (
        f"{change.capitalize()}in the alert window {ok:,} anonymous request(s) succeeded and "
        f"{failed:,} failed, "
        f"from {len(ips)} IP(s)" + (f" (container {container})." if container else ".")
    )
    return summary, [
        Table(
            "evidence-access-changes",
            "Access changes (the week before and the alert window)",
            ("Time", "Operation", "Container", "Principal", "IP", "User agent", "Status"),
            change_rows,
            empty="No access change in the logs.",
        ),
        Table(
            "evidence-anonymous",
            "Anonymous requests in the alert window",
            ("IP", "Container", "User agent", "Status", "Requests", "Volume", "First"),
            anon_rows,
        ),
    ]


@register(
    "Storage.Blob_DeletionAnomaly",
    "Storage.Files_DeletionAnomaly",
    name="deletion",
    title="Deletions",
    question="Who deleted what, from where, and how does it compare with usual?",
    needs=("delete",),
)
def deletion(alert, account, start, end, labels):
    deletes = in_window(account, start, end).filter(kind="delete")
    by_who = list(
        deletes.values(*PRINCIPAL, "client_ip", "user_agent", "container")
        .annotate(
            ops=Sum("count"),
            objects=Count("object_key", distinct=True),
            first=Min("first_time"),
            last=Max("last_time"),
        )
        .order_by("-ops")[:ROW_LIMIT]
    )
    objects = deletes.order_by("first_time").values("container", "object_key", "first_time", *PRINCIPAL)
    since = start - timedelta(days=settings.BASELINE_DAYS)
    usual = (
        LogAggregate.objects.filter(
            account=account, kind="delete", window_start__gte=since, window_start__lt=start
        ).aggregate(ops=Sum("count"))["ops"]
        or 0
    )
    total = sum(r["ops"] for r in by_who)
    summary = (
        f"{total:,} deletion(s) in the alert window by {len({who(r) for r in by_who})} principal(s); "
        f"usually {usual / settings.BASELINE_DAYS:,.1f} a day on {account.name} "
        f"(the {settings.BASELINE_DAYS} days before)."
    )
    return summary, [
        Table(
            "evidence-deleters",
            "Deletions in the alert window by principal",
            ("Principal", "IP", "User agent", "Container", "Deletions", "Objects", "First", "Last"),
            [
                row(
                    who(r),
                    r["client_ip"],
                    r["user_agent"],
                    r["container"],
                    count(r["ops"]),
                    count(r["objects"]),
                    when(r["first"]),
                    when(r["last"]),
                    flags=ip_flags(r["client_ip"], labels),
                )
                for r in by_who
            ],
        ),
        Table(
            "evidence-deleted",
            f"Deleted objects (first {ROW_LIMIT})",
            ("Time", "Container", "Object", "Principal"),
            [
                row(when(o["first_time"]), o["container"], o["object_key"], who(o))
                for o in objects[:ROW_LIMIT]
            ],
        ),
    ]
