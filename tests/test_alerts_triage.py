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


def test_a_blank_comment_is_refused_in_place_with_the_error_tied_to_the_field(alert, analyst_client):
    response = analyst_client.post(
        reverse("alerts:comment", args=[alert.pk]), {"body": "   "}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<section class="card" id="comments"')
    assert 'aria-describedby="id_body_error"' in html and 'id="id_body_error"' in html
    assert "Not saved: see the errors in the form." in html  # announced to screen readers
    assert not alert.comments.exists()


def test_a_tampered_status_is_refused_in_place(alert, analyst_client):
    response = analyst_client.post(
        reverse("alerts:triage", args=[alert.pk]), {"triage_status": "pwned"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Select a valid choice. pwned is not one of the available choices." in response.content.decode()
    alert.refresh_from_db()
    assert alert.triage_status == "new"


def test_one_save_updates_the_badges_the_timeline_and_the_audit_trail_out_of_band(alert, analyst_client):
    response = analyst_client.post(
        reverse("alerts:triage", args=[alert.pk]),
        {
            "triage_status": "resolved",
            "classification": "informationalExpectedActivity",
            "determination": "securityTesting",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert '<p id="alert-badges" hx-swap-oob="true">' in html and "Triage: Resolved" in html
    assert "Benign true positive (expected activity): Security test" in html
    assert '<section class="card" id="timeline" hx-swap-oob="true">' in html
    assert (
        "triage_status: new → resolved" in html
        and "classification: — → informationalExpectedActivity" in html
    )
    assert (
        '<section class="card" id="audit" hx-swap-oob="true">' in html
        and "ana changed classification" in html
    )


def test_a_determination_must_belong_to_its_classification(alert, analyst_client):
    response = analyst_client.post(
        reverse("alerts:triage", args=[alert.pk]),
        {"triage_status": "resolved", "classification": "falsePositive", "determination": "phishing"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "Phishing is not a determination of “False positive”." in response.content.decode()


def test_the_page_says_azure_receives_the_status_only(alert, analyst_client):
    DeviceAlertSettings.objects.create(device=alert.device, write_back_status=True)
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "Azure receives the status only" in html


def test_an_htmx_save_after_the_session_ran_out_sends_the_browser_to_log_in_and_back(client, alert):
    page = f"http://testserver{reverse('alerts:detail', args=[alert.pk])}"
    headers = {"HX-Request": "true", "HX-Current-URL": page}
    response = client.post(
        reverse("alerts:triage", args=[alert.pk]), {"triage_status": "resolved"}, headers=headers
    )
    assert (
        response.status_code == 302
    )  # LoginRequiredMiddleware; the browser follows it with the same headers
    followed = client.get(response["Location"], headers=headers)
    assert followed.status_code == 204
    assert followed["HX-Redirect"] == f"/login/?next=%2Falerts%2F{alert.pk}%2F"


def test_an_htmx_save_with_a_stale_csrf_token_reloads_or_logs_in_instead_of_a_bare_403(alert, analyst):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    page = f"http://testserver{reverse('alerts:detail', args=[alert.pk])}"
    headers = {"HX-Request": "true", "HX-Current-URL": page, "X-CSRFToken": "stale"}
    response = client.post(
        reverse("alerts:triage", args=[alert.pk]), {"triage_status": "resolved"}, headers=headers
    )
    assert response.status_code == 403 and response["HX-Redirect"] == reverse(
        "alerts:detail", args=[alert.pk]
    )
    html = client.post(
        reverse("alerts:triage", args=[alert.pk]), {"triage_status": "resolved"}
    ).content.decode()
    assert "Your session has changed" in html and "<html" in html
