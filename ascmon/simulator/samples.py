"""Alerts_Simulate in the simulator: Defender's sample alerts ("[SAMPLE ALERT] ..."), one per requested
bundle whose Defender plan is on in the subscription, listed by the next poll (docs/azure-formats.md §1:
sample alerts are ordinary alerts with the prefix in their display name). Pure: no Django, no Azure SDK."""

import random
from datetime import UTC, datetime, timedelta

from ascmon.simulator import alert_catalog
from ascmon.simulator.scenario_alerts import _context, _resource_for, render

# Bundle -> (the Defender plan it needs on, the catalog resource kind its sample is raised on).
BUNDLES = {
    "StorageAccounts": ("StorageAccounts", "storage"),
    "VirtualMachines": ("VirtualMachines", "vm"),
    "KeyVaults": ("KeyVaults", "keyvault"),
    "SqlServers": ("SqlServers", "sql"),
    "AppServices": ("AppServices", "appservice"),
    "KubernetesService": ("Containers", "aks"),
    "ResourceManager": ("Arm", "subscription"),
}
PREFIX = "[SAMPLE ALERT] "


def sample_alerts(scenario, sub_id, bundles, plans_on, serial):
    """The sample alerts one request raises; `plans_on` are the subscription's plans on Standard now."""
    rng = random.Random(f"{scenario.seed}:samples:{sub_id}:{serial}")
    # render() stamps timeGenerated up to 40 minutes after the start: start early enough to be past.
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=45)
    out = []
    for bundle in bundles:
        plan, resource_kind = BUNDLES.get(bundle, (None, None))
        if plan not in plans_on:
            continue
        kind = next((k for k in alert_catalog.CATALOG if k.resource == resource_kind), None)
        if kind is None:
            continue
        resource = _resource_for(scenario, sub_id, resource_kind, rng)
        alert = render(kind, sub_id, resource, now, rng, _context(rng, now))
        alert["properties"]["alertDisplayName"] = PREFIX + alert["properties"]["alertDisplayName"]
        out.append(alert)
    return out
