"""The headline storage log benchmark: from a customer's blobs to stored aggregates, as a worker runs it.

    .venv/bin/python bench/ingest_e2e.py [--lines 1500000] [--db both|postgresql|sqlite] [--dir var/bench]
    .venv/bin/python bench/ingest_e2e.py --smoke      # a small run on SQLite (the test suite runs it)

Two workloads of about --lines lines each, uploaded to Azurite (Microsoft's storage emulator; one per storage
account, as Azure serves each from servers of its own) first:
- "default tenant": the simulator's demo tenant, every logging account, hour after hour (read as the sweep
  queues them: one task per account and UTC day);
- "busy lake": one account-hour of a data lake with thousands of SAS tokens, hosts and objects (about one
  aggregate per four lines: ascmon.simulator.busy_account).

For each it prints, measured in the same run: a bare read of the same blobs through ascmon.azure.blobs (one
stream: what downloading alone costs); `ingest_account_hours`, the task a worker runs, into PostgreSQL and
SQLite (each in a fresh database, in a child process), timed as a whole with the time spent listing and
downloading (in the download thread), parsing and aggregating, and merging and committing; the same run again
with nothing new to read; for the busy lake, the same hour read as a sweep every 10 minutes finds it while
Azure writes it (half a blob more at each read: the path a worker follows a busy account on), which must
store the same rows; on PostgreSQL, the same run into a table that already holds a month of older rows
(--history-rows); its peak RSS at half of the input (one of two accounts) and at all of it; how many of the
machine's cores were busy meanwhile (what is left for a second worker), and two workers sharing the tasks
(different account-hours at once) against one; on PostgreSQL, the server alone copying the same rows into an
empty twin of the table (the least any path can spend storing them); `reduce_logs` (the same engine, no
database) on the same lines; and DuckDB's read_csv + GROUP BY on a CSV-clean twin of the lines. Each figure is
also printed as a share of the bare read and of DuckDB. Data is generated once and kept in --dir.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOUR = timedelta(hours=1)
BUSY_HOUR = datetime(2026, 5, 5, 10, tzinfo=UTC)
TENANT_END = datetime(2026, 5, 20, tzinfo=UTC)
KEY = "YXNjbW9uLWJlbmNoLWtleS1ub3QtYS1zZWNyZXQtMDAwMDA="
DUCKDB = """
SELECT count(*) AS records, sum(n) AS lines FROM (
  SELECT
    CASE WHEN operation IN ('PutBlob','PutBlock','PutBlockList','AppendBlock','SetBlobMetadata')
         OR operation LIKE 'Delete%' THEN date_trunc('day', time) ELSE date_trunc('hour', time) END AS win,
    operation, http_status // 100 AS status_class, auth_type, requester, sas_principal, user_object_id,
    app_id, upn, ip, user_agent, container,
    CASE WHEN operation IN ('PutBlob','PutBlock','PutBlockList','AppendBlock','SetBlobMetadata')
         OR operation LIKE 'Delete%' THEN object ELSE '' END AS obj,
    count(*) AS n, min(time), max(time), sum(request_bytes), min(request_bytes), max(request_bytes),
    sum(response_bytes), min(response_bytes), max(response_bytes), sum(e2e_ms), min(e2e_ms), max(e2e_ms),
    sum(server_ms), min(server_ms), max(server_ms), count(DISTINCT object), min(request_id)
  FROM read_csv('{files}', header = false, quote = '"', delim = ',', all_varchar = false,
                columns = {columns})
  GROUP BY ALL
)
"""


# ---- the workloads ---------------------------------------------------------------------------------------


def prepare(folder, name, lines):
    """folder/name/{blobs.json, blobs/, clean.csv}: the workload's blobs (cached between runs)."""
    out = folder / f"{name}-{lines}"
    if (out / "blobs.json").exists():
        return out
    started = time.perf_counter()
    (out / "blobs").mkdir(parents=True, exist_ok=True)
    index, specs = [], {}
    with open(out / "clean.csv", "wb") as clean:
        for spec, hour, blob, clean_lines in (busy if name == "busy-lake" else tenant)(lines):
            specs[spec.name] = [spec.resource_id, bool(spec.logging_version), spec.diagnostic_logs]
            if blob.data:
                path = out / "blobs" / f"{len(index):06d}.log"
                path.write_bytes(blob.data)
                index.append([spec.name, hour.isoformat(), blob.container, blob.name, str(path)])
            clean.write(clean_lines)
    (out / "accounts.json").write_text(json.dumps(specs))
    (out / "blobs.json").write_text(json.dumps(index))
    print(f"  generated {name} ({lines:,} lines) in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def busy(lines, accounts=("busylake1", "busylake2")):
    """Two accounts of a data lake, one hour each (two workers read one each; one worker reads both)."""
    from ascmon.simulator import busy_account
    from ascmon.simulator.storage_activity import AccountLogSpec

    for name in accounts:
        spec = AccountLogSpec(name, "00000000-0000-0000-0000-0000000be001", "rg-lake")
        share = lines // len(accounts)
        yield from (
            (spec, BUSY_HOUR, blob, b"") for blob in busy_account.classic_blobs(spec, BUSY_HOUR, share, 7)
        )
        yield spec, BUSY_HOUR, _Empty(), busy_account.clean_lines(spec, BUSY_HOUR, share, 7)


def tenant(lines):
    """The demo tenant's logging accounts, hour after hour back from TENANT_END, until `lines` lines."""
    from ascmon.simulator import scenario
    from ascmon.simulator.storage_activity import (
        classic_log_blobs,
        clean_row,
        delivered_requests,
        monitor_log_blobs,
    )

    built = scenario.build(1, "default")
    subscriptions = {s.subscription_id for s in built.demo_tenant().subscriptions}
    specs = [s for s in built.all_accounts() if s.subscription_id in subscriptions and s.logging_version]
    total, hour = 0, TENANT_END - HOUR
    while total < lines:
        for spec in specs:
            for blob in [
                *classic_log_blobs(spec, hour, hour + HOUR, 1),
                *monitor_log_blobs(spec, hour, hour + HOUR, 1),
            ]:
                total += blob.data.count(b"\n")
                yield spec, hour, blob, b""
            requests = delivered_requests(spec, hour, 1)
            yield spec, hour, _Empty(), "".join(clean_row(spec, r) + "\n" for r in requests).encode()
        hour -= HOUR


class _Empty:
    data = b""
    container = ""
    name = ""


def workload(out):
    """[(account, hour, container, name, path)] of the workload's blobs."""
    return json.loads((out / "blobs.json").read_text())


def lines_of(out):
    return sum(Path(entry[4]).read_bytes().count(b"\n") for entry in workload(out))


# ---- the peers -------------------------------------------------------------------------------------------


class Peers:
    """One Azurite per storage account, as Azure serves each account from servers of its own: one Azurite
    is one Node.js process that serves a request at a time, a queue no two Azure accounts share."""

    def __init__(self, accounts):
        from ascmon.simulator import azurite

        self.services = {}
        try:
            for name in accounts:  # each in a temporary folder of its own, removed when it stops
                self.services[name] = azurite.start({name: KEY})
        except BaseException:
            self.stop()
            raise

    def endpoint(self, account):
        return self.services[account].endpoint(account)

    def endpoints(self):
        """For a child's --azurite: account=endpoint,..."""
        return ",".join(f"{name}={self.endpoint(name)}" for name in self.services)

    def cpu(self):
        """CPU seconds the Azurite processes used so far."""
        return sum(_process_cpu(service.process.pid) for service in self.services.values())

    def stop(self):
        for service in self.services.values():
            service.stop()


def upload(service, out):
    from ascmon.azure import blobs

    for account, _, container, name, path in workload(out):
        access = blobs.BlobAccess(service.endpoint(account), account, KEY)
        blobs.ensure_container(access, container)
        blobs.upload_blob(access, container, name, Path(path).read_bytes())


def bare_read(service, out):
    """Every blob of the workload read once through ascmon.azure.blobs, one stream."""
    from ascmon.azure import blobs

    started, size, cpu = time.perf_counter(), 0, _own_cpu()
    for account, _, container, name, _ in workload(out):
        access = blobs.BlobAccess(service.endpoint(account), account, KEY)
        size += sum(len(chunk) for chunk in blobs.read_blob(access, container, name))
    return time.perf_counter() - started, size, _own_cpu() - cpu  # this process's CPU, not Azurite's


# ---- ingestion in a child process ------------------------------------------------------------------------


def ingest_child(args):
    """Child: a fresh database, then the ingest tasks of every account-hour; prints JSON figures."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ascmon.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from ascmon.azure import blobs
    from devices.models import Device, StorageAccount, Subscription
    from storage_logs import store, tasks
    from storage_logs.aggregate import Aggregator
    from storage_logs.models import DailyVolume, LogAggregate

    timers = {"list": 0.0, "download": 0.0, "parse": 0.0, "store": 0.0}
    _time(blobs, "list_blobs", timers, "list")
    _time_stream(blobs, "read_blob", timers, "download")
    _time(Aggregator, "add_text", timers, "parse")
    _time(store, "store", timers, "store")
    tasks.account_access = lambda account: blobs.BlobAccess(account.blob_endpoint, account.name, KEY)
    device = Device.objects.create(name="bench", tenant_id="t", client_id="c", secret_encrypted="x")
    sub = Subscription.objects.create(device=device, subscription_id="00000000-0000-0000-0000-0000000be001")
    entries = json.loads(Path(args.data, "blobs.json").read_text())
    specs = json.loads(Path(args.data, "accounts.json").read_text())
    hours = sorted({(account, hour) for account, hour, *_ in entries if account in args.accounts.split(",")})
    accounts, endpoints = {}, _endpoints(args)
    for name, _ in hours:
        if name not in accounts:
            resource_id, classic, monitor = specs[name]
            accounts[name] = StorageAccount.objects.create(
                device=device, subscription=sub, name=name, resource_id=resource_id,
                blob_endpoint=endpoints[name], logging_version="2.0" if classic else "",
                logging_read=classic, logging_write=classic, logging_delete=classic, diagnostic_logs=monitor,
            )  # fmt: skip
    if args.history:
        for account in accounts.values():
            _add_history(account.id, min(datetime.fromisoformat(h) for n, h in hours if n == account.name),
                         args.history)  # fmt: skip
    runs = []
    server = _server_cpu()
    cpu = _own_cpu()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    # the tasks a sweep queues: each account's hours in spans of one UTC day (tasks.spans)
    work = [
        (accounts[name].id, first, last)
        for name in accounts
        for first, last in tasks.spans(sorted(datetime.fromisoformat(h) for n, h in hours if n == name))
    ]
    if args.share:  # one of n workers taking tasks off one queue: every n-th task
        k, n = (int(part) for part in args.share.split("/"))
        work = work[k::n]
    steps = _growth(args, entries, blobs) if args.steps else [None]
    machine = _machine_busy()
    for attempt in ("first", "rerun"):
        started = time.perf_counter()
        for step in steps if attempt == "first" else [None]:
            if step is not None:  # Azure writing more of the hour: not the worker's time or CPU
                paused, paused_cpu = time.perf_counter(), _own_cpu()
                step()
                started += time.perf_counter() - paused
                cpu += _own_cpu() - paused_cpu
            for account_id, first, last in work:
                tasks.ingest_account_hours(account_id, first, last)
        runs.append(time.perf_counter() - started)
        if attempt == "first":
            first_timers, peak_rss = dict(timers), _peak_rss_mb()  # before _copy_floor holds every row
            cpu, server, machine = _own_cpu() - cpu, server(), machine()
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
    volumes = DailyVolume.objects.all()
    print(json.dumps({
        "seconds": runs[0], "rerun_seconds": runs[1], "timers": first_timers, "tasks": len(work) * len(steps),
        "account_hours": len(hours), "machine_busy_cores": machine, "copy_floor_seconds": _copy_floor(),
        "cpu_seconds": cpu, "server_cpu_seconds": server,
        "lines": sum(v.raw_lines for v in volumes), "raw_bytes": sum(v.raw_bytes for v in volumes),
        "rows": LogAggregate.objects.count(), "aggregate_bytes": sum(v.aggregate_bytes for v in volumes),
        "peak_rss_mb": peak_rss,
    }))  # fmt: skip


def _peak_rss_mb():
    """This process's own peak RSS: its VmHWM. getrusage's ru_maxrss also counts what the parent held when it
    started this child (Linux keeps it across exec): at 1.5 M lines, the parent's 981 MB hid the child's."""
    status = Path("/proc/self/status")
    if status.exists():
        return int(status.read_text().split("VmHWM:")[1].split()[0]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _growth(args, entries, blobs):
    """Steps that write the child's blobs as Azure writes an hour's logs, for reading them as a sweep does
    (every ASCMON_INGEST_RECHECK_MINUTES, 10 by default: each of the busy lake's blobs holds about 10 minutes
    of the hour): at step k, the hour's blobs before the k-th are complete, the k-th holds the first half of
    its lines and the later ones are empty. So each sweep finds half a blob that is new and half a blob that
    grew since its last read (read from its checkpoint, after the bytes before it are checked), and the
    hour is stored in as many batches, each looking its groups up among the rows the earlier ones stored
    (the hour's window already holds rows) and merging into those it finds."""
    mine = [entry for entry in entries if entry[0] in args.accounts.split(",")]
    by_hour = {}
    for account, hour, container, name, path in mine:
        by_hour.setdefault((account, hour), []).append((container, name, path))
    count = max(len(listed) for listed in by_hour.values())

    endpoints = _endpoints(args)

    def write(k):
        for (account, _), listed in by_hour.items():
            access = blobs.BlobAccess(endpoints[account], account, KEY)
            for j, (container, name, path) in enumerate(listed):
                if k and j not in (k - 1, k):
                    continue  # unchanged since the last step
                data = Path(path).read_bytes() if j <= k else b""
                if j == k:
                    data = data[: data.rfind(b"\n", 0, len(data) // 2) + 1]
                blobs.upload_blob(access, container, name, data)

    return [lambda k=k: write(k) for k in range(count + 1)]  # the last step completes the last blob


def _add_history(account_id, before, rows):
    """`rows` stored aggregates of the account in the 30 days before `before` (narrow ones: only their
    number matters here), as an account has after a month of ingestion."""
    from django.db import connection, models

    from storage_logs.models import LogAggregate

    columns, values, params = [], [], []
    for field in LogAggregate._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column == "account_id":
            values.append("%s")
            params.append(account_id)
        elif isinstance(field, models.DateTimeField):
            values.append("%s::timestamptz - (g %% 720 + 1) * interval '1 hour'")
            params.append(before)
        elif isinstance(field, models.UUIDField):
            values.append("gen_random_uuid()")
        elif isinstance(field, models.BinaryField):
            values.append("''::bytea")
        elif field.column == "principal_id":
            values.append("'p' || (g %% 5000)")
        elif isinstance(field, (models.IntegerField, models.BigIntegerField)):
            values.append("1")
        elif field.has_default() and field.get_default() in ({}, []):
            values.append("'{}'" if field.get_default() == {} else "'[]'")
        else:
            values.append("'read'" if field.column == "kind" else "''")
    table = LogAggregate._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            "FROM generate_series(1, %s) g",
            [*params, rows],
        )
        cursor.execute(f"ANALYZE {table}")


def _machine_busy():
    """A function giving how many of the machine's cores were busy on average since now (all processes:
    this worker, the database server, Azurite): what is left for a second worker."""

    def busy():
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4], time.perf_counter()  # all but idle and iowait

    (ticks, started), tick = busy(), os.sysconf("SC_CLK_TCK")

    def since():
        now, ended = busy()
        return (now - ticks) / tick / (ended - started)

    return since


def _copy_floor():
    """PostgreSQL alone taking the rows the run stored: seconds for one binary COPY of them into an empty
    twin of the aggregate table (same columns and indexes, committed as a batch is): the least any path
    can spend storing them on this server. None on SQLite."""
    from django.db import connection, transaction

    from storage_logs.models import LogAggregate

    if connection.vendor != "postgresql":
        return None
    table = LogAggregate._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        cursor.execute(f"CREATE TABLE bench_copy_floor (LIKE {table} INCLUDING ALL)")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")
        with cursor.cursor.copy("COPY bench_copy_floor FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(data)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_floor")
    return seconds


def _endpoints(args):
    """A child's accounts' blob endpoints, from --azurite (account=endpoint,...)."""
    return dict(pair.split("=", 1) for pair in args.azurite.split(","))


def _cpu_per_million(key, runs):
    """CPU seconds (`key` of the children's figures) per million lines, over the runs together."""
    return sum(run[key] for run in runs) * 1e6 / sum(run["lines"] for run in runs)


def _process_cpu(pid):
    """CPU seconds a process of this machine used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu():
    """CPU seconds of this process, all its threads (the download thread included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu():
    """A function giving the CPU seconds the database server process of this connection used since now
    (PostgreSQL on this machine: its backend's /proc entry; SQLite runs in this process: None)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def used():
        try:
            return _process_cpu(pid)
        except OSError:
            return None

    before = used()
    return lambda: None if before is None else used() - before


def _time(owner, name, timers, key):
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timers[key] += time.perf_counter() - started

    setattr(owner, name, timed)


def _time_stream(owner, name, timers, key):
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        stream = original(*args, **kwargs)
        while True:
            started = time.perf_counter()
            try:
                chunk = next(stream)
            except StopIteration:
                timers[key] += time.perf_counter() - started
                return
            timers[key] += time.perf_counter() - started
            yield chunk

    setattr(owner, name, timed)


def run_ingest(database, out, service, accounts, folder, profile=None, history=0, steps=False, share=None):
    """Ingest in a child process into a fresh database; returns its figures."""
    # the share first: PostgreSQL cuts a database's name at 63 bytes
    tag = f"{(share or 'all').replace('/', 'of')}_{accounts.replace(',', '_')}"
    env = {
        **os.environ,
        "ASCMON_DEBUG": "1",
        "ASCMON_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "ascmon.settings",
    }
    env.pop("REDIS_URL", None)
    if database == "postgresql":
        name = f"ascmon_bench_{os.getpid()}_{tag}"
        _psql(f"DROP DATABASE IF EXISTS {name}")
        _psql(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    else:
        path = folder / f"bench-{os.getpid()}-{tag}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{path}"
    command = [sys.executable, __file__, "--child", "--data", str(out), "--azurite", service.endpoints(),
               "--accounts", accounts]  # fmt: skip
    if profile:
        command += ["--profile", str(Path(profile).resolve().with_suffix(f".{database}.prof"))]
    if history:
        command += ["--history", str(history)]
    if steps:
        command += ["--steps"]
    if share:
        command += ["--share", share]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True), (database, env)


def finish(child):
    process, (database, env) = child
    output, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"the ingest child failed ({database}): {output[-2000:]}")
    if database == "postgresql":
        _psql(f"DROP DATABASE IF EXISTS {env['DATABASE_URL'].rsplit('/', 1)[1]}")
    return json.loads(output.strip().splitlines()[-1])


def _psql(sql):
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(sql)


# ---- the peers of comparison -----------------------------------------------------------------------------


def reduce_run(files):
    from storage_logs.reduce import reduce_paths

    started, cpu = time.perf_counter(), _own_cpu()
    result = reduce_paths(files, workers=1)
    result["cpu_seconds"] = _own_cpu() - cpu
    return time.perf_counter() - started, result


def duckdb_run(out, threads):
    import duckdb

    from ascmon.simulator.storage_activity import CLEAN_COLUMNS

    numbers = ("e2e_ms", "server_ms", "operation_count", "request_bytes", "response_bytes", "http_status")
    types = {**dict.fromkeys(numbers, "BIGINT"), "time": "TIMESTAMP"}
    columns = "{" + ", ".join(f"'{c}': '{types.get(c, 'VARCHAR')}'" for c in CLEAN_COLUMNS) + "}"
    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    started, cpu = time.perf_counter(), _own_cpu()
    records, lines = connection.execute(DUCKDB.format(files=out / "clean.csv", columns=columns)).fetchone()
    return time.perf_counter() - started, records, lines, _own_cpu() - cpu


# ---- the report ------------------------------------------------------------------------------------------


def bench(name, lines, folder, databases, two_workers=True, rss=True, profile=None, history=0):
    out = prepare(folder, name, lines)
    entries = workload(out)
    accounts = sorted({entry[0] for entry in entries})
    total_lines = lines_of(out)
    raw = sum(Path(entry[4]).stat().st_size for entry in entries)
    print(f"\n== {name}: {total_lines:,} lines, {raw / 1e6:,.0f} MB in {len(entries)} blobs of "
          f"{len(accounts)} account(s)", flush=True)  # fmt: skip
    service = Peers(accounts)
    try:
        upload(service, out)
        bare_s, size, bare_cpu = bare_read(service, out)
        rate = total_lines / bare_s
        mb_s = size / bare_s / 1e6
        print(f"  bare read (one stream)    {bare_s:7.2f} s  {mb_s:6.1f} MB/s  {rate:9,.0f} lines/s; "
              f"CPU {bare_cpu * 1e6 / total_lines:.2f} s per million lines")  # fmt: skip
        duck_s, records, duck_lines, duck_cpu_s = duckdb_run(out, 1)
        duck2_s, *_ = duckdb_run(out, os.cpu_count() or 1)
        duck_rate = duck_lines / duck_s
        duck_cpu = duck_cpu_s * 1e6 / duck_lines
        print(f"  DuckDB read_csv+GROUP BY  {duck_s:7.2f} s  {duck_rate:17,.0f} lines/s (1 thread; "
              f"{duck_lines / duck2_s:,.0f} with {os.cpu_count()})  {records:,} groups; "
              f"CPU {duck_cpu:.2f} s per million lines")  # fmt: skip
        for label, files in (("log lines", [e[4] for e in entries]), ("CSV twin", [str(out / "clean.csv")])):
            red_s, reduced = reduce_run(files)
            red_rate = reduced["lines"] / red_s
            red_cpu = reduced["cpu_seconds"] * 1e6 / reduced["lines"]
            print(f"  reduce_logs on the {label:9} {red_s:6.2f} s  {red_rate:10,.0f} lines/s = "
                  f"{red_rate / duck_rate:.2f}x DuckDB  {reduced['records']:,} records, "
                  f"reduction {reduced['reduction_pct']} %, reconciled {reduced['reconciled']}; "
                  f"CPU {red_cpu:.2f} s per million lines = {duck_cpu / red_cpu:.2f}x DuckDB's")  # fmt: skip
        for database in databases:
            serving = service.cpu()
            result = finish(run_ingest(database, out, service, ",".join(accounts), folder, profile))
            serving = service.cpu() - serving
            line_rate = result["lines"] / result["seconds"]
            t, r = result["timers"], result
            print(f"  ingest into {database:<10}    {r['seconds']:7.2f} s  {line_rate:17,.0f} lines/s = "
                  f"{line_rate / rate:.2f}x bare read, {line_rate / duck_rate:.2f}x DuckDB; {r['tasks']} "
                  f"task(s) of {r['account_hours']:,} account-hours, {r['rows']:,} rows, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB")  # fmt: skip
            print(f"      download thread {t['download']:.2f} s (overlaps), listing {t['list']:.2f} s, "
                  f"parse + aggregate {t['parse']:.2f} s, merge + commit {t['store']:.2f} s; "
                  f"rerun with nothing new {r['rerun_seconds']:.2f} s")  # fmt: skip
            per_million = 1e6 / max(1, r["lines"])
            server = r["server_cpu_seconds"]
            print(f"      CPU per million lines (steadier than wall time under load): worker "
                  f"{r['cpu_seconds'] * per_million:.1f} s"
                  + (f", database server {server * per_million:.1f} s" if server is not None else "")
                  + f"; {r['rows'] / r['seconds']:,.0f} rows stored/s")  # fmt: skip
            cores = os.cpu_count() or 1
            print(f"      the machine was {r['machine_busy_cores']:.2f} of {cores} cores busy during the run "
                  f"(worker, database, Azurite): a second worker can add at most about "
                  f"{min(1.0, cores / r['machine_busy_cores'] - 1):.0%} of one; Azurite, which is Azure's "
                  f"side of the download and runs elsewhere in production, used {serving:.1f} s of "
                  "CPU")  # fmt: skip
            if r["copy_floor_seconds"] is not None:
                floor = r["copy_floor_seconds"]
                bound = result["lines"] / (t["parse"] + floor) / rate
                limit = (
                    f"with parsing as it is ({t['parse']:.2f} s), this path can reach at most {bound:.2f}x "
                    "the bare read on this server"
                    if bound < 1
                    else "storing is not what bounds this path"
                )
                print(f"      PostgreSQL alone takes {floor:.2f} s to COPY these {r['rows']:,} rows into an "
                      f"empty twin of the table ({r['rows'] / floor:,.0f} rows/s): {limit}")  # fmt: skip
            if history and database == "postgresql" and name == "busy-lake":
                old = finish(run_ingest(database, out, service, ",".join(accounts), folder, history=history))
                print(f"      with {history:,} older rows per account already stored (a month of a busy "
                      f"account): {old['seconds']:.2f} s, merge + commit {old['timers']['store']:.2f} s "
                      f"(against {t['store']:.2f} s into an empty table)")  # fmt: skip
            if name == "busy-lake":
                grown = finish(run_ingest(database, out, service, ",".join(accounts), folder, steps=True))
                g, seconds = grown["timers"], grown["seconds"]
                server_cpu = grown["server_cpu_seconds"]
                server_cpu = None if server_cpu is None else server_cpu * 1e6 / grown["lines"]
                print(f"      read as sweeps find the hour, half a blob more each time (about 10 minutes of "
                      f"it): {seconds:.2f} s in {grown['tasks']} tasks, {grown['lines'] / seconds:,.0f} "
                      f"lines/s = {grown['lines'] / seconds / rate:.2f}x bare read, "
                      f"{seconds / result['seconds']:.2f}x the time of the whole hour at once; listing "
                      f"{g['list']:.2f} s, parse + aggregate {g['parse']:.2f} s, merge + commit "
                      f"{g['store']:.2f} s; CPU per million lines: worker "
                      f"{grown['cpu_seconds'] * 1e6 / grown['lines']:.1f} s"
                      + ("" if server_cpu is None else f", database server {server_cpu:.1f} s"))  # fmt: skip
                same = all(grown[k] == result[k] for k in ("lines", "rows", "raw_bytes", "aggregate_bytes"))
                verdict = "yes" if same else "NO"
                print(f"      same lines, rows and bytes as the whole hour at once: {verdict} "
                      f"({grown['lines']:,} lines, {grown['rows']:,} rows)")  # fmt: skip
            if rss and name == "busy-lake":
                small = finish(run_ingest(database, out, service, accounts[0], folder))
                print(f"      peak RSS: {small['peak_rss_mb']:.0f} MB for {small['lines']:,} lines, "
                      f"{result['peak_rss_mb']:.0f} MB for {result['lines']:,}")  # fmt: skip
            if two_workers and len(accounts) > 1:
                started = time.perf_counter()
                # as two worker processes share the sweep's queue: every other task each (different
                # account-hours; on the busy lake, one account each)
                children = [run_ingest(database, out, service, ",".join(accounts), folder, share=f"{k}/2")
                            for k in range(2)]  # fmt: skip
                both = [finish(child) for child in children]
                wall = time.perf_counter() - started
                together = sum(r["lines"] for r in both) / max(r["seconds"] for r in both)
                server_part = (
                    ""
                    if r["server_cpu_seconds"] is None
                    else (
                        f", database server {_cpu_per_million('server_cpu_seconds', both):.1f} s (one: "
                        f"{_cpu_per_million('server_cpu_seconds', [r]):.1f})"
                    )
                )
                print(f"      two workers sharing the tasks: {together:,.0f} lines/s = "
                      f"{together / line_rate:.2f}x one worker (wall {wall:.1f} s with set-up); the "
                      f"machine was {min(w['machine_busy_cores'] for w in both):.2f} to "
                      f"{max(w['machine_busy_cores'] for w in both):.2f} of {cores} cores busy while they "
                      f"read (one worker: {r['machine_busy_cores']:.2f}); CPU per million lines: worker "
                      f"{_cpu_per_million('cpu_seconds', both):.1f} s (one: "
                      f"{_cpu_per_million('cpu_seconds', [r]):.1f})"
                      f"{server_part}")  # fmt: skip
    finally:
        service.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_500_000)
    parser.add_argument("--db", choices=("both", "postgresql", "sqlite"), default="both")
    parser.add_argument("--dir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--workload", choices=("both", "busy-lake", "default-tenant"), default="both")
    parser.add_argument("--smoke", action="store_true", help="a small run on SQLite (for the test suite)")
    parser.add_argument(
        "--profile",
        help="cProfile the first ingest run of each database into this file "
        "(suffixed .postgresql.prof / .sqlite.prof); read it with python -m pstats",
    )
    parser.add_argument(
        "--history-rows",
        type=int,
        default=1_000_000,
        help="PostgreSQL, busy lake: ingest once more into a table already holding this many older rows "
        "per account (0: skip)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--azurite", help=argparse.SUPPRESS)
    parser.add_argument("--accounts", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--history", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--steps", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--share", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return ingest_child(args)
    _django()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    if args.smoke:
        args.lines, args.db = 6000, "sqlite"
    databases = ("postgresql", "sqlite") if args.db == "both" else (args.db,)
    names = ", ".join(databases)
    print(f"ingest_e2e: {os.cpu_count()} CPUs, {args.lines:,} lines per workload, databases: {names}")
    for name in ("busy-lake", "default-tenant"):
        if args.workload in ("both", name):
            full = not args.smoke
            bench(name, args.lines, folder, databases, two_workers=full, rss=full, profile=args.profile,
                  history=args.history_rows if full else 0)  # fmt: skip


def _django():
    """The parent uploads and reads blobs through ascmon.azure.blobs, which checks endpoints against the
    settings: Django is set up here (the test suite already did), with Azurite's loopback hosts allowed."""
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ascmon.settings")
        os.environ.setdefault("ASCMON_DEBUG", "1")
        import django

        django.setup()
    from ascmon.simulator.launcher import allow_azurite_hosts

    allow_azurite_hosts()


if __name__ == "__main__":
    main()
