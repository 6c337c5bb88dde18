"""Evidence speed and cost: the first page of raw lines of a 100,000-line aggregate, and what the pointers
from aggregates to their lines cost.

    .venv/bin/python bench/evidence.py            # 100,000 lines in one aggregate; default tenant, 24 h
    .venv/bin/python bench/evidence.py --smoke    # 2,000 lines; small tenant, 2 h (what the suite runs)

Starts its own Azurite. (1) One hour of an account's classic logs holds one aggregate of `lines` lines
(the same principal reading from one IP, spread over several blobs, between the simulator's usual lines):
ingested through the product's path (storage_logs.tasks.ingest_account_hour), then an analyst opens that
aggregate's raw lines: p50/p95 of the first page over `requests` requests, and one full read of its lines
(the proof: do they add up?). (2) The simulator's tenant for `hours` hours, each hour read `reads` times
as its blobs grow (as the sweep does, about every 10 minutes): raw bytes, the aggregates' own export size,
and the pointers (each aggregate's list of batches, plus the batches' blob ranges shared among them), so
the reduction is printed with and without pointers. Goal: first page p95 < 2 s; reduction >= 93 % with
pointers. Uses its own SQLite file unless DATABASE_URL is set.
"""

import argparse
import json
import os
import statistics
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, setup_django, timed  # noqa: E402

FULL = {"lines": 100_000, "requests": 20, "hours": 24, "reads": 6, "profile": "default"}
SMOKE = {"lines": 2_000, "requests": 3, "hours": 2, "reads": 2, "profile": "small"}
HOUR = datetime(2026, 4, 7, 10, tzinfo=UTC)
KEY = "YmVuY2gtZXZpZGVuY2Uta2V5LWZvci10ZXN0cy1vbmx5LTA="
BIG, TENANT = "benchevidence", "benchpointers"
LINES_PER_BLOB = 40_000
SEED = 5


def big_aggregate_blobs(spec, lines):
    """The hour's $logs blobs: the simulator's usual lines, and `lines` more GetBlob lines copied from one
    of them (new request ids and times), so that one aggregate holds them all."""
    from ascmon.simulator.storage_activity import classic_log_blobs
    from storage_logs import parse

    usual = b"".join(blob.data for blob in classic_log_blobs(spec, HOUR, HOUR + timedelta(hours=1), SEED))
    template = next(
        line for line in usual.split(b"\n") if b";GetBlob;" in line and b";authenticated;" in line
    )
    record = parse.classic_line(template.decode(), parse.Rejects())
    rid, when = record[parse.RID].encode(), record[parse.TIME].encode()
    copies = []
    for n in range(lines):
        moment = HOUR + timedelta(microseconds=n * 3_600_000_000 // lines)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").encode() + b"0Z"
        copies.append(template.replace(rid, str(uuid.UUID(int=n + 1)).encode(), 1).replace(when, stamp, 1))
    usual_lines = [line for line in usual.split(b"\n") if line]
    merged = sorted(copies + usual_lines, key=lambda line: line.split(b";", 2)[1])
    for start in range(0, len(merged), LINES_PER_BLOB):
        yield b"".join(line + b"\n" for line in merged[start : start + LINES_PER_BLOB])


def account_on(azurite, name, profile, **flags):
    from tests import factories

    return factories.storage_account(
        name, device_name="Bench evidence", blob_endpoint=azurite.endpoint(name), profile=profile,
        subscription_id="00000000-0000-0000-0000-0000000e0001", resource_group="rg-bench", **flags,
    )  # fmt: skip


def first_page(azurite, lines, requests, out):
    """Ingest the hour holding the big aggregate, then time its first page and one full read."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from ascmon.azure import blobs
    from storage_logs import evidence
    from storage_logs.models import LogAggregate
    from storage_logs.tasks import ingest_account_hour

    account, spec = account_on(azurite, BIG, "small", logging_version="2.0")
    access = blobs.BlobAccess(account.blob_endpoint, BIG, KEY)
    blobs.ensure_container(access, "$logs")
    raw = 0
    for n, data in enumerate(big_aggregate_blobs(spec, lines)):
        blobs.upload_blob(access, "$logs", f"blob/{HOUR:%Y/%m/%d/%H}00/{n:06d}.log", data)
        raw += len(data)
    ingest_account_hour(account.id, HOUR.isoformat())
    aggregate = LogAggregate.objects.filter(account=account).order_by("-count").first()
    out.write(
        f"hour ingested: {raw / 1e6:.1f} MB of raw lines; its biggest aggregate: {aggregate.count:,} lines "
        f"in {len(aggregate.batches)} batch(es)\n"
    )
    user = User.objects.create_user("bench-evidence", password="x")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    client = Client()
    client.force_login(user)
    url = f"/storage/aggregates/{aggregate.pk}/lines/"
    client.get(url)  # warm the process's clients and caches
    times, cpu = [], []
    for _ in range(requests):
        response, wall_ms, cpu_ms = timed(lambda: client.get(url))
        assert response.status_code == 200 and response.content.count(b'class="raw-line"') == 100
        times.append(wall_ms)
        cpu.append(cpu_ms)
    p95 = percentile(times, 0.95)
    out.write(
        f"first page (100 lines): p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {requests} "
        f"requests (this process's CPU: p50 {statistics.median(cpu):.0f} ms)\n"
    )
    tally, wall_ms, _ = timed(lambda: evidence.tally(evidence.lines_of(aggregate)))
    out.write(
        f"proof (every line read again and tallied): {tally.lines:,} lines, {raw / 1e6:.1f} MB of blobs "
        f"read in {wall_ms / 1000:.1f} s; adds up: {tally.matches(aggregate)}\n"
    )
    out.write(f"goal: first page p95 < 2 s: {'met' if p95 < 2000 else 'NOT met'}\n")


def pointer_cost(azurite, hours, reads, profile, out):
    """The tenant's hours, each read `reads` times as its blobs grow; the pointers' bytes per aggregate."""
    from ascmon.azure import blobs
    from ascmon.simulator.storage_activity import classic_log_blobs
    from storage_logs.models import LogAggregate, LogBatch
    from storage_logs.tasks import ingest_account_hour

    account, spec = account_on(azurite, TENANT, profile, logging_version="2.0")
    access = blobs.BlobAccess(account.blob_endpoint, TENANT, KEY)
    blobs.ensure_container(access, "$logs")
    raw = 0
    for n in range(hours):
        hour = HOUR + timedelta(hours=n)
        hour_blobs = list(classic_log_blobs(spec, hour, hour + timedelta(hours=1), SEED))
        raw += sum(len(blob.data) for blob in hour_blobs)
        for read in range(1, reads + 1):  # the blobs as they stood at each read: whole lines, growing
            for blob in hour_blobs:
                lines = blob.data.split(b"\n")[:-1]
                shown = lines[: len(lines) * read // reads]
                if shown:
                    blobs.upload_blob(access, blob.container, blob.name, b"".join(x + b"\n" for x in shown))
            ingest_account_hour(account.id, hour.isoformat())
    rows = LogAggregate.objects.filter(account=account)
    count = rows.count()
    own = sum(rows.values_list("export_size", flat=True))
    lists = sum(len(json.dumps(b, separators=(",", ":"))) for b in rows.values_list("batches", flat=True))
    batches = LogBatch.objects.filter(account=account)
    ranges = sum(len(json.dumps(r, separators=(",", ":"))) for r in batches.values_list("ranges", flat=True))
    pointers = lists + ranges
    out.write(
        f"{profile} tenant, {hours} h, each hour read {reads} times: {raw / 1e6:.1f} MB raw -> {count:,} "
        f"aggregates, {own / 1e6:.2f} MB ({own / count:.0f} B each); {batches.count():,} batches\n"
    )
    out.write(
        f"pointer cost: {pointers / count:.1f} B per aggregate ({lists / count:.1f} B its batch list + "
        f"{ranges / count:.1f} B its share of the batches' blob ranges) = {100 * pointers / own:.1f} % of "
        "the aggregates' own size\n"
    )
    without, with_pointers = 100 * (1 - own / raw), 100 * (1 - (own + pointers) / raw)
    out.write(f"reduction: {without:.2f} % without pointers, {with_pointers:.2f} % with pointers\n")
    out.write(f"goal: >= 93 % with pointers: {'met' if with_pointers >= 93 else 'NOT met'}\n")


def run(lines, requests, hours, reads, profile, out=sys.stdout):
    """Every figure the module docstring lists, on the current database, with an Azurite of its own."""
    from django.db import connection

    from ascmon.azure import blobs
    from ascmon.simulator import azurite as azurite_process
    from storage_logs import tasks

    azurite = azurite_process.start({BIG: KEY, TENANT: KEY})
    own_access = tasks.account_access
    # Azurite's keys stand in for ARM's listKeys (the bench talks to Azurite alone).
    tasks.account_access = lambda account: blobs.BlobAccess(account.blob_endpoint, account.name, KEY)
    try:
        out.write(f"database: {connection.vendor}\n")
        first_page(azurite, lines, requests, out)
        out.flush()
        pointer_cost(azurite, hours, reads, profile, out)
    finally:
        tasks.account_access = own_access
        azurite.stop()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a small run: " + str(SMOKE))
    for name in FULL:
        parser.add_argument(f"--{name}", type=type(FULL[name]))
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    sizes.update({name: getattr(args, name) for name in sizes if getattr(args, name)})
    os.environ.setdefault("ASCMON_STORAGE_HOST_SUFFIXES", "blob.core.windows.net,127.0.0.1")
    setup_django()
    run(**sizes)


if __name__ == "__main__":
    main()
