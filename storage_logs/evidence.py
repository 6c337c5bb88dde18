"""Evidence: an aggregate's raw log lines, read again from the customer's blobs.

Each aggregate names the batches that fed it and each batch the blob byte ranges it read (LogBatch). The
lines of an aggregate are read from those ranges only, through the same access ingestion uses, with
If-Match on the ETag the batch recorded, and picked by the engine's own grouping (Aggregator.select), so
they are exactly the lines that built it. Pages stream: the first page stops reading once it has its
lines. A blob Azure appended to after a batch read it has a new ETag but the same bytes before ingestion's
checkpoint (ingestion compares the bytes before it, storage_logs/ingest.py `_grown`): those ranges are read
with the checkpoint's ETag instead. When lines can no longer be read, Unfetchable says why, in words, with
the day the customer's retention ends for the hour.
"""

import functools
import html
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ascmon.azure import blobs
from ascmon.azure.errors import AzureError, BadCredentials, BlobChanged, Forbidden, NotFound
from storage_logs import parse, tasks
from storage_logs.aggregate import Aggregator
from storage_logs.ingest import whole_line_chunks
from storage_logs.models import AggregationPolicy, BlobCheckpoint, LogBatch

PAGE_LINES = 100
CHUNK_BYTES = 1024 * 1024  # small enough that a first page stops reading early


@dataclass(frozen=True)
class Line:
    """One raw log line as the customer's blob holds it, and where."""

    container: str
    blob: str
    offset: int
    raw: bytes  # without its line end

    @property
    def is_json(self):
        return self.container != "$logs"

    @functools.cached_property
    def record(self):
        fmt = parse.MONITOR_JSON if self.is_json else parse.CLASSIC
        return parse.line_record(fmt, parse.Rejects(), self.raw)

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    def row(self):
        """The fields an analyst reads, as plain text (classic fields are HTML-encoded as written)."""
        r = self.record
        if r is None:
            return {"time": "", "operation": "", "status": "", "principal": "", "ip": "", "user_agent": "",
                    "object": "", "request_bytes": 0, "response_bytes": 0, "text": self.text}  # fmt: skip
        kind, who = parse.principal_of(r)
        upn = html.unescape(r[parse.UPN])
        return {
            "time": r[parse.TIME],
            "operation": r[parse.OP],
            "status": " ".join(filter(None, (r[parse.STATUS], r[parse.HTTP]))),
            "principal": f"{kind}: {who}" + (f" ({upn})" if upn else "") if who else kind,
            "ip": r[parse.IP],
            "user_agent": html.unescape(r[parse.UA]),
            "object": "/".join(
                filter(None, (html.unescape(r[parse.CONTAINER]), html.unescape(r[parse.OBJECT])))
            ),
            "request_bytes": int(r[parse.REQ] or 0),
            "response_bytes": int(r[parse.RESP] or 0),
            "text": self.text,
        }


class Unfetchable(Exception):
    """The lines can no longer be read: `reason` says why in words, `retention_ends` (a datetime or None)
    when the customer's retention deletes (or deleted) the blobs of the aggregate's hour."""

    def __init__(self, reason, retention_ends=None, retryable=False):
        super().__init__(reason)
        self.reason, self.retention_ends, self.retryable = reason, retention_ends, retryable


def retention_ends(account, hour, monitor=False):
    """When the customer's retention deletes the log blobs of `hour`: classic logging's retention days for
    $logs, the lifecycle rule's days for the insights-logs containers; None when nothing deletes them."""
    days = account.lifecycle_delete_days if monitor else account.logging_retention_days
    if not days:
        return None
    return hour.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days, hours=1)


@dataclass(frozen=True)
class Kept:
    """How long one source of an account's raw lines stays fetchable."""

    source: str  # "classic $logs" or "Azure Monitor archive (insights-logs-*)"
    days: int | None  # None: nothing the customer set deletes them
    rule: str  # where the days come from
    window: int  # the SOC's investigation window (days)
    now: datetime

    @property
    def oldest(self):
        """The oldest hour whose lines are still fetchable (None: no limit)."""
        return self.now - timedelta(days=self.days) if self.days else None

    @property
    def today_until(self):
        """Until when the lines written now stay fetchable."""
        return self.now + timedelta(days=self.days) if self.days else None

    @property
    def too_short(self):
        return bool(self.days) and self.days < self.window


def kept(account, window, now=None):
    """[Kept] per source of the account's raw lines (classic logging, the diagnostic archive)."""
    now = now or datetime.now(UTC)
    out = []
    if account.classic_logging_on:
        rule = "classic logging retention" if account.logging_retention_days else "no retention set"
        out.append(Kept("classic $logs", account.logging_retention_days, rule, window, now))
    if account.diagnostic_logs:
        days = account.lifecycle_delete_days
        rule = "lifecycle management rule" if days else "no lifecycle rule deletes them"
        out.append(Kept("Azure Monitor archive (insights-logs-*)", days, rule, window, now))
    return out


def fetchable_until(account, hour):
    """When the first of the hour's log blobs goes (None: nothing the customer set deletes them)."""
    ends = [
        retention_ends(account, hour, monitor)
        for monitor, on in ((False, account.classic_logging_on), (True, account.diagnostic_logs))
        if on
    ]
    ends = [end for end in ends if end]
    return min(ends) if ends else None


def lines_of(aggregate, policies=None):
    """Every raw line of the aggregate, in the order its batches read them. Raises Unfetchable."""
    batches = list(LogBatch.objects.filter(pk__in=aggregate.batches).order_by("pk"))
    if not batches:
        raise Unfetchable(
            "ascmon kept no pointer to this aggregate's lines (it was stored before pointers were kept, or "
            "its batches were forgotten)."
        )
    reader = _Reader(aggregate, policies or AggregationPolicy.current())
    for batch in batches:
        for container, name, etag, start, end in batch.ranges:
            yield from reader.lines(container, name, etag, start, end)


def lines_of_many(aggregates, policies=None):
    """The lines of several aggregates, one after the other."""
    policies = policies or AggregationPolicy.current()
    return itertools.chain.from_iterable(lines_of(a, policies) for a in aggregates)


def page_of(lines, number, size=PAGE_LINES):
    """(the lines of page `number` (from 1), whether another page follows); reading stops there."""
    start = (number - 1) * size
    taken = list(itertools.islice(lines, start, start + size + 1))
    return taken[:size], len(taken) > size


@dataclass(frozen=True)
class Tally:
    """What fetched lines add up to, beside the aggregate's own figures."""

    lines: int
    request_bytes: int
    response_bytes: int

    def matches(self, aggregate):
        return (self.lines, self.request_bytes, self.response_bytes) == (
            aggregate.count,
            aggregate.request_bytes,
            aggregate.response_bytes,
        )


def tally(lines, batch=20_000):
    """The lines' count and bytes, summed by the engine (as ingestion summed them), not line by line."""
    engine, rejects, pending, count = Aggregator(), parse.Rejects(), {False: [], True: []}, 0
    for line in lines:
        count += 1
        waiting = pending[line.is_json]
        waiting.append(line.raw)
        if len(waiting) >= batch:
            _feed(engine, rejects, waiting, line.is_json)
    for is_json, waiting in pending.items():
        _feed(engine, rejects, waiting, is_json)
    totals = engine.emit("stats")[2]
    return Tally(count, totals["request_bytes"], totals["response_bytes"])


def _feed(engine, rejects, raws, is_json):
    if raws:
        engine.add_text(b"\n".join(raws) + b"\n", rejects, is_json=is_json)
        raws.clear()


class _Reader:
    """Reads one aggregate's ranges and picks its lines; one engine for all of them, as ingestion had."""

    def __init__(self, aggregate, policies):
        self.aggregate, self.account = aggregate, aggregate.account
        self.aggregator, self.rejects = Aggregator(policies), parse.Rejects()
        self._access = {}

    def lines(self, container, name, etag, start, end):
        key = self.aggregate.group_key
        is_json = container != "$logs"
        offset = start
        for data in whole_line_chunks(self._stream(container, name, etag, start, end), CHUNK_BYTES):
            for a, b in self.aggregator.select(data, key, self.rejects, is_json=is_json):
                yield Line(container, name, offset + a, bytes(data[a:b]).rstrip(b"\r\n"))
            offset += len(data)

    def _stream(self, container, name, etag, start, end):
        """The range's chunks; If-Match holds for every request, so a blob changed midway raises too."""
        access = self.access(container)
        chunks, first = self._open(access, container, name, etag, start, end)
        if chunks is None:
            grown = self._grown_etag(container, name, etag, end)
            if grown is None:
                raise self._unfetchable(container, name, self._changed_or_gone(access, container, name))
            chunks, first = self._open(access, container, name, grown, start, end)
            if chunks is None:
                raise self._unfetchable(container, name, "changed")
        yield first
        try:
            yield from chunks
        except BlobChanged:
            raise self._unfetchable(container, name, "changed") from None
        except AzureError as error:
            raise self._unfetchable(container, name, error) from error

    def _open(self, access, container, name, etag, start, end):
        """(the rest of the chunks, the first chunk), or (None, None) when the ETag is no longer `etag`."""
        chunks = blobs.read_range_if_unchanged(access, container, name, start, end, etag)
        try:
            return chunks, next(chunks, b"")
        except BlobChanged:
            return None, None
        except AzureError as error:
            raise self._unfetchable(container, name, error) from error

    def _changed_or_gone(self, access, container, name):
        """A failed If-Match on a blob that no longer exists is a deletion, not a rewrite."""
        try:
            return "changed" if blobs.blob_exists(access, container, name) else NotFound(name)
        except AzureError as error:
            return error

    def _grown_etag(self, container, name, etag, end):
        """The ETag under which ingestion checked the blob only grew past `end`, if it did."""
        checkpoint = BlobCheckpoint.objects.filter(
            account=self.account, container=container, name=name
        ).first()
        if checkpoint and checkpoint.etag != etag and checkpoint.consumed >= end:
            return checkpoint.etag
        return None

    def access(self, container):
        where = "archive" if container != "$logs" else "own"
        if where not in self._access:
            try:
                own = self._access.get("own") or tasks.account_access(self.account)
                self._access["own"] = own
                self._access["archive"] = tasks.archive_access(self.account, own)
            except AzureError as error:
                raise self._unfetchable(container, "", error) from error
        return self._access[where]

    def _unfetchable(self, container, name, error):
        ends = retention_ends(self.account, self.aggregate.window_start, container != "$logs")
        blob = f"{container}/{name}" if name else self.account.name
        return Unfetchable(reason_for(error, blob, self.account.name, ends), ends, _retryable(error))


def _retryable(error):
    return getattr(error, "retryable", False)


def reason_for(error, blob, account_name, ends):
    """Why lines cannot be read, in words an analyst can pass on to the customer."""
    if error == "changed":
        return (
            f"The log blob {blob} was rewritten after ascmon read it (its ETag changed and its bytes are not "
            "the ones counted), so its lines cannot be shown as evidence."
        )
    if isinstance(error, NotFound):
        when = _retention_words(ends)
        return f"The log blob {blob} no longer exists: it was deleted, {when}."
    if isinstance(error, BadCredentials | Forbidden):
        return (
            f"ascmon lost access to storage account {account_name} ({type(error).__name__}: {error}); the "
            "customer must grant the app registration its roles again (README: Pointing ascmon at a real "
            "Azure tenant)."
        )
    return f"The log blob {blob} could not be read now ({type(error).__name__}: {error}); try again later."


def _retention_words(ends):
    if ends is None:
        return "though no retention the customer set deletes it (someone removed it)"
    if ends <= datetime.now(UTC):
        return f"by the customer's retention, which kept this hour's logs until {ends:%Y-%m-%d %H:%M} UTC"
    return (
        f"before the customer's retention would have ({ends:%Y-%m-%d %H:%M} UTC): someone removed it, or "
        "the retention was shortened"
    )
