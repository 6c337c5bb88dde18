"""Reading one account-hour of storage logs from the customer's blobs into stored aggregates.

Every log blob of the hour (classic `$logs`, and the Azure Monitor archive when diagnostic settings send
logs there) is read from its checkpoint on, in whole lines, by a download thread while the engine parses
and aggregates the lines already fetched. Lines accumulate in the engine until a batch is big enough
(STORAGE_LOGS_BATCH_GROUPS open groups or STORAGE_LOGS_BATCH_BYTES read), so an hour is usually stored in
one batch and each aggregate is written once; memory stays bounded however big the hour is. A batch is
stored with its checkpoints in one transaction (storage_logs/store.py). When another worker stored some of
the same lines first, everything not yet stored is dropped and the hour is read again from the stored
checkpoints: nothing is lost and nothing is counted twice.

A blob that changed since it was read (its ETag changed and the bytes before its checkpoint are not the
ones read, or it shrank) is read again from its start: the request digests of the lines counted before drop
them as repeats. When those digests are no longer kept, the blob is left alone and the run fails, saying so.
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


class ChangedBlobs(Exception):
    """Blobs were rewritten after their request digests were dropped: reading them again would count
    lines twice."""


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


def sources(account, hour):
    """(container, prefix, json?) to list for an hour: classic $logs, and the Monitor archive if on."""
    if account.classic_logging_on:
        yield "$logs", f"blob/{hour:%Y/%m/%d/%H}00/", False
    if account.diagnostic_logs:
        rid = f"{account.resource_id}/blobServices/default".upper().lstrip("/")
        for container in MONITOR_CONTAINERS:
            yield container, f"resourceId=/{rid}/y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/", True


def read_account_hour(run, account, hour, access, archive_access, now, totals):
    """Read and store every log line of the account-hour not stored yet; `totals` (a Counter) gathers what
    was stored. Returns samples of rejected lines. Raises store.Conflict when other workers kept storing
    the same lines first, ChangedBlobs when rewritten blobs cannot be read again."""
    policies = AggregationPolicy.current()
    attempts = settings.STORAGE_LOGS_CONFLICT_RETRIES
    for attempt in range(attempts):
        try:
            return _read(run, account, hour, access, archive_access, policies, now, totals)
        except store.Conflict as conflict:
            # Another worker stored lines first: it made progress, so reading on from what it stored is
            # progress too. A short random pause keeps two workers of one hour from colliding in step.
            log.info("%s %s: %s; reading again from the stored checkpoints", account, hour, conflict)
            totals["conflicts"] += 1
            time.sleep(random.uniform(0, min(1.0, 0.05 * (attempt + 1))))
    raise store.Conflict(f"other workers kept storing these lines first ({attempts} attempts)")


def plan(account, hour, access, archive_access):
    """The blobs to read and where from; blobs whose change cannot be read again safely raise."""
    where = [(archive_access if is_json else access, container, prefix, is_json)
             for container, prefix, is_json in sources(account, hour)]  # fmt: skip
    with ThreadPoolExecutor(max_workers=max(1, len(where))) as pool:  # up to four round trips at once
        found = list(pool.map(lambda w: blobs.list_blobs(w[0], w[1], w[2]), where))
    listed = [
        (place, container, info, is_json)
        for (place, container, _, is_json), infos in zip(where, found, strict=True)
        for info in infos
    ]
    names = {info.name for _, _, info, _ in listed}
    stored = BlobCheckpoint.objects.filter(account=account, name__in=names)
    checkpoints = {(c.container, c.name): c for c in stored}
    planned, lost = [], []
    for where, container, info, is_json in listed:
        source = _source(where, container, info, checkpoints.get((container, info.name)), is_json)
        if source is None:
            continue
        if source.changed and not SeenRequests.objects.filter(account=account, hour=hour).exists():
            lost.append(f"{container}/{info.name}")  # the sweep forgot the hour's digests (retention)
            continue
        planned.append(source)
    if lost:
        raise ChangedBlobs(
            f"{len(lost)} blob(s) changed after their lines were counted and their request digests were "
            f"dropped ({', '.join(lost[:3])}): left alone so that nothing is counted twice"
        )
    return planned


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


def _read(run, account, hour, access, archive_access, policies, now, totals):
    known, known_until = store.known_digests(account.id, hour)
    aggregator = Aggregator(policies)
    aggregator.know(known)
    rejects = parse.Rejects()
    planned = plan(account, hour, access, archive_access)
    totals["blobs_read"] = len(planned)
    totals["changed_blobs"] = sum(source.changed for source in planned)
    position = {(s.container, s.info.name): (s.stored, s.start) for s in planned}
    batch, seen = _new_batch(account, hour, run), _Seen(aggregator, rejects)
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
            batch = _new_batch(account, hour, run)
    if not batch.empty:
        _store(batch, aggregator, known_until, seen, totals, position)
    return rejects.samples


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


def _new_batch(account, hour, run):
    return store.Batch(account.id, hour, run.id)


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
