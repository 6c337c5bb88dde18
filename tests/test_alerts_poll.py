"""Polling: paging, resuming after throttling and failures, change history, safe to run twice.

These drive alerts.tasks against a stand-in for ascmon.azure.security that follows its documented contract
(pages with next_link, resume with `continuation`); the simulator tests exercise the real SDK path.
"""

import types

import pytest
from django_q.models import Schedule

from alerts import tasks
from alerts.models import Alert, PollRun, RejectedAlert
from ascmon.azure.errors import Forbidden, Throttled, Transient
from tests import factories
from tests.factories import raw_alert


class FakeSecurity:
    """Serves fixed pages per subscription; `fail` maps a page index to an error raised once."""

    def __init__(self, pages, fail=None):
        self.pages, self.fail, self.requests = pages, dict(fail or {}), []

    def iter_alert_pages(self, tenant, subscription_id, continuation=None):
        pages = self.pages[subscription_id]
        index = int(continuation) if continuation else 0
        while index < len(pages):
            self.requests.append((subscription_id, index))
            if index in self.fail:
                raise self.fail.pop(index)
            next_link = str(index + 1) if index + 1 < len(pages) else None
            yield types.SimpleNamespace(alerts=pages[index], rejected=[], next_link=next_link)
            index += 1


@pytest.fixture
def device(db, settings):
    settings.ALERTS_POLL_MAX_WAIT_SECONDS = 0
    return factories.device(subscriptions={"sub-1": True, "sub-hidden": False})


@pytest.fixture
def serve(monkeypatch):
    def install(pages, fail=None):
        fake = FakeSecurity(pages, fail)
        monkeypatch.setattr(tasks, "security", fake)  # the wrapper alerts.tasks calls
        return fake

    return install


def three_pages():
    return {
        "sub-1": [
            [raw_alert(name=f"p{page}a{i}", display_name=f"Page {page} #{i}") for i in range(3)]
            for page in range(3)
        ]
    }


def test_a_poll_pages_through_every_visible_subscription_and_records_the_run(device, serve):
    fake = serve(three_pages())
    [run_id] = tasks.poll_device(device.pk)
    run = PollRun.objects.get(pk=run_id)
    assert (run.outcome, run.pages, run.created, run.subscription_id) == ("ok", 3, 9, "sub-1")
    assert Alert.objects.count() == 9
    assert {sub for sub, _ in fake.requests} == {"sub-1"}


@pytest.mark.parametrize("error", [Throttled("429", retry_after=0), Transient("500 Internal Server Error")])
def test_a_429_storm_or_a_500_mid_paging_loses_nothing(device, serve, error):
    fake = serve(three_pages(), fail={1: error})
    [run_id] = tasks.poll_device(device.pk)
    run = PollRun.objects.get(pk=run_id)
    assert Alert.objects.count() == 9
    assert (run.outcome, run.throttled, run.pages) == ("ok", 1, 3)
    assert fake.requests.count(("sub-1", 0)) == 1  # resumed from the failed page, not from the start


def test_a_poll_that_cannot_finish_keeps_what_it_had_and_says_so(device, serve):
    serve(three_pages())
    tasks.poll_device(device.pk)
    serve(three_pages(), fail={0: Forbidden("AuthorizationFailed", status=403)})
    [run_id] = tasks.poll_device(device.pk)
    run = PollRun.objects.get(pk=run_id)
    assert run.outcome == "failed" and run.errors[0]["error"] == "Forbidden"
    assert Alert.objects.visible().count() == 9


def test_a_poll_ended_by_a_failure_keeps_every_page_fetched_before_it(device, serve):
    serve(three_pages(), fail={2: Forbidden("AuthorizationFailed", status=403)})
    [run_id] = tasks.poll_device(device.pk)
    run = PollRun.objects.get(pk=run_id)
    assert (run.outcome, run.pages, run.created) == ("partial", 2, 6)
    assert Alert.objects.visible().count() == 6


def test_polling_twice_creates_nothing_new_and_skips_unchanged_alerts(device, serve):
    serve(three_pages())
    tasks.poll_device(device.pk)
    [run_id] = tasks.poll_device(device.pk)
    run = PollRun.objects.get(pk=run_id)
    assert (run.created, run.updated, run.unchanged) == (0, 0, 9)
    assert Alert.objects.count() == 9


def test_status_severity_and_end_time_changes_appear_in_the_timeline(device, serve, analyst_client):
    serve({"sub-1": [[raw_alert(name="one", display_name="Changing")]]})
    tasks.poll_device(device.pk)
    changed = raw_alert(name="one", display_name="Changing", status="Resolved", severity="High")
    changed["properties"]["endTimeUtc"] = "2026-11-20T12:00:00.0000000Z"
    serve({"sub-1": [[changed]]})
    tasks.poll_device(device.pk)
    alert = Alert.objects.get()
    assert {c.field for c in alert.changes.all()} == {"status", "severity", "end_time", "triage_status"}
    html = analyst_client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "status: Active → Resolved" in html and "severity: medium → high" in html


def test_a_malformed_alert_from_a_poll_is_kept_raw_and_counted(device, serve):
    serve(
        {
            "sub-1": [
                [raw_alert(name="ok"), {"id": "/bad", "properties": {"alertType": "X", "severity": "??"}}]
            ]
        }
    )
    [run_id] = tasks.poll_device(device.pk)
    assert PollRun.objects.get(pk=run_id).rejected == 1 and RejectedAlert.objects.count() == 1
    assert Alert.objects.count() == 1


def test_poll_all_devices_fans_out_to_every_active_device(device, serve):
    serve(three_pages())
    tasks.poll_all_devices()
    assert PollRun.objects.filter(device=device).count() == 1


def test_a_schedule_polls_all_devices_every_few_minutes(db):
    schedule = Schedule.objects.get(func="alerts.tasks.poll_all_devices")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes <= 10


def test_a_poll_that_crashes_is_recorded_as_failed_before_the_error_reaches_the_task_queue(
    device, serve, monkeypatch
):
    serve(three_pages())

    def broken(self, raws, rejected=()):
        raise RuntimeError("database went away")

    monkeypatch.setattr("alerts.ingest.Ingester.ingest_page", broken)
    with pytest.raises(RuntimeError):
        tasks.poll_device(device.pk)
    run = PollRun.objects.get()
    assert run.outcome == "failed" and run.errors[0]["message"] == "database went away" and run.finished_at
