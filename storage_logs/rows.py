"""An engine's groups in and out of the aggregate table, inside the transaction storage_logs/store.py holds
under the account's lock: the stored rows of the engine's open groups (to merge them in), and the engine's
rows written. New rows go in through one binary COPY on PostgreSQL (executemany on SQLite); rows that
absorbed a stored row overwrite it with one UPDATE … FROM a temporary table. Statements are built from the
model's own names only, never from data.
"""

import json

from django.db import connection
from psycopg.copy import QueuedLibpqWriter

from storage_logs.aggregate import ROW_COLUMNS, STORED_COLUMNS
from storage_logs.models import LogAggregate

EMIT_ROWS = 20_000  # rows the engine closes at a time: memory stays flat however many groups a batch has
FIRST_ROWS = 2_000  # fewer at first, so that the server starts on them sooner (it idled ~50 ms per batch)
MERGED_BYTES = 64 * 1024 * 1024  # merged rows held before they are written
WINDOW_TEXT = len("YYYY-MM-DD HH:MM:SS")  # a key line's window start (Aggregator.keys)
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
_AS_TEXT = {"group_key", "first_time", "last_time"}  # the JSON columns are text already
_KEYS = "ascmon_batch_keys"
_ROWS = "ascmon_batch_rows"
_JOIN_KEYS = (
    f" FROM {_TABLE} a JOIN {_KEYS} k ON a.window_start = k.window_start AND a.group_key = k.group_key"
    " WHERE a.account_id = %s"
)


def _probe(keys):
    """PostgreSQL: the stored rows (STORED_COLUMNS) of `keys` (a FROM item of window_start, group_key)."""
    columns = ", ".join(f"a.{c}::text" if c in _AS_TEXT else f"a.{c}" for c in STORED_COLUMNS)
    return " ".join(("SELECT", columns, "FROM", keys, "CROSS JOIN LATERAL (SELECT * FROM", _TABLE, "x",
                     "WHERE x.account_id = %s AND x.window_start = k.window_start",
                     "AND x.group_key = k.group_key LIMIT 1) a"))  # fmt: skip


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
        # Every lookup by key is a LATERAL subquery with LIMIT 1, which the planner cannot turn into a join
        # of its own choosing: each key is one probe of the unique index, whatever the statistics say. A
        # join left to the planner hashed every stored row of the account (or the whole table), and with
        # stale statistics it rescanned them once per key. The UPDATE then reaches each row by its id.
        "update": " ".join(("UPDATE", _TABLE, "a SET", f"({', '.join(_UPDATED)})", "= (",
                            ", ".join(f"t.{c}" for c in _UPDATED), ")",
                            "FROM (SELECT t.*, s.id AS stored_id FROM", _ROWS, "t",
                            "CROSS JOIN LATERAL (SELECT x.id FROM", _TABLE, "x WHERE",
                            " AND ".join(f"x.{c} = t.{c}" for c in _KEY), "LIMIT 1) s) t",
                            "WHERE a.id = t.stored_id")),
        "stored": _probe(f"{_KEYS} k"),
        "stored_windows": " ".join(("SELECT u.i FROM unnest(%s::timestamptz[]) WITH ORDINALITY u (w, i)",
                                    "CROSS JOIN LATERAL (SELECT 1 FROM", _TABLE,
                                    "a WHERE a.account_id = %s AND a.window_start = u.w LIMIT 1) s")),
        "stored_few": _probe("unnest(%s::timestamptz[], %s::uuid[]) k (window_start, group_key)"),
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
        "stored_windows": " ".join(("SELECT j.key + 1 FROM json_each(%s) j",
                                    "WHERE EXISTS (SELECT 1 FROM", _TABLE,
                                    "a WHERE a.account_id = %s AND a.window_start = j.value)")),
    },
}  # fmt: skip
# PostgreSQL, for the rest of the transaction that stores rows (store.py sets them when it opens it): no
# hash or merge joins (the UPDATE of merged rows joins them to the table by id: a hash join read the whole
# table) and no JIT compiling, which is no use for lookups of single rows. The lookups by key are LATERAL
# probes already (SQL above): before, with tens of thousands of keys, storing a batch cost time in
# proportion to the history kept, not to the batch (2.2 s against 0.24 s for 78,000 keys with 2.4 million
# rows stored; bench/ingest_e2e.py --history-rows).
PLANNER_SETTINGS = ("enable_hashjoin TO off", "enable_mergejoin TO off", "jit TO off")
_SQLITE_UPDATE_ORDER = [ROW_COLUMNS.index(c) for c in (*_UPDATED, *_KEY)]


def stored_rows(account_id, aggregator):
    """The stored rows (STORED_COLUMNS) of the aggregator's open groups."""
    groups = aggregator.figures["groups"]
    if not groups:
        return []
    sql = SQL[connection.vendor]
    with connection.cursor() as cursor:
        if groups > FEW_KEYS:
            keys = _in_stored_windows(cursor, account_id, aggregator)
            if not keys:
                return []
        else:
            keys = aggregator.keys()
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


def _in_stored_windows(cursor, account_id, aggregator):
    """The keys (the engine's `keys`) whose window holds stored rows of the account: only they can have a
    stored row. A busy account's new hour is a window of its own, so most of a batch's groups need no
    lookup, and when none of its windows holds rows their keys are not even listed."""
    windows = aggregator.windows()
    texts = [window.decode() for window in windows]
    param = texts if connection.vendor == "postgresql" else json.dumps(texts)
    cursor.execute(SQL[connection.vendor]["stored_windows"], [param, account_id])
    stored = {windows[i - 1] for (i,) in cursor.fetchall()}
    if not stored:
        return b""
    keys = aggregator.keys()
    if len(stored) == len(windows):
        return keys
    lines = keys.splitlines()
    if lines[0][WINDOW_TEXT : WINDOW_TEXT + 1] != b"\t":  # the engine writes every line alike
        raise ValueError("the engine's keys are not lines of a window start, a tab and a key")
    return b"".join(line + b"\n" for line in lines if line[:WINDOW_TEXT] in stored)


def emit_and_write(aggregator, account_id, batch_id=0):
    """Every open group leaves the engine, FIRST_ROWS and then EMIT_ROWS at a time, and is written; returns
    the totals.

    New rows go in as they are (under the account's lock nobody else stores this account's groups), on
    PostgreSQL through one binary COPY that the server works on while the engine closes the next rows
    (the engine runs without the GIL). Rows that absorbed a stored row overwrite it: they wait, up to
    MERGED_BYTES, and go in together (write_merged)."""
    pg = connection.vendor == "postgresql"
    totals, merged, held = None, [], 0
    with connection.cursor() as cursor, _CopyStream(cursor) as copy:
        limit = FIRST_ROWS
        while True:
            new, more, part = aggregator.emit(
                "copy" if pg else "rows", account_id, batch=batch_id, limit=limit
            )
            totals = _add_totals(totals, part)
            if pg:
                copy.write(new)
            elif new:
                cursor.executemany(SQL["sqlite"]["insert"], new)
            if more:
                merged.append(more)
                held += len(more) if pg else len(more) * ROW_BYTES
            last, limit = part["records"] < limit, EMIT_ROWS
            if merged and (last or held >= MERGED_BYTES):
                if pg:
                    copy.close()
                write_merged(cursor, merged)
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
        view = memoryview(data)  # not released here: the writer thread may still be sending it
        if self.copy is None:
            self.context = _copy(self.cursor, SQL["postgresql"]["copy_new"])
            self.copy = self.context.__enter__()
            self.copy.write(view[: -len(COPY_TRAILER)])
        else:
            self.copy.write(view[len(COPY_HEADER) : -len(COPY_TRAILER)])

    def close(self):
        if self.copy is not None:
            self.copy.write(COPY_TRAILER)
            context, self.copy, self.context = self.context, None, None
            context.__exit__(None, None, None)


def _copy(cursor, statement):
    """A COPY whose writes return at once: a thread of psycopg's sends the data while the engine closes
    the next rows. With the plain writer, each write waited until the server had taken nearly all of it,
    so the engine and the server took turns (about a fifth of storing a busy batch, bench/ingest_e2e.py)."""
    return cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor))


def write_merged(cursor, merged):
    """Rows that absorbed a stored row (the engine's chunks) overwrite it: PostgreSQL copies them into a
    temporary table and updates from it in one statement; SQLite updates row by row."""
    if connection.vendor == "postgresql":
        cursor.execute(SQL["postgresql"]["rows_table"])
        cursor.execute(SQL["postgresql"]["clear_rows"])
        with _copy(cursor, SQL["postgresql"]["copy_rows"]) as copy:
            for i, data in enumerate(merged):
                start = 0 if i == 0 else len(COPY_HEADER)
                end = len(data) if i == len(merged) - 1 else len(data) - len(COPY_TRAILER)
                copy.write(memoryview(data)[start:end])
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
