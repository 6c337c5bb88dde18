"""`manage.py import_alerts`: Microsoft's example payloads through the same normalize/dedup/suppress path."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from alerts.models import Alert, AlertType, RejectedAlert
from tests import data

CURRENT = data.path("alerts-2022-01-01-GetAlertsSubscription_example.json")
LEGACY = data.path("alerts-2015-06-01-preview-GetAlertSubscriptionLocation_example.json")
STORAGE_SAMPLE = data.path("storage-exfiltration-sample-alert-legacy-format.json")


def import_file(path, device_name="contoso"):
    out = io.StringIO()
    call_command("import_alerts", str(path), "--device", device_name, stdout=out)
    return json.loads(out.getvalue())


def write_alerts(tmp_path, alerts):
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps({"value": alerts}))
    return path


def test_import_prints_one_json_object_with_the_counts(contoso):
    counts = import_file(CURRENT)
    assert counts == {
        "created": 2,
        "updated": 0,
        "duplicates": 0,
        "suppressed": 0,
        "new_types": 0,
        "rejected": 0,
    }


def test_both_alerts_of_microsofts_2022_example_import_with_every_field_visible_on_the_detail_page(
    contoso, analyst_client
):
    import_file(CURRENT)
    raws = json.loads(CURRENT.read_text())["responses"]["200"]["body"]["value"]
    for raw in raws:
        props = raw["properties"]
        alert = Alert.objects.get(resource_id=raw["id"])
        html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
        expected = [
            props["alertType"],
            props["alertDisplayName"],
            props["description"],
            props["severity"],
            "Active",
            props["compromisedEntity"],
            props["productName"],
            props["productComponentName"],
            props["vendorName"],
            props["intent"],
            props["systemAlertId"],
            props["correlationKey"],
            props["alertUri"],
            raw["id"],
            "myRg1" if "myRg1" in raw["id"] else "myRg2",
            "westeurope",
            "20ff7fc3-e762-44dd-bd96-b71116dcdc23",
            props["resourceIdentifiers"][0]["azureResourceId"],
            props["startTimeUtc"][:10],
            props["timeGeneratedUtc"][:10],
            props["processingEndTimeUtc"][:10],
            *props["techniques"],
            *props["subTechniques"],
            *props["remediationSteps"],
            props["extendedLinks"][0]["Label"],
            props["supportingEvidence"]["type"],
        ]
        expected += [value for value in props["extendedProperties"].values()]
        expected += [key for key in props["extendedProperties"]]
        for entity in props["entities"]:
            expected += [str(v) for v in entity.values() if isinstance(v, str) and v]
        missing = [value for value in expected if escape(value) not in html]
        assert not missing, f"{props['alertType']}: not on the detail page: {missing}"


def test_the_legacy_2015_example_is_imported_by_mapping_it_onto_the_current_schema(contoso, analyst_client):
    counts = import_file(LEGACY)
    assert counts["created"] == 1 and counts["rejected"] == 0
    alert = Alert.objects.get()
    assert (alert.alert_type, alert.severity, alert.status, alert.schema) == (
        "ThreatIntelligence",
        "high",
        "Dismissed",
        "legacy",
    )
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "Threat Intelligence Alert" in html
    assert "run antimalware scan of the VM" in html


def test_the_storage_exfiltration_sample_shows_its_typed_properties(contoso, analyst_client):
    import_file(STORAGE_SAMPLE)
    alert = Alert.objects.get()
    assert alert.details.typed_properties["extracted_bytes"] == 146800640
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "146800640" in html and "eicarTestStorageContainer" in html and 'id="alert-context"' in html


def test_importing_the_same_file_twice_changes_nothing(contoso):
    import_file(CURRENT)
    counts = import_file(CURRENT)
    assert counts["created"] == 0 and counts["updated"] == 0
    assert Alert.objects.count() == 2


def test_a_malformed_alert_is_stored_raw_and_reported_while_the_rest_is_imported(
    contoso, tmp_path, analyst_client
):
    good = json.loads(CURRENT.read_text())["responses"]["200"]["body"]["value"]
    broken = {
        "id": "/subscriptions/x/alerts/broken",
        "properties": {"alertType": "VM_X", "severity": "Catastrophic"},
    }
    counts = import_file(write_alerts(tmp_path, [good[0], broken, good[1]]))
    assert counts["created"] == 2 and counts["rejected"] == 1
    reject = RejectedAlert.objects.get()
    assert "Catastrophic" in reject.reason and "broken" in reject.raw
    assert "Catastrophic" in analyst_client.get(reverse("alerts:polls")).content.decode()


def test_unknown_alert_types_are_stored_with_their_raw_properties_and_flagged_new(contoso, tmp_path):
    unknown = {
        "id": "/subscriptions/s1/providers/Microsoft.Security/locations/westeurope/alerts/1_new",
        "properties": {
            "alertType": "CosmosDB_BrandNewDetection",
            "alertDisplayName": "Something new",
            "severity": "Low",
            "status": "Active",
            "extendedProperties": {"odd key": "odd value"},
        },
    }
    counts = import_file(write_alerts(tmp_path, [unknown]))
    assert counts["new_types"] == 1 and counts["created"] == 1
    alert = Alert.objects.get()
    assert (
        alert.is_new_type
        and alert.details.extended_properties == {"odd key": "odd value"}
        and alert.details.typed_properties == {}
    )
    assert AlertType.objects.get(name="CosmosDB_BrandNewDetection").is_new


def test_import_into_an_unknown_device_says_so(db):
    with pytest.raises(CommandError, match="No device named 'nobody'"):
        import_file(CURRENT, "nobody")
