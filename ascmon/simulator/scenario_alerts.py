"""Defender alerts of a scenario, as REST JSON (api-version 2022-01-01), from the catalog.

Each granted, enabled subscription gets every catalog type (repeated by size) over the last 14 days,
plus: the exfiltration alert matching the storage episode, the cross-product incident, alert types ascmon
has never seen, one alert with malformed properties, alerts that appear later and status changes.
"""

import hashlib
import random
import re
import uuid
from datetime import UTC, datetime, timedelta

from ascmon.simulator import alert_catalog
from ascmon.simulator.alert_catalog import CATALOG, CROSS_PRODUCT_INCIDENT, UNKNOWN_TO_ASCMON
from ascmon.simulator.family_catalog import FAMILY_ALERTS

ASC_LOCATION = "centralus"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
MAX_TICKS = 3155378975999999999  # .NET DateTime.MaxValue.Ticks: alert names start with reversed ticks
EPOCH = datetime(1, 1, 1, tzinfo=UTC)
ATTACKER_IPS = ("185.220.101.47", "45.155.205.233", "193.32.162.71", "89.248.165.12", "2a0b:f4c2::1f")
USERS = ("mallory@contoso.example", "svc-deploy@contoso.example", "bob.ops@contoso.example")
LOCATIONS = ("Moscow, Russia", "Lagos, Nigeria", "Tor exit node", "Azure Data Center: East Us")
AUTH_LABELS = {
    "sas": "Shared access signature (SAS)",
    "bearer": "Azure AD",
    "authenticated": "Storage account key",
    "anonymous": "Anonymous",
}
KIND_TYPE = {
    "vm": "Microsoft.Compute/virtualMachines",
    "sql": "Microsoft.Sql/servers",
    "keyvault": "Microsoft.KeyVault/vaults",
    "appservice": "Microsoft.Web/sites",
    "aks": "Microsoft.ContainerService/managedClusters",
    "storage": "Microsoft.Storage/storageAccounts",
}


def azure_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def alert_name(moment, rng):
    ticks = int((moment - EPOCH).total_seconds() * 10_000_000)
    return f"{MAX_TICKS - ticks}_{str(uuid.UUID(int=rng.getrandbits(128))).upper()}"


def _entities(kinds, ctx, resource_id, resource_name):
    out = [{"$id": "1", "resourceId": resource_id, "resourceName": resource_name, "type": "azure-resource"}]
    for kind in kinds:
        ref = str(len(out) + 1)
        if kind == "ip":
            out.append(
                {
                    "$id": ref,
                    "address": ctx["ip"],
                    "type": "ip",
                    "location": {"countryName": ctx["location"], "asn": 60729},
                }
            )
        elif kind == "host":
            out.append(
                {
                    "$id": ref,
                    "hostName": ctx["host"],
                    "azureID": resource_id,
                    "oSFamily": "Windows",
                    "type": "host",
                }
            )
        elif kind == "account":
            name, _, suffix = ctx["user"].partition("@")
            out.append({"$id": ref, "name": name, "upnSuffix": suffix, "type": "account"})
        elif kind == "file":
            out.append(
                {
                    "$id": ref,
                    "name": "payroll-2021.xlsm",
                    "type": "file",
                    "fileHashes": [{"algorithm": "SHA256", "value": "275a021bbfb6489e54d471899f7db9d1"}],
                }
            )
        elif kind == "process":
            out.append(
                {
                    "$id": ref,
                    "commandLine": "c:\\windows\\temp\\eicar.com",
                    "processId": "0x1a2c",
                    "host": {"$ref": "2"},
                    "type": "process",
                }
            )
    return out


def _format(text, ctx):
    """`{name}` placeholders only: JSON values in the templates keep their own braces."""
    return PLACEHOLDER.sub(lambda m: str(ctx.get(m.group(1), m.group(0))), text)


def _fill(template, ctx):
    return {key: _format(value, ctx) for key, value in template.items()}


def render(kind, sub_id, resource_id, start, rng, ctx, status="Active", product_name=None):
    """One alert of catalog entry `kind` on `resource_id`, raised at `start`."""
    name = alert_name(start, rng)
    group = resource_id.split("/")[4] if "/resourceGroups/" in resource_id else None
    scope = f"/subscriptions/{sub_id}" + (f"/resourceGroups/{group}" if group else "")
    resource_name = resource_id.rstrip("/").split("/")[-1]
    ctx = {
        **ctx,
        "resource_name": resource_name,
        "account": resource_name,
        "host": ctx.get("host") or resource_name,
    }
    generated = start + timedelta(minutes=rng.randint(5, 40))
    blade = (
        "Microsoft_Azure_Security_AzureDefenderForData"
        if kind.resource == "storage"
        else "Microsoft_Azure_Security"
    )
    return {
        "id": f"{scope}/providers/Microsoft.Security/locations/{ASC_LOCATION}/alerts/{name}",
        "name": name,
        "type": "Microsoft.Security/Locations/alerts",
        "properties": {
            "version": "2022-01-01.0",
            "alertType": kind.alert_type,
            "systemAlertId": name,
            "productComponentName": kind.product_component,
            "alertDisplayName": kind.display_name,
            "description": _format(kind.description, ctx),
            "severity": kind.severity,
            "intent": kind.intent,
            "startTimeUtc": azure_time(start),
            "endTimeUtc": azure_time(ctx.get("end") or start + timedelta(minutes=rng.randint(1, 30))),
            "resourceIdentifiers": [{"azureResourceId": resource_id, "type": "AzureResource"}],
            "remediationSteps": list(kind.remediation_steps),
            "vendorName": "Microsoft",
            "status": status,
            "extendedLinks": [],
            "alertUri": (
                f"https://portal.azure.com/#blade/{blade}/AlertBlade/alertId/{name}/subscriptionId/{sub_id}"
                f"/resourceGroup/{group or ''}/referencedFrom/alertDeepLink/location/{ASC_LOCATION}"
            ),
            "timeGeneratedUtc": azure_time(generated),
            "productName": product_name or kind.product_name,
            "processingEndTimeUtc": azure_time(generated + timedelta(seconds=rng.randint(1, 90))),
            "entities": _entities(kind.entities, ctx, resource_id, resource_name),
            "isIncident": False,
            "correlationKey": hashlib.sha256(f"{kind.alert_type}:{resource_id}".encode()).hexdigest()[:44],
            "extendedProperties": _fill(kind.extended_properties, ctx),
            "compromisedEntity": resource_name,
            "techniques": list(kind.techniques),
            "subTechniques": list(kind.sub_techniques),
        },
    }


def _context(rng, now):
    return {
        "ip": rng.choice(ATTACKER_IPS),
        "user": rng.choice(USERS),
        "location": rng.choice(LOCATIONS),
        "user_agent": rng.choice(("python-requests/2.31.0", "AzCopy/10.21.0", "Mozilla/5.0 <x onerror=1>")),
        "container": rng.choice(("invoices", "backups", "reports")),
        "count": str(rng.randint(12, 4800)),
        "guid": str(uuid.UUID(int=rng.getrandbits(128))),
        "auth_label": AUTH_LABELS["sas"],
        "extracted_data": "140 MB",
        "extracted_blobs": "500",
        "host": "",
    }


def _resource_for(scenario, sub_id, kind, rng):
    if kind == "subscription":
        return f"/subscriptions/{sub_id}"
    wanted = KIND_TYPE[kind]
    candidates = [r["id"] for r in scenario.resources.get(sub_id, []) if r["type"] == wanted]
    return rng.choice(candidates) if candidates else f"/subscriptions/{sub_id}"


def generate(scenario, rng, extra_alerts=0):
    """`extra_alerts` more catalog alerts in the demo tenant's production subscription (benchmarks)."""
    now = scenario.now
    size_repeats = {"small": 1, "default": 4, "large": 60}[scenario.size]
    first = True
    for tenant in scenario.tenants:
        repeats = size_repeats if tenant.state == "demo" else 1  # the fleet around the demo is quieter
        for sub in tenant.subscriptions:
            if not sub.granted:
                continue
            sub_id = sub.subscription_id
            alerts = []
            kinds = CATALOG * repeats if sub.state == "Enabled" else CATALOG[:2]
            if first and sub.state == "Enabled":
                kinds += tuple(CATALOG[i % len(CATALOG)] for i in range(extra_alerts))
            for kind in kinds:
                start = now - timedelta(minutes=rng.randint(30, 14 * 24 * 60))
                resource = _resource_for(scenario, sub_id, kind.resource, rng)
                alerts.append(render(kind, sub_id, resource, start, rng, _context(rng, now)))
            if sub.state == "Enabled":
                alerts.extend(_specials(scenario, sub_id, rng, first))
                first = False
            alerts.extend(
                _exfiltration(scenario, sub_id, rng, episode)
                for episode in scenario.episodes.values()
                if episode is not scenario.episode
                and any(s.name == episode.account_name for s in scenario.accounts.get(sub_id, ()))
            )
            alerts.sort(key=lambda a: a["properties"]["timeGeneratedUtc"], reverse=True)
            scenario.alerts[sub_id] = alerts
    _timeline(scenario, rng)


def _specials(scenario, sub_id, rng, demo_sub):
    now, out = scenario.now, []
    for kind in UNKNOWN_TO_ASCMON:
        resource = _resource_for(scenario, sub_id, kind.resource, rng)
        out.append(
            render(kind, sub_id, resource, now - timedelta(hours=rng.randint(1, 96)), rng, _context(rng, now))
        )
    incident_start = now - timedelta(hours=rng.randint(6, 30))
    ctx = _context(rng, now)
    ctx["user"] = "alice@contoso.example"
    ctx["ip"] = "102.89.34.11"
    for alert_type, product, display in CROSS_PRODUCT_INCIDENT:
        kind = alert_catalog.BY_TYPE["ARM.MCAS_ImpossibleTravelActivity"]
        start = incident_start + timedelta(minutes=rng.randint(0, 20))
        alert = render(kind, sub_id, f"/subscriptions/{sub_id}", start, rng, ctx, product_name=product)
        alert["properties"]["alertType"] = alert_type
        alert["properties"]["alertDisplayName"] = display
        out.append(alert)
    if demo_sub:
        out.append(_exfiltration(scenario, sub_id, rng))
        out.append(_malformed(scenario, sub_id, rng))
        out.extend(_family_alerts(scenario, sub_id))
    return out


def _family_alerts(scenario, sub_id):
    """Each family alert, raised on the account and in the window of the episode it reports."""
    rng = random.Random(f"{scenario.seed}:family-alerts")  # its own draws: the other alerts stay as they were
    out = []
    for family, kind in FAMILY_ALERTS:
        episode = scenario.family_episodes[family]
        spec = next(s for s in scenario.accounts[sub_id] if s.name == episode.account_name)
        ctx = {**_context(rng, scenario.now), **episode.alert_context, "location": "Tor exit node"}
        alert = render(kind, sub_id, spec.resource_id, episode.start, rng, ctx)
        alert["properties"]["timeGeneratedUtc"] = azure_time(episode.end + timedelta(minutes=9))
        out.append(alert)
    return out


def _exfiltration(scenario, sub_id, rng, episode=None):
    episode = episode or scenario.episode
    spec = next(s for s in scenario.accounts[sub_id] if s.name == episode.account_name)
    ctx = _context(rng, scenario.now)
    ctx.update(
        ip=episode.ip,
        user_agent=episode.user_agent,
        container=episode.container,
        auth_label=AUTH_LABELS.get(episode.auth_type, episode.auth_type),
        extracted_data=f"{episode.bytes / 1024 / 1024:.0f} MB",
        extracted_blobs=str(episode.blobs),
        location="Tor exit node",
        end=episode.end,
    )
    kind = alert_catalog.BY_TYPE[alert_catalog.EXFILTRATION_TYPE]
    alert = render(kind, sub_id, spec.resource_id, episode.start, rng, ctx)
    alert["properties"]["timeGeneratedUtc"] = azure_time(episode.end + timedelta(minutes=12))
    return alert


def _malformed(scenario, sub_id, rng):
    kind = alert_catalog.BY_TYPE["VM_EICAR"]
    alert = render(
        kind,
        sub_id,
        f"/subscriptions/{sub_id}",
        scenario.now - timedelta(hours=3),
        rng,
        _context(rng, scenario.now),
    )
    alert["properties"].update(
        alertType=["VM_EICAR"],
        startTimeUtc="yesterday-ish",
        extendedProperties="not a map",
        entities={"oops": 1},
    )
    return alert


def _timeline(scenario, rng):
    """Status changes a poll sees later, and (default/large) new alerts that keep arriving."""
    demo_sub = scenario.tenants[0].subscriptions[0].subscription_id
    alerts = [a for a in scenario.alerts[demo_sub] if isinstance(a["properties"]["alertType"], str)]
    for offset, alert, status in (
        (45, alerts[1], "InProgress"),
        (120, alerts[1], "Resolved"),
        (90, alerts[2], "Dismissed"),
        (150, alerts[3], "Resolved"),
    ):
        scenario.status_changes.append((offset, alert["id"], status))
    if scenario.size == "small":
        return
    live = rng.sample(alerts[5:], k=min(8, len(alerts) - 5))
    for index, alert in enumerate(live):
        scenario.appear_after[alert["id"]] = 30 + 45 * index
