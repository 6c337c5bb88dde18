"""What a policy would do to an account's last day of logs, read from the account's own blobs."""

from datetime import UTC, datetime, time, timedelta

from ascmon.azure import blobs
from storage_logs import ingest, parse, tasks
from storage_logs.aggregate import DEFAULT_POLICIES, Aggregator
from storage_logs.models import DailyVolume

PREVIEW_BYTES = 64 * 1024 * 1024  # a preview reads at most this much of the day


def last_day(account):
    volume = DailyVolume.objects.filter(account=account).order_by("-day").first()
    return volume.day if volume else (datetime.now(UTC) - timedelta(days=1)).date()


def preview(account, policy):
    """{account, day, lines, raw_bytes, records, aggregate_bytes, truncated} for `policy` on its kind: the
    ingestion path (the same engine, the same blobs), minus the database."""
    day = last_day(account)
    access = tasks.account_access(account)
    archive = tasks.archive_access(account, access)
    engine, rejects = Aggregator({**DEFAULT_POLICIES, policy.kind: policy}), parse.Rejects()
    read, truncated = 0, False
    start = datetime.combine(day, time(0), UTC)
    for hour in (start + timedelta(hours=n) for n in range(24)):
        for container, prefix, is_json in ingest.sources(account, hour):
            where = archive if is_json else access
            for info in blobs.list_blobs(where, container, prefix):
                if read >= PREVIEW_BYTES:
                    truncated = True
                    break
                for data in ingest.whole_line_chunks(blobs.read_blob(where, container, info.name)):
                    read += len(data)
                    engine.add_text(data, rejects, is_json=is_json)
    records, lines, size = engine.emit("stats")[2]["by_kind"][policy.kind]
    return {
        "account": account.name,
        "day": day,
        "kind": policy.kind,
        "lines": lines,
        "raw_bytes": read,
        "records": records,
        "aggregate_bytes": size,
        "truncated": truncated,
    }


def describe(result):
    if not result["lines"]:
        return (
            f"Preview on {result['account']} ({result['day']}): no {result['kind']} operations in its logs."
        )
    ratio = 100 * (1 - result["records"] / result["lines"])
    more = " (first 64 MB of the day only)" if result["truncated"] else ""
    return (
        f"Preview on {result['account']} ({result['day']}){more}: "
        f"{result['lines']:,} {result['kind']} operations → {result['records']:,} aggregates "
        f"({ratio:.1f} % fewer records). Nothing was saved."
    )
