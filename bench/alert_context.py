"""Decision-support speed: the exfiltration alert page over 30 days of a busy account's aggregates.

    .venv/bin/python bench/alert_context.py [--days 30] [--requests 40] [--profile large]
    .venv/bin/python bench/alert_context.py --smoke     # 2 small days, 3 requests (what the test suite runs)

Generates one day of the simulator's logs for one account ("large" profile: about 600,000 lines; generating
30 large days would take half an hour of CPU) and stores it through the product's own path (the engine's
Aggregator, then storage_logs.store.save). The other days are the same lines moved back by whole days,
without the exfiltration's, stored the same way, one day at a time. Then renders the alert detail page
(with "what is usual") repeatedly.
Prints raw lines, aggregates stored, p50/p95 page time and the page's query count. Goal: p95 < 300 ms on
SQLite with a fixed number of queries. Uses its own SQLite file unless DATABASE_URL is set.
"""

import argparse
import re
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ascmon.simulator.storage_activity import classic_log_blobs, exfiltration_episode  # noqa: E402
from bench.common import percentile, setup_django, timed  # noqa: E402

FULL = {"days": 30, "requests": 40, "profile": "large"}
SMOKE = {"days": 2, "requests": 3, "profile": "small"}
NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
DAY = timedelta(days=1)
SEED = 7
SUB = "00000000-0000-0000-0000-0000000be001"
LINE_START = re.compile(rb"\n[12]\.0;\d{4}-\d\d-\d\dT")  # a classic line's version and date


def one_day(spec, episode):
    """The $logs blobs of the day before NOW: the day with the exfiltration (bytes), and the same day
    without its lines (what the other days repeat: see `moved_back`)."""
    day, usual = [], []
    marker = f";{episode.ip}:".encode()
    for blob in classic_log_blobs(spec, NOW - DAY, NOW, SEED, episode):
        day.append(blob.data)
        data = b"\n" + blob.data  # every line starts after a newline: "\n2.0;2026-03-30T..."
        if marker in data:
            data = b"".join(line for line in data.splitlines(keepends=True) if marker not in line)
        usual.append((data, sorted(set(LINE_START.findall(data)))))
    return day, usual


def moved_back(usual, days):
    """The usual day's lines `days` days earlier: only each line's own time moves (SAS expiry dates and the
    like stay as they are, so the principals stay the same)."""
    for data, starts in usual:
        for start in starts:  # oldest date first: a date moved back is never one still to be moved
            moved = date.fromisoformat(start[-11:-1].decode()) - timedelta(days=days)
            data = data.replace(start, start[:-11] + moved.isoformat().encode() + b"T")
        yield data[1:]


def store_days(account, day, usual, days):
    """Every day's lines through the engine and into the account's aggregates; returns the lines stored."""
    from storage_logs import parse, store
    from storage_logs.aggregate import Aggregator
    from storage_logs.models import AggregationPolicy

    policies, lines = AggregationPolicy.current(), 0
    for back in range(days):
        aggregator, rejects = Aggregator(policies), parse.Rejects()
        for data in moved_back(usual, back) if back else day:
            lines += aggregator.add_text(data, rejects)
        store.save(account.id, aggregator)
    return lines


def page_timings(alert, requests):
    """(wall ms and CPU ms per request, queries of one more request) for the alert's page, as an analyst."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = User.objects.create_user("bench-context", password="x")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    client = Client()
    client.force_login(user)
    url = f"/alerts/{alert.pk}/"
    client.get(url)  # warm caches
    times, cpu = [], []
    for _ in range(requests):
        response, wall_ms, cpu_ms = timed(lambda: client.get(url))
        assert response.status_code == 200 and b"usual-summary" in response.content, response.status_code
        times.append(wall_ms)
        cpu.append(cpu_ms)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return times, cpu, len(queries)


def run(days, requests, profile, out=sys.stdout):
    """Load `days` days of one account's logs, then time its exfiltration alert's page."""
    from django.db import connection

    from storage_logs.models import LogAggregate
    from tests import factories

    account, spec = factories.storage_account(
        "busyaccount", device_name="Bench context", subscription_id=SUB, resource_group="rg-bench",
        profile=profile,
    )  # fmt: skip
    episode = exfiltration_episode(spec.name, NOW, SEED)
    started = time.perf_counter()
    day, usual = one_day(spec, episode)
    generated = time.perf_counter() - started
    lines = store_days(account, day, usual, days)
    stored = time.perf_counter() - started - generated
    alert = factories.exfiltration_alert(account, episode)
    times, cpu, queries = page_timings(alert, requests)
    p95 = percentile(times, 0.95)
    out.write(f"database: {connection.vendor}\n")
    out.write(
        f"raw log lines stored: {lines:,} over {days} days ({profile} profile; one day generated in "
        f"{generated:.0f} s, all days aggregated and stored in {stored:.0f} s)\n"
    )
    out.write(f"aggregates stored: {LogAggregate.objects.filter(account=account).count():,}\n")
    out.write(
        f"alert page: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {requests} requests "
        f"(this process's CPU: p50 {statistics.median(cpu):.0f} ms, p95 {percentile(cpu, 0.95):.0f} ms)\n"
    )
    out.write(f"queries per page: {queries}\n")
    out.write(f"goal: p95 < 300 ms on SQLite: {'met' if p95 < 300 else 'NOT met'}\n")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a small run: " + str(SMOKE))
    parser.add_argument("--days", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--profile", choices=("small", "default", "large"))
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    sizes.update({name: getattr(args, name) for name in sizes if getattr(args, name)})
    setup_django()
    run(**sizes)


if __name__ == "__main__":
    main()
