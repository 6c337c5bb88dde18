"""Microsoft Defender for Cloud: alerts (paged, raw), alert status write-back, Defender plans (pricings).

Alert pages are fetched through the SDK client's own pipeline (credential, retries honouring Retry-After,
TLS) but kept as the JSON on the wire, so one malformed alert is rejected on its own while the rest of
the page is kept; the SDK's model parsing would fail the whole page. Every kept alert has passed the
SDK's Alert model once, so what ascmon stores is what azure-mgmt-security would accept.
"""

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.security import SecurityCenter
from azure.mgmt.security.v2022_01_01.models import (
    Alert,
    AlertSimulatorBundlesRequestProperties,
    AlertSimulatorRequestBody,
)

from ascmon.azure._arm import cached_client, client_options, credential, enum_text
from ascmon.azure.errors import Transient
from ascmon.azure.resource_ids import parse_alert_id
from ascmon.azure.translate import azure_errors

ALERTS_API = "2022-01-01"
DEFAULT_BASE = "https://management.azure.com"
ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError}
STATUS_ACTIONS = {
    "Active": "activate",
    "InProgress": "in_progress",
    "Resolved": "resolve",
    "Dismissed": "dismiss",
}
STRING_FIELDS = ("alertType", "alertDisplayName", "severity", "status")


@dataclass
class RejectedItem:
    raw: object  # the item as received (dict), or text when it was not even an object
    reason: str


@dataclass
class AlertPage:
    alerts: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    next_link: str | None = None


@cached_client
def _client(tenant, subscription_id):
    return SecurityCenter(credential(tenant), subscription_id, **client_options(tenant))


def _base_url():
    return client_options().get("base_url", DEFAULT_BASE).rstrip("/")


def first_page_url(subscription_id):
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.Security/alerts"
    return f"{_base_url()}{path}?api-version={ALERTS_API}"


def iter_alert_pages(tenant, subscription_id, continuation=None) -> Iterator[AlertPage]:
    """The subscription's alerts page by page; pass a page's `next_link` as `continuation` to resume."""
    url = continuation or first_page_url(subscription_id)
    while url:
        page = _fetch_page(tenant, subscription_id, url)
        yield page
        url = page.next_link


def _same_origin(url):
    """nextLink comes from the answer: never send our token anywhere but the management endpoint."""
    ours, theirs = urlsplit(_base_url()), urlsplit(url)
    return (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower())


@azure_errors
def _fetch_page(tenant, subscription_id, url):
    if not _same_origin(url):
        raise Transient("the page link points outside the management endpoint; not followed")
    response = _client(tenant, subscription_id)._client.send_request(HttpRequest("GET", url))
    if response.status_code != 200:
        map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    try:
        body = json.loads(response.text())
    except (ValueError, UnicodeDecodeError) as error:
        raise Transient("the alert page is not valid JSON (truncated?)", status=200) from error
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise Transient("the alert page has no 'value' list", status=200)
    page = AlertPage()
    for item in body["value"]:
        reason = alert_problem(item, subscription_id)
        if reason:
            page.rejected.append(RejectedItem(item if isinstance(item, dict) else str(item)[:2000], reason))
        else:
            page.alerts.append(item)
    next_link = body.get("nextLink")
    page.next_link = next_link if isinstance(next_link, str) and next_link else None
    return page


def alert_problem(item, subscription_id):
    """Why this item cannot be an alert of this subscription, or "" when it can."""
    if not isinstance(item, dict):
        return "not a JSON object"
    try:
        ids = parse_alert_id(item.get("id") if isinstance(item.get("id"), str) else "")
    except ValueError:
        return "id is not a Microsoft.Security alert id"
    if ids["subscription_id"].lower() != subscription_id.lower():
        return "alert belongs to another subscription"
    properties = item.get("properties")
    if not isinstance(properties, dict):
        return "properties is not an object"
    for name in STRING_FIELDS:
        if not isinstance(properties.get(name), str) or not properties[name].strip():
            return f"properties.{name} is missing or not text"
    if not isinstance(properties.get("extendedProperties", {}), dict):
        return "properties.extendedProperties is not an object"
    if not isinstance(properties.get("entities", []), list):
        return "properties.entities is not a list"
    try:
        model = Alert.deserialize(copy.deepcopy(item))  # the deserializer pops discriminators
    except Exception as error:  # the SDK's deserializer raises several types for bad input
        return f"not a valid 2022-01-01 alert: {str(error)[:200]}"
    if any(getattr(model, attr) is None for attr in ("start_time_utc", "time_generated_utc")):
        return "startTimeUtc or timeGeneratedUtc is missing or not a time"
    return ""


@azure_errors
def get_alert(tenant, alert_id):
    """One alert by id, raw JSON (per-location get, subscription or resource-group level)."""
    ids = parse_alert_id(alert_id)
    url = f"{_base_url()}{alert_id}?api-version={ALERTS_API}"
    response = _client(tenant, ids["subscription_id"])._client.send_request(HttpRequest("GET", url))
    if response.status_code != 200:
        map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response.json()


@azure_errors
def set_alert_status(tenant, alert_id, status):
    """Ask Defender for Cloud to set the alert's status (Active, InProgress, Resolved, Dismissed)."""
    if status not in STATUS_ACTIONS:
        raise ValueError(f"status must be one of {sorted(STATUS_ACTIONS)}")
    ids = parse_alert_id(alert_id)
    alerts = _client(tenant, ids["subscription_id"]).alerts
    action = STATUS_ACTIONS[status]
    if ids["resource_group"]:
        method = getattr(alerts, f"update_resource_group_level_state_to_{action}")
        method(
            resource_group_name=ids["resource_group"], asc_location=ids["location"], alert_name=ids["name"]
        )
    else:
        method = getattr(alerts, f"update_subscription_level_state_to_{action}")
        method(asc_location=ids["location"], alert_name=ids["name"])


@azure_errors
def list_alerts_via_sdk(tenant, subscription_id):
    """The SDK's own paging and models (`Alert.as_dict()`): for checks and benchmarks, not ingestion."""
    return [alert.as_dict() for alert in _client(tenant, subscription_id).alerts.list()]


def _extension(extension):
    return {"name": extension.name, "is_enabled": str(extension.is_enabled).lower() == "true"}


@azure_errors
def list_pricings(tenant, subscription_id):
    """Defender plans of the subscription (api 2024-01-01: `scope_id` and a PricingList)."""
    plans = _client(tenant, subscription_id).pricings.list(scope_id=f"subscriptions/{subscription_id}")
    return [
        {
            "name": plan.name,
            "pricing_tier": enum_text(plan.pricing_tier),
            "sub_plan": plan.sub_plan or "",
            "deprecated": bool(plan.deprecated),
            "replaced_by": list(plan.replaced_by or ()),
            "enablement_time": plan.enablement_time.isoformat() if plan.enablement_time else "",
            "free_trial_remaining": (
                int(plan.free_trial_remaining_time.total_seconds())
                if plan.free_trial_remaining_time
                else None
            ),
            "extensions": [_extension(e) for e in plan.extensions or ()],
        }
        for plan in plans.value or ()
    ]


# Alerts_Simulate bundles, and the Defender plan each needs on: Defender sends samples only for plans on.
SAMPLE_BUNDLES = {
    "StorageAccounts": "StorageAccounts",
    "VirtualMachines": "VirtualMachines",
    "KeyVaults": "KeyVaults",
    "SqlServers": "SqlServers",
    "AppServices": "AppServices",
    "KubernetesService": "Containers",
    "ResourceManager": "Arm",
}


@azure_errors
def simulate_alerts(tenant, subscription_id, asc_location, bundles=tuple(SAMPLE_BUNDLES)):
    """Ask Defender for Cloud to raise sample alerts ("[SAMPLE ALERT] ...") in the subscription
    (Alerts_Simulate). Returns once Azure accepted the request; the alerts come through the poll."""
    body = AlertSimulatorRequestBody(properties=AlertSimulatorBundlesRequestProperties(bundles=list(bundles)))
    _client(tenant, subscription_id).alerts.begin_simulate(asc_location, body, polling=False)
