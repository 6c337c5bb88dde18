"""One record per alert, and one primary per event that several providers reported."""

from datetime import UTC, datetime, timedelta

from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert
from tests.factories import raw_alert

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SIGN_IN = [
    {"type": "ip", "address": "203.0.113.50"},
    {"type": "account", "name": "eve", "upnSuffix": "contoso.com"},
]


def ingest(contoso, *raws):
    return Ingester(contoso, ChangeSource.IMPORT).ingest_page(list(raws))


def mcas(start=T0, entities=SIGN_IN):
    return raw_alert(
        "ImpossibleTravel",
        "Impossible travel activity",
        product="Microsoft Cloud App Security",
        start=start,
        entities=entities,
        extended={},
    )


def identity_protection(start=T0, entities=SIGN_IN):
    return raw_alert(
        "AtypicalTravel",
        "Atypical travel",
        product="Azure Active Directory Identity Protection",
        start=start,
        entities=entities,
        extended={},
    )


def defender(start=T0, entities=SIGN_IN):
    return raw_alert(
        "ARM.MCAS_ImpossibleTravelActivity",
        "Impossible travel activity",
        product="Azure Security Center",
        start=start,
        entities=entities,
        extended={},
    )


def test_the_same_sign_in_from_three_providers_collapses_into_one_defender_primary(contoso):
    counts = ingest(contoso, mcas(), identity_protection(start=T0 + timedelta(minutes=10)), defender())
    primary = Alert.objects.visible().get()
    assert primary.product_name == "Azure Security Center"
    assert sorted(primary.duplicates.values_list("product_name", flat=True)) == [
        "Azure Active Directory Identity Protection",
        "Microsoft Cloud App Security",
    ]
    assert primary.duplicate_count == 2 and counts["duplicates"] == 2


def test_a_later_defender_alert_takes_over_as_primary(contoso):
    ingest(contoso, mcas())
    ingest(contoso, defender(start=T0 + timedelta(minutes=5)))
    primary = Alert.objects.visible().get()
    assert primary.product_name == "Azure Security Center"
    assert primary.duplicates.get().product_name == "Microsoft Cloud App Security"


def test_same_detection_for_another_principal_or_hours_apart_stays_separate(contoso):
    other = [{"type": "ip", "address": "192.0.2.77"}, {"type": "account", "name": "bob"}]
    ingest(contoso, mcas(), defender(entities=other), identity_protection(start=T0 + timedelta(hours=5)))
    assert Alert.objects.visible().count() == 3


def test_one_provider_raising_a_detection_twice_is_two_alerts(contoso):
    ingest(contoso, defender(), defender(start=T0 + timedelta(minutes=3)))
    assert Alert.objects.visible().count() == 2


def test_the_same_alert_seen_in_two_subscriptions_and_locations_is_one_record(contoso):
    first = raw_alert(name="2517_same", subscription="sub-a", location="westeurope")
    second = raw_alert(name="2517_same", subscription="sub-b", location="centralus")
    ingest(contoso, first)
    counts = ingest(contoso, second)
    alert = Alert.objects.get()
    assert alert.resource_id == first["id"] and alert.sightings == [second["id"]]
    assert counts["created"] == 0 and counts["updated"] == 0


def test_a_change_reported_under_another_subscription_reaches_the_record_and_its_timeline(contoso):
    def sighting(subscription, location, **changes):
        return raw_alert(name="2517_same", subscription=subscription, location=location, **changes)

    ingest(contoso, sighting("sub-a", "westeurope"))
    ingest(contoso, sighting("sub-b", "centralus"))
    counts = ingest(contoso, sighting("sub-b", "centralus", status="Resolved", severity="High"))
    alert = Alert.objects.get()
    assert counts["updated"] == 1 and (alert.status, alert.severity) == ("Resolved", "high")
    assert sorted(alert.changes.values_list("field", "new")) == [
        ("severity", "high"),
        ("status", "Resolved"),
        ("triage_status", "resolved"),
    ]
    assert alert.severity_rank == 3  # sorts as high
    assert ingest(contoso, sighting("sub-a", "westeurope"))["unchanged"] == 1
    assert Alert.objects.get().status == "Resolved" and alert.resource_id.startswith("/subscriptions/sub-a/")


def test_two_sightings_in_one_page_are_one_record(contoso):
    ingest(
        contoso,
        raw_alert(name="2517_same", location="westeurope"),
        raw_alert(name="2517_same", location="eastus"),
    )
    assert Alert.objects.count() == 1 and len(Alert.objects.get().sightings) == 1


def test_duplicates_are_listed_on_the_primary_detail_page(contoso, analyst_client):
    ingest(contoso, mcas(), defender())
    primary = Alert.objects.visible().get()
    html = analyst_client.get(f"/alerts/{primary.pk}/").content.decode()
    assert "Microsoft Cloud App Security" in html
    listing = analyst_client.get("/alerts/").content.decode()
    assert "+1 duplicate" in listing and listing.count("Impossible travel activity") == 1


def test_a_preview_defender_copy_does_not_hide_the_event_reported_by_other_providers(contoso):
    preview = raw_alert(
        "ARM.MCAS_ImpossibleTravelActivity",
        "PREVIEW - Impossible travel activity",
        product="Azure Security Center",
        start=T0,
        entities=SIGN_IN,
        extended={},
    )
    ingest(contoso, preview, mcas(), identity_protection())
    primary = Alert.objects.visible().get()
    assert primary.suppressed_by is None and primary.product_name != "Azure Security Center"
    assert primary.duplicates.count() == 2


def test_one_poll_links_duplicates_arriving_pages_after_their_primary(contoso):
    ingester = Ingester(contoso, ChangeSource.IMPORT)
    ingester.ingest_page([mcas()])
    ingester.ingest_page([raw_alert()])
    ingester.ingest_page([defender(start=T0 + timedelta(minutes=5))])
    ingester.ingest_page([identity_protection(start=T0 + timedelta(minutes=10))])
    primary = Alert.objects.visible().get(alert_type="ARM.MCAS_ImpossibleTravelActivity")
    assert primary.duplicate_count == 2 and primary.duplicates.count() == 2
    assert Alert.objects.visible().count() == 2 and ingester.counts["duplicates"] == 2


def test_a_primary_that_moved_in_time_is_matched_at_its_new_time_in_the_same_poll(contoso):
    ingester = Ingester(contoso, ChangeSource.IMPORT)
    first = mcas()
    ingester.ingest_page([first])
    later = T0 + timedelta(hours=5)
    moved = {**first, "properties": {**first["properties"], "startTimeUtc": later.isoformat()}}
    assert ingester.ingest_page([moved])["updated"] == 1
    ingester.ingest_page([defender(start=later)])
    primary = Alert.objects.visible().get()
    assert primary.product_name == "Azure Security Center"
    assert primary.duplicates.get().product_name == "Microsoft Cloud App Security"
