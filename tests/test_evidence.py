"""Evidence: an aggregate's raw lines, read again from the customer's blobs (Azurite), are exactly the lines
that built it; the page shows them to analysts, inert, and says clearly when they can no longer be read."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import exfiltration_episode, load_account
from devices.models import StorageAccount
from storage_logs import evidence, parse, proof
from storage_logs.models import EvidenceProof, IngestRun, LogAggregate, LogBatch
from storage_logs.tasks import ingest_account_hour
from tests import factories
from tests.test_storage_ingest import access_of, make_account

pytestmark = [pytest.mark.peers, pytest.mark.usefixtures("azurite_keys"), pytest.mark.django_db]
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)  # days no other test writes logs for
HOUR = timedelta(hours=1)
FORMATS = {
    "classic 1.0": (5, {"logging_version": "1.0"}),
    "classic 2.0": (6, {"logging_version": "2.0"}),
    "Azure Monitor JSON": (7, {"logging_version": None, "diagnostic_logs": True}),
}


def ingested(azurite, settings, day, flags, name="ascmonlogs1", hours=2):
    """An account whose logs of `hours` hours were uploaded and ingested in many small batches."""
    settings.STORAGE_LOGS_BATCH_BYTES = 16 * 1024
    t0 = T0.replace(day=day)
    account, spec = make_account(name, azurite, **flags)
    if not spec.logging_version:  # diagnostic settings alone: no classic $logs to read
        StorageAccount.objects.filter(pk=account.pk).update(
            logging_read=False, logging_write=False, logging_delete=False
        )
        account.refresh_from_db()
    uploaded = load_account(access_of(account, azurite), spec, t0, t0 + hours * HOUR, seed=day)
    for n in range(hours):
        ingest_account_hour(account.id, (t0 + n * HOUR).isoformat())
    assert set(IngestRun.objects.filter(account=account).values_list("status", flat=True)) == {IngestRun.OK}
    return account, uploaded


def raw_lines(uploaded):
    """{(container, blob, offset): line} of every line uploaded."""
    found = {}
    for blob in uploaded:
        offset = 0
        for line in blob.data.split(b"\n"):
            if line.strip():
                found[(blob.container, blob.name, offset)] = line.rstrip(b"\r")
            offset += len(line) + 1
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_lines_fetched_for_each_aggregate_are_the_lines_that_built_it(azurite, settings, fmt):
    day, flags = FORMATS[fmt]
    account, uploaded = ingested(azurite, settings, day, flags)
    everything = raw_lines(uploaded)
    aggregates = list(LogAggregate.objects.filter(account=account).select_related("account"))
    # Merges across batches and across blobs happened, so the pointers are put to the test.
    assert LogBatch.objects.filter(account=account).count() > 2
    assert any(len(a.batches) > 1 for a in aggregates)
    fetched, blobs_of = {}, {}
    for aggregate in aggregates:
        lines = list(evidence.lines_of(aggregate))
        assert evidence.tally(lines).matches(aggregate), aggregate
        for line in lines:
            where = (line.container, line.blob, line.offset)
            assert where not in fetched  # no line belongs to two aggregates
            assert everything[where] == line.raw  # the line as the customer's blob holds it
            record = line.record
            assert record[parse.OP] == aggregate.operation
            assert (record[parse.IP] or "") == aggregate.client_ip
            fetched[where] = line.raw
        blobs_of[aggregate.pk] = {line.blob for line in lines}
    assert any(len(names) > 1 for names in blobs_of.values())
    # Every request of the hour is in exactly one aggregate's lines (a line Azure wrote twice counts once).
    requests = {(r[parse.RID], r[parse.OPC]) for r in (line_record(k, v) for k, v in everything.items())}
    fetched_requests = [(r[parse.RID], r[parse.OPC]) for r in (line_record(k, v) for k, v in fetched.items())]
    assert len(fetched_requests) == len(set(fetched_requests)) == len(requests)
    assert set(fetched_requests) == requests
    assert sum(a.count for a in aggregates) == len(fetched)


def line_record(where, raw):
    fmt = parse.CLASSIC if where[0] == "$logs" else parse.MONITOR_JSON
    return parse.line_record(fmt, parse.Rejects(), raw)


def busiest(account):
    return LogAggregate.objects.filter(account=account).select_related("account").order_by("-count").first()


def test_an_analyst_sees_the_raw_lines_of_an_aggregate_and_that_they_add_up(
    azurite, settings, analyst_client
):
    account, _ = ingested(azurite, settings, 8, {"logging_version": "2.0"}, hours=1)
    aggregate = busiest(account)
    page = analyst_client.get(reverse("storage_logs:aggregate_lines", args=[aggregate.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    lines = list(evidence.lines_of(aggregate))
    shown = min(len(lines), evidence.PAGE_LINES)
    assert html.count('class="raw-line"') == shown
    assert aggregate.operation in html and lines[0].row()["time"] in html
    assert aggregate.count <= evidence.PAGE_LINES  # one page: the page itself says they add up
    assert f"The {aggregate.count} lines fetched add up to the aggregate" in html
    ends = aggregate.window_start.replace(minute=0) + timedelta(days=account.logging_retention_days, hours=1)
    assert f"until {ends:%Y-%m-%d %H:%M} UTC, when the customer's retention deletes" in html

    download = analyst_client.get(reverse("storage_logs:aggregate_lines_download", args=[aggregate.pk]))
    assert download["Content-Type"].startswith("text/plain")
    assert b"".join(download.streaming_content) == b"".join(line.raw + b"\n" for line in lines)


def test_pages_follow_on_with_htmx_until_every_line_was_shown(azurite, settings, analyst_client, monkeypatch):
    account, _ = ingested(azurite, settings, 9, {"logging_version": "2.0"}, hours=1)
    aggregate = busiest(account)
    lines = list(evidence.lines_of(aggregate))
    size = max(2, len(lines) // 4)  # the small profile has no aggregate of several hundred lines
    monkeypatch.setattr(evidence, "PAGE_LINES", size)
    url = reverse("storage_logs:aggregate_lines", args=[aggregate.pk])
    first = analyst_client.get(url).content.decode()
    assert first.count('class="raw-line"') == size and f"Next {size} lines" in first
    shown, number, part = size, 1, first
    while f"?page={number + 1}" in part:
        number += 1
        part = analyst_client.get(url, {"page": number}, headers={"HX-Request": "true"}).content.decode()
        assert "<html" not in part  # the htmx partial only
        shown += part.count('class="raw-line"')
    assert number > 2 and shown == len(lines) == aggregate.count


def test_a_deleted_blob_says_it_was_deleted_and_when_retention_ends(azurite, settings, analyst_client):
    account, uploaded = ingested(
        azurite, settings, 10, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1
    )
    aggregate = busiest(account)
    container, name = LogBatch.objects.get(pk=aggregate.batches[0]).ranges[0][:2]
    blobs._client(access_of(account, azurite)).get_blob_client(container, name).delete_blob()
    html = analyst_client.get(reverse("storage_logs:aggregate_lines", args=[aggregate.pk])).content.decode()
    assert f"The log blob {container}/{name} no longer exists: it was deleted" in html
    ends = aggregate.window_start.replace(minute=0) + timedelta(days=account.logging_retention_days, hours=1)
    assert f"{ends:%Y-%m-%d %H:%M} UTC" in html


def test_a_rewritten_blob_says_its_lines_cannot_be_shown(azurite, settings, analyst_client):
    account, uploaded = ingested(
        azurite, settings, 11, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1
    )
    aggregate = busiest(account)
    container, name = LogBatch.objects.get(pk=aggregate.batches[0]).ranges[0][:2]
    data = next(blob.data for blob in uploaded if blob.name == name)
    blobs.upload_blob(access_of(account, azurite), container, name, data.replace(b"GetBlob", b"GetBlub"))
    html = analyst_client.get(reverse("storage_logs:aggregate_lines", args=[aggregate.pk])).content.decode()
    assert f"The log blob {container}/{name} was rewritten after ascmon read it" in html
    assert 'class="raw-line"' not in html


def test_hostile_text_in_fetched_lines_renders_inert(azurite, settings, analyst_client):
    account, uploaded = ingested(
        azurite, settings, 12, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1
    )
    # Rewrite the user agent of every line to markup, then read the blob as ingestion would again.
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    access = access_of(account, azurite)
    for blob in uploaded:
        if blob.container == "$logs":
            text = blob.data.decode().replace('"azsdk-python', f'"{hostile} azsdk-python')
            blobs.upload_blob(access, blob.container, blob.name, text.encode())
    LogAggregate.objects.filter(account=account).delete()
    LogBatch.objects.filter(account=account).delete()
    from storage_logs.models import BlobCheckpoint, SeenRequests

    BlobCheckpoint.objects.filter(account=account).delete()
    SeenRequests.objects.filter(account=account).delete()
    ingest_account_hour(account.id, T0.replace(day=12).isoformat())
    aggregate = LogAggregate.objects.filter(account=account, user_agent__contains="<script>").first()
    assert aggregate is not None
    html = analyst_client.get(reverse("storage_logs:aggregate_lines", args=[aggregate.pk])).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_customer_success_cannot_see_raw_lines(azurite, settings, cs_client):
    account, _ = ingested(azurite, settings, 13, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1)
    aggregate = busiest(account)
    for name in ("storage_logs:aggregate_lines", "storage_logs:aggregate_lines_download"):
        assert cs_client.get(reverse(name, args=[aggregate.pk])).status_code == 403
    account_page = cs_client.get(reverse("storage_logs:account", args=[account.pk])).content.decode()
    assert "Show the raw lines" not in account_page


def exfiltration_on_azurite(azurite, name="ascmonlogs1", now=datetime(2026, 10, 20, 12, tzinfo=UTC)):
    """(account, alert): the simulator's exfiltration episode uploaded to Azurite, its hours ingested as
    production does, and the Defender alert reporting it."""
    account, spec = make_account(name, azurite, logging_version="2.0")
    episode = exfiltration_episode(account.name, now, 3)
    first = episode.start.replace(minute=0) - HOUR
    last = episode.end.replace(minute=0) + HOUR
    load_account(access_of(account, azurite), spec, first, last + HOUR, seed=3, episode=episode)
    hour = first
    while hour <= last:
        ingest_account_hour(account.id, hour.isoformat())
        hour += HOUR
    return account, factories.exfiltration_alert(account, episode), episode


def test_an_analyst_opens_the_raw_lines_of_an_exfiltration_alert_and_the_fetch_is_audited(
    azurite, analyst_client, analyst
):
    account, alert, episode = exfiltration_on_azurite(azurite)
    page = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'id="alert-evidence"' in page and "Show the raw lines" in page

    lines_page = analyst_client.get(reverse("storage_logs:alert_lines", args=[alert.pk])).content.decode()
    rows = lines_page.count('class="raw-line"')
    assert rows == min(evidence.PAGE_LINES, episode_lines(account, episode))
    assert episode.ip in lines_page and "GetBlob" in lines_page
    download = analyst_client.get(reverse("storage_logs:alert_lines_download", args=[alert.pk]))
    lines = b"".join(download.streaming_content).splitlines()
    assert len(lines) == episode_lines(account, episode) and all(episode.ip.encode() in x for x in lines)

    audit = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    trail = audit[audit.index('id="audit"') :]
    assert f"{analyst.username} viewed raw log lines" in trail
    assert f"{analyst.username} downloaded raw log lines" in trail


def episode_lines(account, episode):
    """Operations of the alert's principal in its window, as the aggregates count them."""
    from alerts.models import Alert
    from storage_logs.evidence_scope import alert_scope

    scope = alert_scope(Alert.objects.get(system_alert_id="exfil-1", device=account.device))
    return sum(a.count for a in scope.aggregates)


def test_a_worker_proves_a_large_aggregate_adds_up_and_running_it_twice_changes_nothing(
    azurite, settings, analyst_client, monkeypatch
):
    account, _ = ingested(azurite, settings, 14, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1)
    aggregate = busiest(account)
    monkeypatch.setattr(evidence, "PAGE_LINES", 2)  # more than one page: the page asks a worker
    page = analyst_client.get(reverse("storage_logs:aggregate_lines", args=[aggregate.pk])).content.decode()
    assert "Check that the lines add up" in page
    # The test settings run tasks at once (sync), as a worker would.
    done = analyst_client.post(reverse("storage_logs:prove_aggregate", args=[aggregate.pk])).content.decode()
    assert f"The {aggregate.count} lines fetched add up to the aggregate" in done
    run = EvidenceProof.objects.get(aggregate=aggregate)
    assert run.status == EvidenceProof.OK and run.finished_at
    assert proof.prove(run.pk) == EvidenceProof.OK  # a second run of the same task
    assert EvidenceProof.objects.filter(aggregate=aggregate).count() == 1

    LogAggregate.objects.filter(pk=aggregate.pk).update(count=aggregate.count + 1)
    again = proof.queue(LogAggregate.objects.get(pk=aggregate.pk), None)
    assert proof.prove(again.pk) == EvidenceProof.DIFFER
    shown = analyst_client.get(reverse("storage_logs:aggregate_proof", args=[aggregate.pk])).content.decode()
    assert f"{aggregate.count} of {aggregate.count + 1} operations" in shown


def test_a_proof_whose_task_never_ran_ends_as_failed(azurite, settings):
    account, _ = ingested(azurite, settings, 15, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1)
    aggregate = busiest(account)
    lost = EvidenceProof.objects.create(aggregate=aggregate, started_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert proof.latest(aggregate).pk == lost.pk
    lost.refresh_from_db()
    assert lost.status == EvidenceProof.FAILED and lost.message == proof.LOST


def test_lines_of_a_blob_that_grew_after_a_batch_read_it_are_still_fetched(azurite, settings):
    """Azure appends to an hour's log blob while the sweep reads it: the ETag a first batch recorded is gone,
    but ingestion checked that the bytes before its checkpoint stayed, so those ranges still read."""
    settings.STORAGE_LOGS_BATCH_BYTES = 16 * 1024
    t0 = T0.replace(day=16)
    account, spec = make_account("ascmonlogs2", azurite, logging_version="2.0")
    access = access_of(account, azurite)
    uploaded = load_account(access, spec, t0, t0 + HOUR, seed=16)
    for blob in uploaded:  # the first read sees each blob half written
        lines = blob.data.split(b"\n")[:-1]
        blobs.upload_blob(
            access, blob.container, blob.name, b"".join(x + b"\n" for x in lines[: len(lines) // 2])
        )
    ingest_account_hour(account.id, t0.isoformat())
    for blob in uploaded:
        blobs.upload_blob(access, blob.container, blob.name, blob.data)
    ingest_account_hour(account.id, t0.isoformat())
    etags = {r[2] for b in LogBatch.objects.filter(account=account) for r in b.ranges}
    assert len(etags) > len(uploaded)  # some ranges carry an ETag the blob no longer has
    for aggregate in LogAggregate.objects.filter(account=account).select_related("account"):
        assert evidence.tally(evidence.lines_of(aggregate)).matches(aggregate)


def test_lost_access_says_so(azurite, settings, analyst_client, monkeypatch):
    account, _ = ingested(azurite, settings, 17, {"logging_version": "2.0"}, name="ascmonlogs2", hours=1)
    # The customer rotated the key ascmon reads with (as listKeys would now give a key Azure refuses).
    monkeypatch.setattr(
        "storage_logs.tasks.account_access",
        lambda a: blobs.BlobAccess(a.blob_endpoint, a.name, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="),
    )
    html = analyst_client.get(
        reverse("storage_logs:aggregate_lines", args=[busiest(account).pk])
    ).content.decode()
    assert "ascmon lost access to storage account ascmonlogs2" in html and 'class="raw-line"' not in html
