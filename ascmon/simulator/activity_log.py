"""The Azure Activity Log the simulator serves (ActivityLogs_List, api-version 2015-04-01): control-plane
events that fit the scenario's storage episodes, in the EventData shape azure-mgmt-monitor reads.

Around each episode, the principal behind it does what such a principal does in a subscription: lists
the account's keys or makes a SAS before an exfiltration or a mass deletion, grants itself a role before
an upload, opens the container and the network to the public, turns logging off; plus the subscription's
background (ascmon's own listKeys, a deployment). One event carries hostile text, as any field may.
Pure: no Django, no Azure SDK. The route that filters them is ascmon/simulator/routes.py.
"""

import re
import uuid
from datetime import datetime, timedelta

ACCOUNT_OPS = "Microsoft.Storage/storageAccounts"
FILTER_TERM = re.compile(
    r"(?P<field>eventTimestamp|caller|resourceUri|resourceGroupName|resourceProvider|correlationId)\s+"
    r"(?P<op>ge|le|eq)\s+'(?P<value>[^']*)'",
    re.IGNORECASE,
)
SCOPES = ("resourceuri", "resourcegroupname", "resourceprovider", "correlationid")
LABELS = {
    f"{ACCOUNT_OPS}/listKeys/action": "List Storage Account Keys",
    f"{ACCOUNT_OPS}/listAccountSas/action": "List Storage Account SAS",
    f"{ACCOUNT_OPS}/listServiceSas/action": "List Storage Service SAS",
    f"{ACCOUNT_OPS}/write": "Create/Update Storage Account",
    f"{ACCOUNT_OPS}/blobServices/write": "Put blob service properties",
    f"{ACCOUNT_OPS}/blobServices/containers/write": "Put blob container",
    "Microsoft.Authorization/roleAssignments/write": "Create role assignment",
    "Microsoft.Insights/diagnosticSettings/delete": "Delete diagnostic setting",
    "Microsoft.Compute/virtualMachines/write": "Create or Update Virtual Machine",
    "Microsoft.Resources/deployments/write": "Create Deployment",
}
HOSTILE = '<script>alert("activity")</script> & "quotes"'


def event(sub_id, when, caller, operation, resource_id, ip, status="Succeeded", properties=None):
    """One Activity Log event as the REST API returns it."""
    group = resource_id.split("/")[4] if "/resourceGroups/" in resource_id else ""
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource_id}|{operation}|{when.isoformat()}|{caller}"))
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    label = LABELS.get(operation, operation)
    return {
        "authorization": {"action": operation, "scope": resource_id},
        "caller": caller,
        "channels": "Operation",
        "claims": {},
        "correlationId": str(uuid.uuid5(uuid.NAMESPACE_OID, event_id)),
        "description": "",
        "eventDataId": event_id,
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "httpRequest": {"clientRequestId": event_id, "clientIpAddress": ip, "method": "POST"},
        "id": f"{resource_id}/events/{event_id}/ticks/{int(when.timestamp() * 10**7)}",
        "level": "Informational" if status == "Succeeded" else "Error",
        "resourceGroupName": group,
        "resourceProviderName": {"value": operation.split("/")[0], "localizedValue": operation.split("/")[0]},
        "resourceId": resource_id,
        "resourceType": {"value": "/".join(operation.split("/")[:2]), "localizedValue": ""},
        "operationId": event_id,
        "operationName": {"value": operation, "localizedValue": label},
        "properties": {"statusCode": "OK" if status == "Succeeded" else "Forbidden", **(properties or {})},
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": "OK" if status == "Succeeded" else "Forbidden", "localizedValue": ""},
        "eventTimestamp": stamp,
        "submissionTimestamp": stamp,
        "subscriptionId": sub_id,
        "tenantId": "",
    }


def scenario_events(scenario):
    """{subscription id: [event, ...]} for the scenario's storage episodes and background."""
    out = {}
    for tenant in scenario.tenants:
        for sub in tenant.subscriptions:
            for spec in scenario.accounts.get(sub.subscription_id, []):
                episodes = scenario.episodes_for(spec.name)
                if episodes:
                    out.setdefault(sub.subscription_id, []).extend(
                        account_events(sub.subscription_id, spec.resource_id, episodes, tenant.client_id)
                    )
    return out


OPS = ACCOUNT_OPS + "/"
VM = "{sub}/resourceGroups/rg-workload/providers/Microsoft.Compute/virtualMachines/vm-jump-01"
DEPLOYMENT = "{sub}/resourceGroups/rg-workload/providers/Microsoft.Resources/deployments/miner"
ROLE = "{account}/providers/Microsoft.Authorization/roleAssignments/{assignment}"
BLOB_SERVICE = "{account}/blobServices/default"
DIAGNOSTIC = BLOB_SERVICE + "/providers/microsoft.insights/diagnosticSettings/archive-to-storage"
MALLORY = "mallory@contoso.example"
# Per family: (minutes from the episode's start, caller ("": the episode's principal), operation, resource
# (a template), IP ("": the episode's), status, properties).
STEPS = {
    "exfiltration": (
        (-50, MALLORY, OPS + "listAccountSas/action", "{account}", "", "Succeeded", {}),
        (-45, MALLORY, OPS + "listServiceSas/action", "{account}", "", "Succeeded", {}),
    ),
    "malware": (
        (-20, "", "Microsoft.Authorization/roleAssignments/write", ROLE, "", "Succeeded",
         {"requestbody": '{"roleDefinitionId": "Storage Blob Data Contributor"}'}),
        (-15, "", OPS + "write", "{account}", "", "Succeeded",
         {"message": "networkAcls.defaultAction: Deny -> Allow"}),
        (40, "", "Microsoft.Compute/virtualMachines/write", VM, "", "Succeeded", {}),
    ),
    "public": (
        (-3, "", OPS + "write", "{account}", "203.0.113.40", "Succeeded",
         {"message": "allowBlobPublicAccess: false -> true"}),
        (-1, "", OPS + "blobServices/containers/write", BLOB_SERVICE + "/containers/{container}",
         "203.0.113.40", "Succeeded", {"message": "publicAccess: None -> Container"}),
    ),
    "sas": (
        (-420, "svc-exports@contoso.example", OPS + "listAccountSas/action", "{account}", "10.20.1.9",
         "Succeeded", {}),
    ),
    "deletion": (
        (-30, MALLORY, OPS + "listKeys/action", "{account}", "", "Succeeded", {}),
        (-25, MALLORY, OPS + "blobServices/write", BLOB_SERVICE, "", "Succeeded",
         {"message": "deleteRetentionPolicy.enabled: true -> false"}),
        (-24, MALLORY, "Microsoft.Insights/diagnosticSettings/delete", DIAGNOSTIC, "", "Succeeded", {}),
    ),
    "unusual_place": (
        (-6, "", OPS + "listKeys/action", "{account}", "", "Failed", {"statusMessage": HOSTILE}),
        (20, "", "Microsoft.Resources/deployments/write", DEPLOYMENT, "", "Succeeded", {}),
    ),
}  # fmt: skip


def account_events(sub_id, account_id, episodes, ascmon_app):
    """The events around each episode on one storage account (STEPS), and ascmon's own key listing."""
    events = []
    for episode in episodes:
        for minutes, caller, operation, resource, ip, status, properties in STEPS.get(
            getattr(episode, "family", "exfiltration"), ()
        ):
            who = caller or episode.principal
            target = resource.format(
                sub=f"/subscriptions/{sub_id}",
                account=account_id,
                container=episode.container,
                assignment=uuid.uuid5(uuid.NAMESPACE_URL, who),
            )
            when = episode.start + timedelta(minutes=minutes)
            events.append(event(sub_id, when, who, operation, target, ip or episode.ip, status, properties))
    when, last = min(e.start for e in episodes) - timedelta(hours=12), max(e.end for e in episodes)
    while when < last:  # ascmon itself lists the key every few hours to read the logs
        events.append(event(sub_id, when, ascmon_app, OPS + "listKeys/action", account_id, "20.50.2.10"))
        when += timedelta(hours=6)
    return events


def matches(event_json, terms):
    """Whether an event passes the parsed $filter terms [(field, op, value)]."""
    for name, op, value in terms:
        if name == "eventtimestamp":
            when = datetime.fromisoformat(event_json["eventTimestamp"].replace("Z", "+00:00"))
            bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if (op == "ge" and when < bound) or (op == "le" and when > bound):
                return False
        elif name == "caller" and event_json["caller"].lower() != value.lower():
            return False
        elif name == "resourceuri" and not event_json["resourceId"].lower().startswith(value.lower()):
            return False
        elif name == "resourcegroupname" and event_json["resourceGroupName"].lower() != value.lower():
            return False
    return True


def parse_filter(text):
    """[(field lower-cased, op, value)], or None when Azure would refuse the filter (docs/azure-formats.md
    §10: a time range, a caller, at most one resource scope)."""
    terms = [(m["field"].lower(), m["op"].lower(), m["value"]) for m in FILTER_TERM.finditer(text or "")]
    if not any(name == "eventtimestamp" and op == "ge" for name, op, _ in terms):
        return None
    if sum(name in SCOPES for name, _, _ in terms) > 1:  # one resource scope at most, as Azure insists
        return None
    return terms
