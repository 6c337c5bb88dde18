"""The Azure Activity Log of a subscription: who did what on the control plane (azure-mgmt-monitor 6.x,
`activity_logs.list`, api-version 2015-04-01). Free, kept 90 days, readable with Reader.

`$filter` takes a time range, a caller, and at most one resource scope (docs/azure-formats.md §10): the
principal's activity anywhere in the subscription and everything on the account are two calls.
"""

from datetime import UTC, datetime, timedelta

from azure.mgmt.monitor import MonitorManagementClient

from ascmon.azure._arm import cached_client, client_options, credential
from ascmon.azure.translate import azure_errors

MAX_EVENTS = 500
SELECT = (
    "eventTimestamp,operationName,status,subStatus,caller,resourceId,resourceGroupName,category,level,"
    "httpRequest,correlationId,eventDataId,properties,authorization"
)


@cached_client
def _client(tenant, subscription_id):
    return MonitorManagementClient(credential(tenant), subscription_id, **client_options(tenant))


def _stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value):
    return (getattr(value, "value", None) or "") if value is not None else ""


def _event(event):
    request = event.http_request
    operation = event.operation_name
    return {
        "time": event.event_timestamp,
        "operation": _text(operation),
        "operation_label": (getattr(operation, "localized_value", None) or _text(operation)),
        "status": _text(event.status),
        "sub_status": _text(event.sub_status),
        "caller": event.caller or "",
        "resource_id": event.resource_id or "",
        "resource_group": event.resource_group_name or "",
        "category": _text(event.category),
        "level": event.level or "",
        "client_ip": (request.client_ip_address or "") if request else "",
        "correlation_id": event.correlation_id or "",
        "event_id": event.event_data_id or "",
        "action": (event.authorization.action or "") if event.authorization else "",
        "properties": dict(event.properties or {}),
    }


@azure_errors
def list_events(tenant, subscription_id, start, end, *, caller="", resource_id=""):
    """Activity Log events of a subscription in [start, end], newest first: of one caller (a UPN or an
    object id), or on one resource (and what is under it); at most MAX_EVENTS."""
    where = f"eventTimestamp ge '{_stamp(start)}' and eventTimestamp le '{_stamp(end)}'"
    if caller:
        where += f" and caller eq '{caller.replace(chr(39), '')}'"
    elif resource_id:
        where += f" and resourceUri eq '{resource_id.replace(chr(39), '')}'"
    pages = _client(tenant, subscription_id).activity_logs.list(filter=where, select=SELECT)
    events = []
    for event in pages:
        events.append(_event(event))
        if len(events) >= MAX_EVENTS:
            break
    return sorted(events, key=lambda e: e["time"] or start, reverse=True)


@azure_errors
def can_read(tenant, subscription_id):
    """True when the app may read the subscription's Activity Log (one call for the last minute); raises
    Forbidden when it may not (Reader on the subscription suffices)."""
    now = datetime.now(UTC)
    where = f"eventTimestamp ge '{_stamp(now - timedelta(minutes=1))}' and eventTimestamp le '{_stamp(now)}'"
    next(
        iter(_client(tenant, subscription_id).activity_logs.list(filter=where, select="eventTimestamp")), None
    )
    return True
