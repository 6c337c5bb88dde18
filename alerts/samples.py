"""Raw alerts in the 2022-01-01 wire shape, for tests and the bench. Pure: no Django."""

import uuid
from datetime import UTC, datetime

DEFENDER = "Microsoft Defender for Cloud"
DEFAULT_PROPERTIES = {
    "Client IP address": "198.51.100.10",
    "User agent": "curl/8.0",
    "Authentication type": "SAS",
}


def raw_alert(
    alert_type="Storage.Blob_SuspiciousIp",
    display_name="Access from a suspicious IP address",
    *,
    severity="Medium",
    status="Active",
    subscription="00000000-0000-0000-0000-000000000001",
    resource_group="rg1",
    location="westeurope",
    name=None,
    system_alert_id=None,
    product=DEFENDER,
    start=None,
    entities=None,
    extended=None,
    compromised="account1",
):
    """One alert as Alerts_List returns it; pass `name`/`system_alert_id` to make sightings of one alert."""
    name = name or f"2517{uuid.uuid4().int % 10**15:015d}_{uuid.uuid4()}"
    start = start or datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    rg = f"/resourceGroups/{resource_group}" if resource_group else ""
    scope = f"/subscriptions/{subscription}{rg}/providers/Microsoft.Security/locations/{location}"
    stamp = start.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    return {
        "id": f"{scope}/alerts/{name}",
        "name": name,
        "type": "Microsoft.Security/Locations/alerts",
        "properties": {
            "version": "2022-01-01",
            "alertType": alert_type,
            "systemAlertId": system_alert_id or name,
            "alertDisplayName": display_name,
            "description": f"{display_name} on {compromised}.",
            "severity": severity,
            "intent": "InitialAccess",
            "startTimeUtc": stamp,
            "endTimeUtc": stamp,
            "timeGeneratedUtc": stamp,
            "processingEndTimeUtc": stamp,
            "resourceIdentifiers": [
                {
                    "type": "AzureResource",
                    "azureResourceId": f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
                    f"/providers/Microsoft.Storage/storageAccounts/{compromised}",
                }
            ],
            "remediationSteps": ["Check the access.", "Rotate the keys."],
            "vendorName": "Microsoft",
            "status": status,
            "productName": product,
            "compromisedEntity": compromised,
            "entities": entities if entities is not None else [{"type": "ip", "address": "198.51.100.10"}],
            "extendedProperties": extended if extended is not None else DEFAULT_PROPERTIES,
            "techniques": ["T1078"],
            "subTechniques": [],
        },
    }
