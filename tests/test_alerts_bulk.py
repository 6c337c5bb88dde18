"""Bulk triage on the list, classification, grouping and CSV export, as an analyst uses them."""

import csv
import io

import pytest
from django.urls import reverse

from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, AlertChange, AuditEvent, Comment, DeviceAlertSettings
from tests.factories import raw_alert

SAME_THREAT = "corr-7f3a"


@pytest.fixture
def alerts(contoso):
    raws = [raw_alert(display_name=f"Tor access {i}", severity="High") for i in range(3)]
    raws += [raw_alert("VM_EICAR", "Test malware file", severity="Low")]
    for raw in raws[:2]:
        raw["properties"]["correlationKey"] = SAME_THREAT
    Ingester(contoso, ChangeSource.IMPORT).ingest_page(raws)
    return Alert.objects.order_by("pk")


def bulk(client, **fields):
    data = {"scope": "selected", "filter": "", **fields}
    return client.post(reverse("alerts:bulk"), data, headers={"HX-Request": "true"})


def test_bulk_triage_asks_for_a_confirmation_with_the_count_before_changing_anything(alerts, analyst_client):
    ids = [a.pk for a in alerts[:2]]
    html = bulk(
        analyst_client, ids=ids, triage_status="resolved", classification="falsePositive"
    ).content.decode()
    assert "Set status to “Resolved” and set classification to “False positive” on 2 alerts?" in html
    assert 'name="confirm" value="2"' in html
    assert not Alert.objects.filter(triage_status="resolved").exists()


def test_confirmed_bulk_triage_changes_the_selected_alerts_with_timeline_audit_and_comment(
    alerts, analyst, analyst_client
):
    ids = [a.pk for a in alerts[:2]]
    response = bulk(
        analyst_client,
        ids=ids,
        triage_status="resolved",
        classification="truePositive",
        determination="compromisedAccount",
        assignee=str(analyst.pk),
        comment="Same Tor exit node, customer called",
        confirm="2",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="alert-table"') and "2 of 2 alerts changed" in html
    changed = Alert.objects.filter(pk__in=ids)
    assert {(a.triage_status, a.classification, a.determination, a.assignee_id) for a in changed} == {
        ("resolved", "truePositive", "compromisedAccount", analyst.pk)
    }
    assert Alert.objects.exclude(pk__in=ids).filter(triage_status="resolved").count() == 0
    assert AlertChange.objects.filter(alert__in=ids, field="triage_status", new="resolved").count() == 2
    assert AuditEvent.objects.filter(alert__in=ids, action="changed classification").count() == 2
    assert Comment.objects.filter(alert__in=ids, body="Same Tor exit node, customer called").count() == 2


def test_everything_the_filter_matches_is_counted_and_a_changed_count_asks_again(alerts, analyst_client):
    query = "severity=high"
    html = bulk(analyst_client, scope="all", filter=query, triage_status="in_progress").content.decode()
    assert "on 3 alerts: everything this filter matches?" in html
    Ingester(alerts[0].device, ChangeSource.IMPORT).ingest_page(
        [raw_alert(display_name="Late", severity="High")]
    )
    html = bulk(
        analyst_client, scope="all", filter=query, triage_status="in_progress", confirm="3"
    ).content.decode()
    assert "this now applies to 4 alerts, not 3" in html
    assert not Alert.objects.filter(triage_status="in_progress").exists()
    bulk(analyst_client, scope="all", filter=query, triage_status="in_progress", confirm="4")
    assert Alert.objects.filter(triage_status="in_progress").count() == 4
    assert Alert.objects.get(severity="low").triage_status == "new"


def test_bulk_triage_explains_what_is_missing_in_place(alerts, analyst_client):
    response = bulk(analyst_client, triage_status="resolved")
    assert response.status_code == 422
    assert "Select at least one alert, or choose everything this filter matches." in response.content.decode()
    response = bulk(analyst_client, ids=[alerts[0].pk])
    assert "Choose a change to make or write a comment." in response.content.decode()
    response = bulk(
        analyst_client, ids=[alerts[0].pk], classification="falsePositive", determination="malware"
    )
    assert "Malware is not a determination of “False positive”." in response.content.decode()


def test_bulk_triage_works_without_javascript(alerts, analyst_client):
    data = {
        "scope": "selected",
        "filter": "severity=high",
        "ids": [alerts[0].pk],
        "triage_status": "dismissed",
    }
    page = analyst_client.post(reverse("alerts:bulk"), data).content.decode()
    assert "<html" in page and "Confirm: change 1 alert" in page
    response = analyst_client.post(reverse("alerts:bulk"), {**data, "confirm": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("alerts:list") + "?severity=high"
    assert Alert.objects.get(pk=alerts[0].pk).triage_status == "dismissed"


def test_bulk_status_changes_are_written_back_where_the_device_opts_in(alerts, analyst_client, monkeypatch):
    from alerts import tasks

    sent = []
    monkeypatch.setattr(
        tasks, "security", type("Fake", (), {"set_alert_status": lambda *a: sent.append(a[1:])})
    )
    DeviceAlertSettings.objects.create(device=alerts[0].device, write_back_status=True)
    bulk(
        analyst_client,
        ids=[alerts[0].pk, alerts[1].pk],
        triage_status="resolved",
        classification="falsePositive",
        confirm="2",
    )
    assert sorted(sent) == sorted((a.resource_id, "Resolved") for a in alerts[:2])  # the status, nothing else


def test_alerts_group_by_correlation_key_and_by_entity(alerts, analyst_client):
    html = analyst_client.get(reverse("alerts:groups")).content.decode()
    assert SAME_THREAT in html and f"correlation={SAME_THREAT}" in html
    listed = analyst_client.get(reverse("alerts:list"), {"correlation": SAME_THREAT}).content.decode()
    assert "<strong>2</strong> alerts" in listed
    html = analyst_client.get(reverse("alerts:groups"), {"by": "entity"}).content.decode()
    assert "198.51.100.10" in html and "entity=198.51.100.10&amp;kind=ip" in html


def test_csv_export_has_the_filtered_alerts_and_neutralises_formulas(contoso, analyst_client):
    Ingester(contoso, ChangeSource.IMPORT).ingest_page(
        [
            raw_alert(
                display_name='=HYPERLINK("http://evil.example","x")', severity="High", compromised="@acct"
            ),
            raw_alert(display_name="+cmd|' /C calc'!A0", severity="High", compromised="-2+3"),
            raw_alert(display_name="Quiet one", severity="Low"),
        ]
    )
    response = analyst_client.get(reverse("alerts:export"), {"severity": "high"})
    assert response["Content-Type"] == "text/csv" and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2
    names = {row["alert"] for row in rows}
    assert names == {'\'=HYPERLINK("http://evil.example","x")', "'+cmd|' /C calc'!A0"}
    assert {row["compromised entity"] for row in rows} == {"'@acct", "'-2+3"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_list_query_count_with_bulk_controls_and_pivots_does_not_grow_with_rows(
    contoso, analyst_client, django_assert_max_num_queries
):
    params = {"entity": "198.51.100.10", "kind": "ip"}
    Ingester(contoso, ChangeSource.IMPORT).ingest_page([raw_alert(display_name=f"A {i}") for i in range(3)])
    with django_assert_max_num_queries(12) as few:
        analyst_client.get(reverse("alerts:list"), params)
    Ingester(contoso, ChangeSource.IMPORT).ingest_page([raw_alert(display_name=f"B {i}") for i in range(60)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        analyst_client.get(reverse("alerts:list"), params)
    with django_assert_max_num_queries(len(few.captured_queries)):
        analyst_client.get(reverse("alerts:groups"))
