"""Shared test objects: devices, their subscriptions and storage accounts, and raw alerts as Azure sends
them. Tests build what they need here instead of each module making its own."""

import uuid
from datetime import UTC, datetime, timedelta

from ascmon.simulator.storage_activity import AccountLogSpec
from devices.models import Device, StorageAccount, Subscription

SUBSCRIPTION = "00000000-0000-0000-0000-00000000a001"


def device(
    name="contoso", *, secret="not-a-secret", subscriptions=None, tenant_id=None, client_id=None, **fields
):
    """A saved device (its secret encrypted as onboarding does); `subscriptions` maps ids to visible."""
    made = Device(name=name, tenant_id=tenant_id or f"t-{name}", client_id=client_id or f"c-{name}", **fields)
    made.set_secret(secret)
    made.save()
    for sub_id, visible in (subscriptions or {}).items():
        Subscription.objects.create(device=made, subscription_id=sub_id, visible=visible)
    return made


def storage_account(
    name,
    *,
    device_name="Contoso",
    blob_endpoint="",
    subscription_id=SUBSCRIPTION,
    resource_group="rg-logs",
    profile="small",
    **log_flags,
):
    """(account, its simulator spec): an account of the named device (made once), logging as the spec says."""
    owner = Device.objects.filter(name=device_name).first() or device(device_name)
    sub, _ = Subscription.objects.get_or_create(
        device=owner, subscription_id=subscription_id, defaults={"visible": True}
    )
    spec = AccountLogSpec(name, subscription_id, resource_group, profile=profile, **log_flags)
    account = StorageAccount.objects.create(
        device=owner,
        subscription=sub,
        resource_id=spec.resource_id,
        name=name,
        resource_group=resource_group,
        blob_endpoint=blob_endpoint,
        logging_version=spec.logging_version or "",
        logging_read=spec.read,
        logging_write=spec.write,
        logging_delete=spec.delete,
        logging_retention_days=30,
        diagnostic_logs=spec.diagnostic_logs,
    )
    return account, spec


def daily_volumes(account, first_day, days, **figures):
    """`days` DailyVolume rows of an account from `first_day`, each with the same figures."""
    from storage_logs.models import DailyVolume

    return DailyVolume.objects.bulk_create(
        DailyVolume(account=account, day=first_day + timedelta(days=n), **figures) for n in range(days)
    )


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


def exfiltration_alert(account, episode):
    """The saved Defender alert that reports a simulator exfiltration `episode` from `account`."""
    from alerts.ingest import Ingester
    from alerts.models import Alert

    scope = f"/subscriptions/{account.subscription.subscription_id}/providers/Microsoft.Security"
    props = {
        "alertType": "Storage.Blob_DataExfiltration.AmountOfDataAnomaly",
        "systemAlertId": "exfil-1",
        "alertDisplayName": "Unusual amount of data extracted from a storage account",
        "severity": "High",
        "status": "Active",
        "startTimeUtc": episode.start.isoformat(),
        "endTimeUtc": episode.end.isoformat(),
        "timeGeneratedUtc": episode.end.isoformat(),
        "compromisedEntity": account.name,
        "productName": DEFENDER,
        "vendorName": "Microsoft",
        "resourceIdentifiers": [{"type": "AzureResource", "azureResourceId": account.resource_id}],
        "extendedProperties": {
            "client IP address": episode.ip,
            "user agent": episode.user_agent,
            "authentication type": "Shared access signature (SAS)",
            "container": episode.container,
            "extracted data": f"{episode.bytes // 1_000_000} MB",
            "extracted blobs": str(episode.blobs),
        },
        "entities": [{"$id": "1", "type": "ip", "address": episode.ip}],
    }
    payload = {
        "id": f"{scope}/locations/westeurope/alerts/exfil-1",
        "name": "exfil-1",
        "type": "Microsoft.Security/Locations/alerts",
        "properties": props,
    }
    Ingester(account.device).ingest_page([payload])
    return Alert.objects.get(device=account.device, system_alert_id="exfil-1")


def family_alert(account, episode, alert_type):
    """The saved Defender alert of type `alert_type` (ascmon/simulator/family_catalog.py) that reports a
    family `episode` on `account`, rendered as the simulator renders it."""
    import random

    from alerts.ingest import Ingester
    from alerts.models import Alert
    from ascmon.simulator import scenario_alerts
    from ascmon.simulator.family_catalog import FAMILY_ALERTS

    kind = next(kind for family, kind in FAMILY_ALERTS if kind.alert_type == alert_type)
    rng = random.Random(f"family-alert:{alert_type}")
    ctx = {**scenario_alerts._context(rng, episode.end), **episode.alert_context, "location": "Tor exit node"}
    sub = account.subscription.subscription_id
    payload = scenario_alerts.render(kind, sub, account.resource_id, episode.start, rng, ctx)
    Ingester(account.device).ingest_page([payload])
    return Alert.objects.get(device=account.device, system_alert_id=payload["properties"]["systemAlertId"])
