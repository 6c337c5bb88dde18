"""Storing a batch of an account's logs: aggregates, request digests, checkpoints and volume, all or nothing.

A batch is stored in one transaction that first locks the account's AccountIngest row, so the batches of
one account are stored one at a time whatever process reads them (different accounts never wait on each
other). Under that lock the batch checks that its blobs' checkpoints are still where it started reading
(else another worker stored those lines: Conflict) and that no other worker counted any of its lines in
the meantime (Conflict again); it then merges the stored rows of its groups into the engine's groups and
writes every row once with its final values. New rows are copied straight into the table (PostgreSQL
COPY, SQLite executemany); rows that absorbed a stored row overwrite it with one UPDATE … FROM a temporary
table. The lock is what makes this race-free: no other worker stores rows of the account meanwhile.

The merge itself is done by the engine (one implementation of "adding two aggregates"), not in SQL: merging
status counts, samples and object digests in SQL cost about 50 µs a row on PostgreSQL here, against 15 µs
for the plain upsert (bench/ingest_e2e.py measures the whole path).
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from storage_logs import billing
from storage_logs.aggregate import LATENESS, ROW_COLUMNS, STORED_COLUMNS, engine
from storage_logs.models import (
    AccountIngest,
    BlobCheckpoint,
    DailyVolume,
    IngestRun,
    LogAggregate,
    LogBatch,
    SeenRequests,
)

TAIL_BYTES = 64
EMIT_ROWS = 20_000  # rows the engine closes at a time: memory stays flat however many groups a batch has
MERGED_BYTES = 64 * 1024 * 1024  # merged rows held before they are written
FEW_KEYS = 2000  # up to this many open groups, their stored rows are found without a temporary table
ROW_BYTES = 400  # about what a row of tuples holds, to count SQLite's merged rows against MERGED_BYTES
# PostgreSQL's binary COPY framing (the engine writes it around each chunk of rows)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"

# The statements, built from the model's own names only (never from data).
_TABLE = LogAggregate._meta.db_table
_COLUMNS = ", ".join(ROW_COLUMNS)
_KEY = ("account_id", "window_start", "group_key")
_UPDATED = [name for name in ROW_COLUMNS if name not in _KEY]
_AS_TEXT = {
    "group_key",
    "first_time",
    "last_time",
    "status_counts",
    "sample_objects",
    "sample_request_ids",
    "batches",
}
_KEYS = "ascmon_batch_keys"
_ROWS = "ascmon_batch_rows"
_JOIN_KEYS = (
    f" FROM {_TABLE} a JOIN {_KEYS} k ON a.window_start = k.window_start AND a.group_key = k.group_key"
    " WHERE a.account_id = %s"
)
SQL = {
    "postgresql": {
        "keys_table": f"CREATE TEMP TABLE IF NOT EXISTS {_KEYS} (window_start timestamptz, group_key uuid) "
        "ON COMMIT DELETE ROWS",
        "clear_keys": "TRUNCATE ascmon_batch_keys",  # the tests run inside one transaction
        "copy_keys": f"COPY {_KEYS} (window_start, group_key) FROM STDIN",
        "rows_table": " ".join(("CREATE TEMP TABLE IF NOT EXISTS", _ROWS, "ON COMMIT DELETE ROWS AS SELECT",
                                _COLUMNS, "FROM", _TABLE, "WITH NO DATA")),
        "clear_rows": "TRUNCATE ascmon_batch_rows",
        "copy_rows": f"COPY {_ROWS} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)",
        "copy_new": f"COPY {_TABLE} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)",
        "update": " ".join(("UPDATE", _TABLE, "a SET", f"({', '.join(_UPDATED)})", "= (",
                            ", ".join(f"t.{c}" for c in _UPDATED), ") FROM", _ROWS, "t WHERE",
                            " AND ".join(f"a.{c} = t.{c}" for c in _KEY))),
        "stored": "SELECT " + ", ".join(f"a.{c}::text" if c in _AS_TEXT else f"a.{c}" for c in STORED_COLUMNS)
        + _JOIN_KEYS,
        "stored_few": " ".join(("SELECT", ", ".join(f"a.{c}::text" if c in _AS_TEXT else f"a.{c}"
                                                    for c in STORED_COLUMNS),
                                "FROM", _TABLE, "a JOIN unnest(%s::timestamptz[], %s::uuid[])",
                                "k (window_start, group_key) ON a.window_start = k.window_start",
                                "AND a.group_key = k.group_key",
                                "WHERE a.account_id = %s")),
    },
    "sqlite": {
        "keys_table": f"CREATE TEMP TABLE IF NOT EXISTS {_KEYS} (window_start text, group_key char(32))",
        "clear_keys": "DELETE FROM ascmon_batch_keys",
        "insert_key": "INSERT INTO ascmon_batch_keys VALUES (%s, %s)",
        "insert": " ".join(("INSERT INTO", _TABLE, f"({_COLUMNS})", "VALUES",
                            f"({', '.join(['%s'] * len(ROW_COLUMNS))})")),
        "update": " ".join(("UPDATE", _TABLE, "SET", ", ".join(f"{c} = %s" for c in _UPDATED), "WHERE",
                            " AND ".join(f"{c} = %s" for c in _KEY))),
        "stored": "SELECT " + ", ".join(f"a.{c}" for c in STORED_COLUMNS) + _JOIN_KEYS,
    },
}  # fmt: skip
_SQLITE_UPDATE_ORDER = [ROW_COLUMNS.index(c) for c in (*_UPDATED, *_KEY)]


class Conflict(Exception):
    """Another worker stored some of this batch's lines first: read again from the stored state."""


@dataclass
class BlobProgress:
    """What a batch read of one blob: from `start` to `end`, where its checkpoint stood at `stored`."""

    container: str
    name: str
    etag: str
    stored: int  # the checkpoint's `consumed` when reading began (None: no checkpoint yet)
    start: int
    end: int
    lines: int = 0
    tail: bytes = b""


@dataclass
class Batch:
    """Lines of one account-hour read since the last stored batch."""

    account_id: int
    hour: object
    run_id: int
    blobs: dict = field(default_factory=dict)  # (container, name) -> BlobProgress
    raw_bytes: int = 0
    billable_bytes: int = 0
    lines: int = 0
    rejected: int = 0
    duplicates: int = 0

    def read(self, progress, data, lines, is_json):
        """`data` (whole lines) of a blob was fed to the engine."""
        key = (progress.container, progress.name)
        held = self.blobs.setdefault(key, progress)
        held.end += len(data)
        held.lines += lines
        held.tail = (held.tail + bytes(data[-TAIL_BYTES:]))[-TAIL_BYTES:]
        self.raw_bytes += len(data)
        self.billable_bytes += billing.raw_billed(data, lines, is_json, engine().syntax_bytes)
        self.lines += lines

    @property
    def empty(self):
        return not self.blobs


def known_digests(account_id, hour):
    """(digests, last id) of the lines counted in the hours near `hour`: repeats of them are dropped."""
    rows = SeenRequests.objects.filter(account_id=account_id, hour__range=(hour - LATENESS, hour + LATENESS))
    found = list(rows.order_by("id").values_list("id", "digests"))
    return b"".join(bytes(digests) for _, digests in found), max((pk for pk, _ in found), default=0)


def store(batch, aggregator, known_until, figures):
    """Store the batch: returns (records added, rows merged, aggregate bytes added, new known_until). The
    engine is emptied; on any error nothing is stored and the engine must be discarded."""
    with transaction.atomic():
        _no_wait_for_flush()
        lock(batch.account_id)
        _check_checkpoints(batch)
        known_until = _check_repeats(batch, aggregator, known_until)
        aggregator.absorb(_stored_rows(batch.account_id, aggregator.keys()))
        totals = _emit_and_write(aggregator, batch.account_id, _record(batch).pk)
        digests = aggregator.take_fresh()
        if digests:
            seen = SeenRequests.objects.create(account_id=batch.account_id, hour=batch.hour, digests=digests)
            known_until = seen.pk
        _advance(batch)
        added = totals["records"] - totals["merged"]
        grown = totals["aggregate_bytes"] - totals["stored_bytes_before"]
        _add_volume(batch, figures, added, grown, totals["billed_bytes"] - totals["stored_billed_before"])
        IngestRun.objects.filter(pk=batch.run_id).update(heartbeat_at=timezone.now())
        AccountIngest.objects.filter(account_id=batch.account_id).update(last_stored_at=timezone.now())
    return added, totals["merged"], grown, known_until


def save(account_id, aggregator):
    """Merge the aggregator's open groups into the account's stored rows and write them (no checkpoints or
    digests): for lines that were not read from the account's blobs, such as a bench's or a test's."""
    with transaction.atomic():
        lock(account_id)
        aggregator.absorb(_stored_rows(account_id, aggregator.keys()))
        return _emit_and_write(aggregator, account_id)


def _no_wait_for_flush():
    """PostgreSQL: commit without waiting for the WAL to reach disk. Safe here: a batch's aggregates, digests
    and checkpoints commit together, so a commit the server loses in a crash just means its lines are read
    again; nothing is half stored."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")


def lock(account_id):
    """Wait for, then hold until the transaction ends, the account's AccountIngest row (on SQLite the
    transaction already holds the database's write lock)."""
    AccountIngest.objects.get_or_create(account_id=account_id)
    return AccountIngest.objects.select_for_update().get(account_id=account_id)


def _check_checkpoints(batch):
    stored = {
        (row.container, row.name): row.consumed
        for row in BlobCheckpoint.objects.filter(
            account_id=batch.account_id, name__in=[name for _, name in batch.blobs]
        )
    }
    for key, progress in batch.blobs.items():
        if stored.get(key) != progress.stored:
            raise Conflict(f"{key[0]}/{key[1]}: stored at {stored.get(key)}, read from {progress.stored}")


def _check_repeats(batch, aggregator, known_until):
    newer = SeenRequests.objects.filter(
        account_id=batch.account_id,
        hour__range=(batch.hour - LATENESS, batch.hour + LATENESS),
        id__gt=known_until,
    ).order_by("id")
    found = list(newer.values_list("id", "digests"))
    if not found:
        return known_until
    digests = b"".join(bytes(d) for _, d in found)
    if aggregator.intersects(digests):
        raise Conflict("another worker counted some of these lines a moment ago")
    aggregator.know(digests)
    return found[-1][0]


def _record(batch):
    """The batch's blobs and byte ranges, for reading its lines again (evidence)."""
    ranges = [[p.container, p.name, p.etag, p.start, p.end] for p in batch.blobs.values()]
    return LogBatch.objects.create(account_id=batch.account_id, hour=batch.hour, ranges=ranges)


def _stored_rows(account_id, keys):
    """The stored rows (STORED_COLUMNS) of these keys (the engine's `keys`)."""
    if not keys:
        return []
    sql = SQL[connection.vendor]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and keys.count(b"\n") <= FEW_KEYS:
            # a small batch (a quiet account's hour): one statement instead of four
            windows, group_keys = zip(*(line.split("\t") for line in keys.decode().splitlines()), strict=True)
            cursor.execute(sql["stored_few"], [list(windows), list(group_keys), account_id])
            return cursor.fetchall()
        cursor.execute(sql["keys_table"])
        cursor.execute(sql["clear_keys"])
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(sql["copy_keys"]) as copy:
                copy.write(keys)
        else:
            cursor.executemany(sql["insert_key"], [line.split("\t") for line in keys.decode().splitlines()])
        cursor.execute(sql["stored"], [account_id])
        # SQLite's cursor hands datetime columns over as datetimes: the engine reads their text
        return [(str(row[0]), row[1], str(row[2]), str(row[3]), *row[4:19], bytes(row[19]), *row[20:])
                for row in cursor.fetchall()]  # fmt: skip


def _emit_and_write(aggregator, account_id, batch_id=0):
    """Every open group leaves the engine, EMIT_ROWS at a time, and is written; returns the totals.

    New rows go in as they are (under the account's lock nobody else stores this account's groups), on
    PostgreSQL through one binary COPY that the server works on while the engine closes the next rows
    (the engine runs without the GIL). Rows that absorbed a stored row overwrite it: they wait, up to
    MERGED_BYTES, and go in together (_write_merged)."""
    pg = connection.vendor == "postgresql"
    totals, merged, held = None, [], 0
    with connection.cursor() as cursor, _CopyStream(cursor) as copy:
        while True:
            new, more, part = aggregator.emit(
                "copy" if pg else "rows", account_id, batch=batch_id, limit=EMIT_ROWS
            )
            totals = _add_totals(totals, part)
            if pg:
                copy.write(new)
            elif new:
                cursor.executemany(SQL["sqlite"]["insert"], new)
            if more:
                merged.append(more)
                held += len(more) if pg else len(more) * ROW_BYTES
            last = part["records"] < EMIT_ROWS
            if merged and (last or held >= MERGED_BYTES):
                if pg:
                    copy.close()
                _write_merged(cursor, merged)
                merged, held = [], 0
            if last:
                break
    return totals


class _CopyStream:
    """One binary COPY of new rows fed with the engine's chunks, each of which carries its own header
    and trailer (COPY_HEADER, COPY_TRAILER); opened at the first rows, closed (and reopened at the next
    rows) when merged rows must be written on the same connection."""

    def __init__(self, cursor):
        self.cursor, self.copy, self.context = cursor, None, None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if error is None:
            self.close()
        elif self.copy is not None:  # the server drops the rows sent (and the transaction rolls back)
            context, self.copy, self.context = self.context, None, None
            context.__exit__(kind, error, trace)

    def write(self, data):
        if not data:
            return
        if not data.startswith(COPY_HEADER) or not data.endswith(COPY_TRAILER):
            raise ValueError("the engine's COPY data lost its header or trailer")
        with memoryview(data) as view:
            if self.copy is None:
                self.context = self.cursor.cursor.copy(SQL["postgresql"]["copy_new"])
                self.copy = self.context.__enter__()
                self.copy.write(view[: -len(COPY_TRAILER)])
            else:
                self.copy.write(view[len(COPY_HEADER) : -len(COPY_TRAILER)])

    def close(self):
        if self.copy is not None:
            self.copy.write(COPY_TRAILER)
            context, self.copy, self.context = self.context, None, None
            context.__exit__(None, None, None)


def _write_merged(cursor, merged):
    """Rows that absorbed a stored row (the engine's chunks) overwrite it: PostgreSQL copies them into a
    temporary table and updates from it in one statement; SQLite updates row by row."""
    if connection.vendor == "postgresql":
        cursor.execute(SQL["postgresql"]["rows_table"])
        cursor.execute(SQL["postgresql"]["clear_rows"])
        with cursor.cursor.copy(SQL["postgresql"]["copy_rows"]) as copy:
            for i, data in enumerate(merged):
                with memoryview(data) as view:
                    start = 0 if i == 0 else len(COPY_HEADER)
                    end = len(data) if i == len(merged) - 1 else len(data) - len(COPY_TRAILER)
                    copy.write(view[start:end])
        cursor.execute(SQL["postgresql"]["update"])
    else:
        for rows in merged:
            ordered = [[row[i] for i in _SQLITE_UPDATE_ORDER] for row in rows]
            cursor.executemany(SQL["sqlite"]["update"], ordered)


def _add_totals(totals, part):
    """The engine's totals of two emits, added."""
    if totals is None:
        return part
    out = {key: totals[key] + part[key] for key in totals if key != "by_kind"}
    out["by_kind"] = {
        kind: tuple(a + b for a, b in zip(totals["by_kind"][kind], part["by_kind"][kind], strict=True))
        for kind in totals["by_kind"]
    }
    return out


def _advance(batch):
    """Move each blob's checkpoint to where the batch stopped (checked under the lock above); the blobs
    read for the first time get theirs in one statement."""
    fresh = []
    for progress in batch.blobs.values():
        fields = {"etag": progress.etag, "consumed": progress.end, "tail": progress.tail}
        if progress.stored is None:
            fresh.append(BlobCheckpoint(account_id=batch.account_id, container=progress.container,
                                        name=progress.name, lines=progress.lines, **fields))  # fmt: skip
            continue
        lines = F("lines") + progress.lines if progress.start == progress.stored else progress.lines
        moved = BlobCheckpoint.objects.filter(
            account_id=batch.account_id, container=progress.container, name=progress.name,
            consumed=progress.stored,
        ).update(lines=lines, **fields)  # fmt: skip
        if not moved:
            raise Conflict(f"{progress.container}/{progress.name} moved under this batch")
    if fresh:
        try:
            with transaction.atomic():
                BlobCheckpoint.objects.bulk_create(fresh)
        except IntegrityError:
            raise Conflict(f"{len(fresh)} new blob(s): one was checkpointed by another worker first")


_VOLUME_COLUMNS = ("raw_lines", "raw_bytes", "billable_bytes", "rejected_lines", "duplicate_lines",
                   "aggregate_records", "aggregate_bytes", "aggregate_billable_bytes")  # fmt: skip
_VOLUME_TABLE = DailyVolume._meta.db_table
# one statement: the day's row is created or added to (PostgreSQL and SQLite both read ON CONFLICT)
_ADD_VOLUME = " ".join((
    "INSERT INTO", _VOLUME_TABLE, "(account_id, day,", ", ".join(_VOLUME_COLUMNS), ") VALUES (%s, %s,",
    ", ".join(["%s"] * len(_VOLUME_COLUMNS)), ") ON CONFLICT (account_id, day) DO UPDATE SET",
    ", ".join(f"{c} = {_VOLUME_TABLE}.{c} + excluded.{c}" for c in _VOLUME_COLUMNS),
))  # fmt: skip


def _add_volume(batch, figures, added, grown, billed):
    values = (batch.lines, batch.raw_bytes, batch.billable_bytes, figures["rejected"], figures["duplicates"],
              added, grown, billed)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_ADD_VOLUME, [batch.account_id, batch.hour.date(), *values])
