"""Reading one account-hour of storage logs from the customer's blobs into stored aggregates.

Every log blob of the hour (classic `$logs`, and the Azure Monitor archive when diagnostic settings send
logs there) is read from its checkpoint on, in whole lines, by a download thread while the engine parses
and aggregates the lines already fetched. Lines accumulate in the engine until a batch is big enough
(STORAGE_LOGS_BATCH_GROUPS open groups or STORAGE_LOGS_BATCH_BYTES read), so an hour is usually stored in
one batch and each aggregate is written once; memory stays bounded however big the hour is. A batch is
stored with its checkpoints in one transaction (storage_logs/store.py). When another worker stored some of
the same lines first, everything not yet stored is dropped and the hour is read again from the stored
checkpoints: nothing is lost and nothing is counted twice.

A task reads a span of the account's hours (tasks.py): its blobs are listed once (per hour, or per day for a
long span) and its hours are read in parts of about a batch's bytes, each part with an engine of its own, so
an engine's batch can hold the lines of many quiet hours while a busy hour is a part of its own.

A blob that changed since it was read (its ETag changed and the bytes before its checkpoint are not the
ones read, or it shrank) is read again from its start: the request digests of the lines counted before drop
them as repeats. When those digests are no longer kept, its hour is left alone and reported lost.
"""

import logging
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings

from ascmon.azure import blobs
from storage_logs import parse, store
from storage_logs.aggregate import Aggregator
from storage_logs.models import AggregationPolicy, BlobCheckpoint, SeenRequests

log = logging.getLogger(__name__)
MONITOR_CONTAINERS = tuple(f"insights-logs-storage{kind}" for kind in ("read", "write", "delete"))
CHUNK_BYTES = 4 * 1024 * 1024
PREFETCH_CHUNKS = 16  # 64 MB: downloads go on while a batch is stored


@dataclass
class Source:
    """One log blob to read, from `start` (its checkpoint, or 0 when it must be read again)."""

    access: object
    container: str
    info: object
    stored: int | None
    start: int
    is_json: bool
    changed: bool = False


def sources(account, hour, whole_day=False):
    """(container, prefix, json?) to list for an hour, or for its whole UTC day: classic $logs, and the
    Monitor archive if on."""
    if account.classic_logging_on:
        yield "$logs", f"blob/{hour:%Y/%m/%d}/" + ("" if whole_day else f"{hour:%H}00/"), False
    if account.diagnostic_logs:
        rid = f"{account.resource_id}/blobServices/default".upper().lstrip("/")
        day = f"resourceId=/{rid}/y={hour:%Y}/m={hour:%m}/d={hour:%d}/"
        for container in MONITOR_CONTAINERS:
            yield container, day + ("" if whole_day else f"h={hour:%H}/"), True


def _hour_of(name, prefix, is_json, day):
    """The hour a blob listed under a day's prefix logs, from its name (None: not a log blob's name)."""
    rest = name[len(prefix) :]
    digits = rest[2:4] if is_json else rest[:2]
    laid_out = rest.startswith("h=") and rest[4:5] == "/" if is_json else rest[2:5] == "00/"
    if not laid_out or not (digits.isascii() and digits.isdigit()) or int(digits) > 23:
        return None
    return day.replace(hour=int(digits))


def list_hours(account, hours, access, archive_access):
    """{hour: [(access, container, BlobInfo, json?)]} of the account's log blobs of `hours` (sorted): one
    listing per container and hour for a short span, per container and day for a longer one (a catching-up
    account's day costs four round trips, not ninety-six). The listings run at once."""
    wanted = set(hours)
    whole_day = len(hours) > 3
    starts = sorted({hour.replace(hour=0) for hour in hours}) if whole_day else hours
    where = [
        (start, archive_access if is_json else access, container, prefix, is_json)
        for start in starts
        for container, prefix, is_json in sources(account, start, whole_day)
    ]
    found = {hour: [] for hour in hours}
    if not where:
        return found
    with ThreadPoolExecutor(max_workers=min(8, len(where))) as pool:
        listings = list(pool.map(lambda w: blobs.list_blobs(w[1], w[2], w[3]), where))
    for (start, place, container, prefix, is_json), infos in zip(where, listings, strict=True):
        for info in infos:
            hour = _hour_of(info.name, prefix, is_json, start) if whole_day else start
            if hour in wanted:
                found[hour].append((place, container, info, is_json))
    return found


def _parts(listed, limit):
    """The span's hours in parts read one after the other, each with an engine of its own: hours of one UTC
    day, up to about `limit` listed bytes a part (a busy hour is a part of its own), so that the request
    digests an engine holds are those of a few busy hours, or of many quiet ones."""
    parts, size = [], 0
    for hour, found in listed.items():
        grows = sum(info.size for _, _, info, _ in found)
        if parts and parts[-1][-1].date() == hour.date() and size + grows <= limit:
            parts[-1].append(hour)
            size += grows
        else:
            parts.append([hour])
            size = grows
    return parts


def read_account_hours(run, account, hours, access, archive_access, totals):
    """Read and store every log line of the account's `hours` (sorted) not stored yet; `totals` (a Counter)
    gathers what was stored. Returns (samples of rejected lines, {hour: why it was left alone}): an hour
    whose rewritten blobs cannot be read again without counting lines twice is not read. Raises
    store.Conflict when other workers kept storing the same lines first."""
    policies = AggregationPolicy.current()
    listed = list_hours(account, hours, access, archive_access)
    samples, lost = [], {}
    for part in _parts(listed, settings.STORAGE_LOGS_BATCH_BYTES):
        found = {hour: listed[hour] for hour in part}
        attempts = settings.STORAGE_LOGS_CONFLICT_RETRIES
        for attempt in range(attempts):
            try:
                part_samples, part_lost, planned = _read(run, account, found, policies, totals)
                break
            except store.Conflict as conflict:
                # Another worker stored lines first: it made progress, so reading on from what it stored
                # is progress too. A short random pause keeps two workers of one hour from colliding in
                # step; the hours are listed again (their blobs may have grown meanwhile).
                log.info("%s %s: %s; reading again from the stored checkpoints", account, part[0], conflict)
                totals["conflicts"] += 1
                time.sleep(random.uniform(0, min(1.0, 0.05 * (attempt + 1))))
                found = list_hours(account, part, access, archive_access)
        else:
            raise store.Conflict(f"other workers kept storing these lines first ({attempts} attempts)")
        totals["blobs_read"] += len(planned)  # as the attempt that finished the part planned them
        totals["changed_blobs"] += sum(source.changed for source in planned)
        samples.extend(part_samples[: max(0, parse.SAMPLES_KEPT - len(samples))])
        lost.update(part_lost)
    return samples, lost


def plan(account, found):
    """(the blobs to read and where from, {hour: why it is left alone}): an hour with a blob that changed
    after the hour's request digests were dropped is not read at all."""
    names = {info.name for listed in found.values() for _, _, info, _ in listed}
    stored = BlobCheckpoint.objects.filter(account=account, name__in=names) if names else []
    checkpoints = {(c.container, c.name): c for c in stored}
    planned, lost = [], {}
    for hour, listed in found.items():
        chosen, changed = [], []
        for where, container, info, is_json in listed:
            source = _source(where, container, info, checkpoints.get((container, info.name)), is_json)
            if source is None:
                continue
            chosen.append(source)
            if source.changed:
                changed.append(f"{container}/{info.name}")
        kept = SeenRequests.objects.filter(account=account, hour__lte=hour, last_hour__gte=hour)
        if changed and not kept.exists():  # the sweep forgot the hour's digests (retention)
            lost[hour] = (
                f"{len(changed)} blob(s) changed after their lines were counted and their request digests "
                f"were dropped ({', '.join(changed[:3])}): left alone so that nothing is counted twice"
            )
            continue
        planned.extend(chosen)
    return planned, lost


def _source(access, container, info, checkpoint, is_json):
    if checkpoint is None:
        return Source(access, container, info, None, 0, is_json) if info.size else None
    consumed = checkpoint.consumed
    if info.size < consumed:
        log.warning("log blob %s/%s shrank below its checkpoint: reading it again", container, info.name)
        return Source(access, container, info, consumed, 0, is_json, changed=True)
    if info.etag != checkpoint.etag and consumed and not _grown(access, container, info, checkpoint):
        log.warning("log blob %s/%s was rewritten: reading it again", container, info.name)
        return Source(access, container, info, consumed, 0, is_json, changed=True)
    if info.size == consumed:
        return None
    return Source(access, container, info, consumed, consumed, is_json)


def _grown(access, container, info, checkpoint):
    """A blob Azure appended to keeps the bytes before the checkpoint (its ETag changes all the same)."""
    tail = bytes(checkpoint.tail)
    if not tail:
        return True  # checkpoints made before tails were kept: trust the offset
    return blobs.read_range(access, container, info.name, checkpoint.consumed - len(tail), len(tail)) == tail


def _read(run, account, found, policies, totals):
    first, last = min(found), max(found)
    known, known_until = store.known_digests(account.id, first, last)
    aggregator = Aggregator(policies)
    aggregator.know(known)
    rejects = parse.Rejects()
    planned, lost = plan(account, found)
    position = {(s.container, s.info.name): (s.stored, s.start) for s in planned}
    batch, seen = _new_batch(account, first, last, run), _Seen(aggregator, rejects)
    for source, data in _in_order(planned):
        key = (source.container, source.info.name)
        stored, offset = position[key]
        progress = batch.blobs.get(key) or store.BlobProgress(
            source.container, source.info.name, source.info.etag, stored, offset, offset
        )
        lines = aggregator.add_text(data, rejects, is_json=source.is_json)
        batch.read(progress, data, lines, source.is_json)
        if (aggregator.figures["groups"] >= settings.STORAGE_LOGS_BATCH_GROUPS
                or batch.raw_bytes >= settings.STORAGE_LOGS_BATCH_BYTES):  # fmt: skip
            known_until = _store(batch, aggregator, known_until, seen, totals, position)
            batch = _new_batch(account, first, last, run)
    if not batch.empty:
        _store(batch, aggregator, known_until, seen, totals, position)
    return rejects.samples, lost, planned


class _Seen:
    """The engine's running counts, to tell what each batch added."""

    def __init__(self, aggregator, rejects):
        self.aggregator, self.rejects = aggregator, rejects
        self.duplicates = self.rejected = 0

    def since_last(self):
        duplicates, rejected = self.aggregator.duplicates, self.rejects.count
        out = {"duplicates": duplicates - self.duplicates, "rejected": rejected - self.rejected}
        self.duplicates, self.rejected = duplicates, rejected
        return out


def _new_batch(account, first, last, run):
    return store.Batch(account.id, first, run.id, last_hour=last)


def _store(batch, aggregator, known_until, seen, totals, position):
    figures = seen.since_last()
    added, merged, grown, known_until = store.store(batch, aggregator, known_until, figures)
    for key, progress in batch.blobs.items():
        position[key] = (progress.end, progress.end)
    totals.update(
        bytes_read=batch.raw_bytes, lines=batch.lines, records=added, merged=merged,
        duplicates=figures["duplicates"], rejected=figures["rejected"],
    )  # fmt: skip
    return known_until


def _chunks(source):
    """(source, whole lines) of one planned blob; a trailing partial line waits for the next run."""
    stream = blobs.read_blob(source.access, source.container, source.info.name, source.start)
    for data in whole_line_chunks(stream, min(CHUNK_BYTES, settings.STORAGE_LOGS_BATCH_BYTES)):
        yield source, data


def whole_line_chunks(stream, size=CHUNK_BYTES):
    """Chunks of at most about `size` bytes that end at a newline (a longer line is a chunk of its own); a
    trailing partial line is left out."""
    pending = b""
    for block in stream:
        pending = pending + block if pending else block
        while len(pending) >= size:
            cut = (pending.rfind(b"\n", 0, size) + 1) or (pending.find(b"\n", size) + 1)
            if not cut:
                break
            yield pending[:cut]
            pending = pending[cut:]
    cut = pending.rfind(b"\n") + 1
    if cut:
        yield pending[:cut]


def _in_order(planned):
    """Classic blobs before Azure Monitor ones: an account logging both writes each request twice, and its
    first copy read is the one counted (the other is a repeat). The two name a SAS principal differently
    (visible token fields, or the signature's hash), so reading them interleaved would give a request
    either identity by chance."""
    for is_json in (False, True):
        part = [source for source in planned if source.is_json == is_json]
        if part:
            yield from _prefetched(part)


def _prefetched(planned, streams=None, depth=PREFETCH_CHUNKS):
    """(source, whole lines) of every planned blob, downloaded by `streams` threads (several blobs of the
    hour at once: one stream through the SDK is slower than the engine), up to `depth` chunks ahead of the
    consumer, so downloads also go on while a batch is stored. Chunks of different blobs interleave;
    each blob's come in order. A thread's error reaches the consumer; the threads stop when it does."""
    streams = max(1, min(streams or settings.STORAGE_LOGS_DOWNLOAD_STREAMS, len(planned)))
    handoff, stop, done = queue.Queue(maxsize=depth), threading.Event(), object()
    pending, taking = list(reversed(planned)), threading.Lock()

    def next_source():
        with taking:
            return pending.pop() if pending else None

    def produce():
        try:
            while (source := next_source()) is not None and not stop.is_set():
                for item in _chunks(source):
                    while not stop.is_set():
                        try:
                            handoff.put(item, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            handoff.put(done)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            handoff.put(error)

    threads = [threading.Thread(target=produce, name="log-download", daemon=True) for _ in range(streams)]
    for thread in threads:
        thread.start()
    try:
        finished = 0
        while finished < streams:
            item = handoff.get()
            if item is done:
                finished += 1
                continue
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while any(thread.is_alive() for thread in threads):
            try:
                handoff.get_nowait()
            except queue.Empty:
                for thread in threads:
                    thread.join(0.05)
