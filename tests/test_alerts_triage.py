"""Triage: status, assignee, comments, audit trail, roles, and the optional write-back to Azure."""

import types

import pytest
from django.urls import reverse

from alerts import tasks
from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, AuditEvent, DeviceAlertSettings
from tests import factories
from tests.factories import raw_alert


@pytest.fixture
def alert(db):
    device = factories.device()
    Ingester(device, ChangeSource.IMPORT).ingest_page([raw_alert(name="2517_one", display_name="Tor access")])
    return Alert.objects.get()


@pytest.fixture
def fake_security(monkeypatch):
    """Stands in for ascmon.azure.security where a test is about our side of the contract only."""
    calls = []
    fake = types.SimpleNamespace(
        set_alert_status=lambda tenant, alert_id, status: calls.append((alert_id, status))
    )
    monkeypatch.setattr(tasks, "security", fake)  # the wrapper alerts.tasks calls
    return calls


def test_analyst_sets_status_and_assignee_and_both_appear_in_timeline_and_audit(
    alert, analyst, analyst_client
):
    response = analyst_client.post(
        reverse("alerts:triage", args=[alert.pk]), {"triage_status": "in_progress", "assignee": analyst.pk}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.triage_status == "in_progress" and alert.assignee == analyst
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "triage_status: new → in_progress" in html and "assignee: — → ana" in html
    assert "ana changed triage_status" in html
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "changed triage_status",
        "changed assignee",
    }


def test_htmx_triage_returns_only_the_triage_partial(alert, analyst_client):
    response = analyst_client.post(
        reverse("alerts:triage", args=[alert.pk]),
        {"triage_status": "resolved"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="triage">') and "Resolved" in html


def test_comments_are_kept_with_their_author_and_audited(alert, analyst_client):
    analyst_client.post(
        reverse("alerts:comment", args=[alert.pk]), {"body": "Called the customer <b>now</b>"}
    )
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "Called the customer &lt;b&gt;now&lt;/b&gt;" in html
    assert AuditEvent.objects.filter(action="commented", user__username="ana").exists()


def test_customer_success_gets_403_on_triage_and_comments(alert, cs_client):
    assert (
        cs_client.post(reverse("alerts:triage", args=[alert.pk]), {"triage_status": "resolved"}).status_code
        == 403
    )
    assert cs_client.post(reverse("alerts:comment", args=[alert.pk]), {"body": "x"}).status_code == 403
    assert cs_client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.triage_status == "new"


def test_triage_is_not_written_to_azure_unless_the_device_opts_in(alert, analyst_client, fake_security):
    analyst_client.post(reverse("alerts:triage", args=[alert.pk]), {"triage_status": "dismissed"})
    assert fake_security == []


def test_triage_status_is_written_back_and_reconciled_on_the_next_poll(alert, analyst_client, fake_security):
    DeviceAlertSettings.objects.create(device=alert.device, write_back_status=True)
    analyst_client.post(reverse("alerts:triage", args=[alert.pk]), {"triage_status": "dismissed"})
    assert fake_security == [(alert.resource_id, "Dismissed")]
    alert.refresh_from_db()
    assert alert.requested_azure_status == "Dismissed"
    Ingester(alert.device).ingest_page(
        [raw_alert(name="2517_one", display_name="Tor access", status="Dismissed")]
    )
    alert.refresh_from_db()
    assert (
        alert.status == "Dismissed"
        and alert.requested_azure_status == ""
        and alert.triage_status == "dismissed"
    )
    assert alert.changes.filter(field="status", old="Active", new="Dismissed", source="azure").exists()
