"""Normalization and the extended-property registry: pure functions, no database."""

import pytest

from alerts import dedup
from alerts.extended_properties import extract, extractor_for
from alerts.normalize import MalformedAlert, is_preview, normalize
from tests import data

example = data.example_json


def current_examples():
    return example("alerts-2022-01-01-GetAlertsSubscription_example.json")["responses"]["200"]["body"][
        "value"
    ]


def test_current_schema_alert_is_read_field_by_field():
    eicar = normalize(current_examples()[0])
    assert eicar.alert_type == "VM_EICAR"
    assert eicar.severity == "high" and eicar.status == "Active"
    assert eicar.subscription_id == "20ff7fc3-e762-44dd-bd96-b71116dcdc23"
    assert eicar.resource_group == "myRg1" and eicar.asc_location == "westeurope"
    assert eicar.processing_end_time.microsecond == 920558  # 7 fractional digits are read
    assert eicar.techniques == ["T1059", "T1053", "T1072"]
    assert eicar.sub_techniques[0] == "T1059.001"
    assert eicar.intents == ["Execution"]
    assert eicar.resource_ids[0].endswith("/virtualMachines/vm1")
    assert {"kind": "ip", "value": "192.0.2.1"}.items() <= eicar.entities[0].items()
    assert eicar.alert_uri.startswith("https://portal.azure.com/")


def test_both_example_alerts_have_distinct_identities_although_the_spec_reuses_the_system_alert_id():
    first, second = (normalize(raw) for raw in current_examples())
    assert first.system_alert_id == second.system_alert_id
    assert first.identity != second.identity


def test_vm_extended_properties_become_typed_fields_and_entities():
    screensaver = normalize(current_examples()[1])
    assert screensaver.extractor == "vm"
    assert screensaver.typed_properties["command_line"] == "c:\\users\\contosoUser\\scrsave.scr"
    assert screensaver.typed_properties["user_name"] == "vm2\\contosoUser"
    kinds = {(e["kind"], e["value"]) for e in screensaver.entities}
    assert ("account", "vm2\\contosoUser") in kinds
    assert ("host", "vm2") in kinds


def test_legacy_schema_is_mapped_onto_the_current_one():
    legacy = normalize(
        example("alerts-2015-06-01-preview-GetAlertSubscriptionLocation_example.json")["responses"]["200"][
            "body"
        ]
    )
    assert legacy.schema == "legacy"
    assert legacy.alert_type == "ThreatIntelligence"
    assert legacy.severity == "high" and legacy.status == "Dismissed"
    assert legacy.remediation_steps == [
        "verify that the user invoked this process",
        "run antimalware scan of the VM",
    ]
    assert legacy.resource_ids == [
        "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/myRg1/providers/Microsoft.Compute/virtualMachines/vm1"
    ]


def test_storage_exfiltration_sample_sizes_counts_and_causes_are_typed():
    sample = normalize(example("storage-exfiltration-sample-alert-legacy-format.json"))
    typed = sample.typed_properties
    assert sample.alert_type == "SIMULATED_Storage.Blob_DataExfiltration.AmountOfDataAnomaly"
    assert sample.is_sample and sample.extractor == "storage"
    assert typed["extracted_bytes"] == 140 * 1024 * 1024
    assert typed["extracted_text"] == "140 MB"
    assert typed["extracted_blobs"] == 500
    assert typed["authentication_type"] == "Anonymous"
    assert typed["operations"] == ["GetBlob"]
    assert typed["container"] == "eicarTestStorageContainer"
    assert typed["user_agent"] == "dummyAgent"
    assert typed["investigation_steps"]["url"] == "https://go.microsoft.com/fwlink/?linkid=2075734"
    assert sample.intents == ["Exfiltration"]


def test_extended_property_keys_match_whatever_their_case_and_spacing():
    _, typed, entities = extract(
        "Storage.Blob_GeoAnomaly",
        {
            "Client  IP Address": "52.214.204.49",
            "User agent": "Azure-Storage/9.3.0",
            "Azure AD user": "N/A (no)",
        },
    )
    assert typed["client_ip"] == "52.214.204.49"
    assert typed["user_agent"] == "Azure-Storage/9.3.0"
    assert entities == [{"kind": "ip", "value": "52.214.204.49", "source": "Client  IP Address"}]


@pytest.mark.parametrize(
    "alert_type, extractor",
    [
        ("Storage.Blob_SuspiciousIp", "storage"),
        ("storage.files_datAexfiltration.numberoffilesanomaly", "storage"),
        ("SIMULATED_Storage.Blob_MalwareHashReputation", "storage"),
        ("VM_EICAR", "vm"),
        ("VM_SuspiciousCommandLine", "vm"),
        ("SQL.DB_BruteForce", "sql"),
        ("SQL.VM_PotentialSqlInjection", "sql"),
        ("KV_SuspiciousIPAccess", "key_vault"),
        ("ARM_AnomalousOperation.Persistence", "resource_manager"),
        ("ARM.MCAS_ImpossibleTravelActivity", "resource_manager"),
        ("AzureDNS_ThreatIntelSuspectDomain", "dns"),
        ("AppServices_PhpInUploadFolder", "app_service"),
        ("K8S_PrivilegedContainer", "containers"),
        ("CosmosDB_SqlInjection.Success", None),
        ("AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt", None),
    ],
)
def test_alert_types_find_their_extractor_by_prefix(alert_type, extractor):
    found = extractor_for(alert_type)
    assert (found.name if found else None) == extractor


def test_sql_key_vault_and_resource_manager_properties_name_entities():
    _, sql, sql_entities = extract(
        "SQL.DB_BruteForce",
        {"Client IP address": "203.0.113.9", "Principal name": "sa", "Failed logins": "1,204"},
    )
    assert sql["failed_logins"] == 1204
    assert {("ip", "203.0.113.9"), ("account", "sa")} == {(e["kind"], e["value"]) for e in sql_entities}
    _, vault, _ = extract(
        "KV_SuspiciousIPAccess", {"Key Vault name": "kv1", "Operations": "SecretGet, SecretList"}
    )
    assert vault["operations"] == ["SecretGet", "SecretList"]
    _, arm, arm_entities = extract(
        "ARM_AnomalousOperation", {"User": "eve@contoso.com", "Number of operations": "31"}
    )
    assert arm["operation_count"] == 31 and arm_entities[0]["kind"] == "account"


@pytest.mark.parametrize(
    "name, preview",
    [
        ("PREVIEW - Access from a suspicious application", True),
        ("preview - Activity from a risky IP address", True),
        ("Unusual amount of data extracted from a sensitive blob container (Preview)", True),
        ("Unusual amount of data (preview) extracted", False),
        ("Access from a suspicious IP address", False),
    ],
)
def test_preview_alerts_are_recognised_by_prefix_or_suffix(name, preview):
    assert is_preview(name) is preview


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("not an alert", "JSON object"),
        ({"id": "/x", "properties": {"severity": "High"}}, "neither alertType"),
        ({"id": "/x", "properties": {"alertType": "VM_X", "severity": "Catastrophic"}}, "severity"),
        (
            {"id": "/x", "properties": {"alertType": "VM_X", "severity": "Low", "startTimeUtc": "yesterday"}},
            "startTimeUtc",
        ),
    ],
)
def test_malformed_alerts_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(MalformedAlert, match=reason):
        normalize(raw)


def test_continuous_export_shape_is_read():
    exported = normalize(
        {
            "AlertType": "Storage.Blob_TorAnomaly",
            "SystemAlertId": "abc",
            "AlertDisplayName": "Tor access",
            "Severity": "Medium",
            "Status": "New",
            "ExtendedProperties": {"Client IP address": "198.51.100.7"},
            "StartTimeUtc": "2024-01-01T00:00:00Z",
            "ProductName": "Microsoft Defender for Cloud",
        }
    )
    assert exported.schema == "export" and exported.status == "Active"
    assert exported.typed_properties["client_ip"] == "198.51.100.7"


def test_dedup_families_group_the_same_detection_across_providers():
    assert (
        dedup.family("ARM.MCAS_ImpossibleTravelActivity", "Impossible travel activity") == "impossible-travel"
    )
    assert dedup.family("ImpossibleTravel", "Impossible travel activity") == "impossible-travel"
    assert dedup.family("AtypicalTravel", "Atypical travel") == "impossible-travel"
    assert dedup.family("VM_EICAR", "Test alert") == "type:vm_eicar"


def test_attacker_controlled_links_only_survive_as_http_links():
    raw = current_examples()[0]
    raw["properties"]["alertUri"] = "javascript:alert(1)"
    raw["properties"]["extendedLinks"] = [{"Href": "javascript:alert(1)", "Label": "x"}]
    alert = normalize(raw)
    assert alert.alert_uri == "" and alert.extended_links[0]["Href"] == ""


def test_every_type_of_the_simulator_catalog_has_an_extractor_and_the_unknown_ones_do_not():
    from ascmon.simulator import alert_catalog

    assert [t for t in alert_catalog.known_types() if extractor_for(t) is None] == []
    assert [t.alert_type for t in alert_catalog.UNKNOWN_TO_ASCMON if extractor_for(t.alert_type)] == []


def test_catalog_extended_properties_are_all_typed():
    from ascmon.simulator import alert_catalog

    untyped = {}
    for kind in alert_catalog.CATALOG:
        _, typed, _ = extract(kind.alert_type, kind.extended_properties)
        if not typed:
            untyped[kind.alert_type] = kind.extended_properties
    assert untyped == {}
