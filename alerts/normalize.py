"""Turn one raw Defender for Cloud alert into ascmon's single schema.

Pure: no Django. Reads the current REST schema (api 2022-01-01, camelCase under `properties`), the legacy
2015-06-01-preview / 2019-01-01 schema (mapped as in docs/azure-formats.md §1.6) and the continuous-export
shape (PascalCase at the top level). Anything that cannot be read raises MalformedAlert with a message
fit to show a user; the caller stores the raw alert and carries on with the rest of the page.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from alerts.extended_properties import canonical_type, extract
from alerts.property_values import safe_url

SEVERITIES = {"informational": 0, "low": 1, "medium": 2, "high": 3}  # name -> rank, for sorting
STATUSES = {
    "active": "Active",
    "inprogress": "InProgress",
    "resolved": "Resolved",
    "dismissed": "Dismissed",
    "new": "Active",
}
ALERT_ID_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<rg>[^/]+))?/providers/Microsoft\.Security"
    r"/locations/(?P<loc>[^/]+)/alerts/(?P<name>[^/]+)$",
    re.IGNORECASE,
)
PREVIEW_RE = re.compile(r"^\s*preview\s*-\s|\(\s*preview\s*\)\s*$", re.IGNORECASE)
FRACTION_RE = re.compile(r"(\.\d{6})\d+")
DEFENDER_FOR_CLOUD = ("azure security center", "microsoft defender for cloud", "defender for cloud")


NOT_STORED = ("entities", "workspace")


class MalformedAlert(ValueError):
    """The alert cannot be read; the message says why, for the poll record and the import report."""


@dataclass
class NormalizedAlert:
    """One alert in ascmon's schema; the field names are the Alert model's."""

    identity: str
    resource_id: str
    name: str
    system_alert_id: str
    subscription_id: str
    resource_group: str
    asc_location: str
    schema: str
    alert_type: str
    display_name: str
    description: str
    severity: str
    severity_rank: int
    status: str
    intents: list
    start_time: datetime | None
    end_time: datetime | None
    time_generated: datetime | None
    processing_end_time: datetime | None
    compromised_entity: str
    resource_ids: list
    workspace: dict
    product_name: str
    product_component_name: str
    vendor: str
    techniques: list
    sub_techniques: list
    remediation_steps: list
    alert_uri: str
    extended_links: list
    is_incident: bool
    correlation_key: str
    supporting_evidence: dict
    extended_properties: dict
    typed_properties: dict
    extractor: str
    is_preview: bool
    is_sample: bool
    entities: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    content_hash: str = ""


STORED_FIELDS = tuple(f.name for f in fields(NormalizedAlert) if f.name not in NOT_STORED)


def is_preview(display_name):
    """Preview alerts have no flag: "PREVIEW - " in front or "(Preview)" at the end of the display name."""
    return bool(PREVIEW_RE.search(display_name or ""))


def content_hash(raw):
    return hashlib.sha256(
        json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def parse_time(value, what):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(FRACTION_RE.sub(r"\1", str(value).strip()).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedAlert(f"{what} is not a date-time: {str(value)[:60]!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def str_or_empty(value, limit=None):
    """`value` as a string ("" for None), cut to `limit` characters when one is given."""
    result = "" if value is None else str(value)
    return result[:limit] if limit else result


def string_list(value):
    if value is None:
        return []
    if isinstance(value, str):  # legacy: one string with \r\n; intents: "Persistence, CredentialAccess"
        return [part.strip() for part in re.split(r"\r?\n", value) if part.strip()]
    if not isinstance(value, list):
        raise MalformedAlert(f"expected a list, got {type(value).__name__}")
    return [str(item) for item in value if item not in (None, "")]


def split_intents(value):
    return [part.strip() for item in string_list(value) for part in item.split(",") if part.strip()]


# ---- schema detection and mapping --------------------------------------------------------------------


def current_properties(raw):
    """The `properties` of a current-schema alert, with legacy and export shapes mapped onto it."""
    if not isinstance(raw, dict):
        raise MalformedAlert(f"an alert must be a JSON object, got {type(raw).__name__}")
    props = raw.get("properties")
    if isinstance(props, dict):
        if "alertType" in props:
            return "current", props
        if "alertName" in props:
            return "legacy", legacy_to_current(raw, props)
        raise MalformedAlert(
            "properties has neither alertType (2022-01-01 schema) nor alertName (legacy schema)"
        )
    if "AlertType" in raw or "SystemAlertId" in raw:
        return "export", export_to_current(raw)
    raise MalformedAlert("not an alert: no properties object and no continuous-export AlertType")


def legacy_to_current(raw, props):
    """api 2015-06-01-preview / 2019-01-01 keys -> 2022-01-01 keys (docs/azure-formats.md §1.6)."""
    resource = props.get("associatedResource")
    mapped = {
        "alertType": props.get("alertName"),
        "systemAlertId": raw.get("name") or props.get("instanceId"),
        "alertDisplayName": props.get("alertDisplayName"),
        "description": props.get("description"),
        "severity": props.get("reportedSeverity"),
        "status": props.get("state"),
        "startTimeUtc": props.get("detectedTimeUtc"),
        "endTimeUtc": props.get("detectedTimeUtc"),
        "timeGeneratedUtc": props.get("reportedTimeUtc"),
        "remediationSteps": props.get("remediationSteps"),
        "vendorName": props.get("vendorName"),
        "compromisedEntity": props.get("compromisedEntity"),
        "resourceIdentifiers": [{"type": "AzureResource", "azureResourceId": resource}] if resource else [],
        "entities": props.get("entities") or [],
        "extendedProperties": props.get("extendedProperties") or {},
        "isIncident": props.get("isIncident", False),
        "correlationKey": props.get("correlationKey"),
        "intent": (props.get("extendedProperties") or {}).get("killChainIntent"),
    }
    return {key: value for key, value in mapped.items() if value is not None}


def export_to_current(raw):
    """Continuous export (PascalCase keys, Status "New") -> 2022-01-01 keys."""
    mapped = {key[:1].lower() + key[1:]: value for key, value in raw.items()}
    identifiers = []
    for item in mapped.get("resourceIdentifiers") or []:
        if isinstance(item, dict):
            identifiers.append({k[:1].lower() + k[1:]: v for k, v in item.items()})
    mapped["resourceIdentifiers"] = identifiers
    if "alertLink" in mapped and "alertUri" not in mapped:
        mapped["alertUri"] = mapped["alertLink"]
    return mapped


# ---- entities ----------------------------------------------------------------------------------------


def entity_value(entity):
    kind = str(entity.get("type", "")).lower()
    if kind == "ip":
        return str_or_empty(entity.get("address"))
    if kind == "host":
        host = entity.get("hostName") or entity.get("netBiosName") or entity.get("azureID") or ""
        domain = entity.get("dnsDomain")
        return f"{host}.{domain}" if host and domain else str_or_empty(host)
    if kind == "account":
        name = str_or_empty(entity.get("name") or entity.get("aadUserId") or entity.get("sid"))
        if entity.get("upnSuffix"):
            return f"{name}@{entity['upnSuffix']}"
        return f"{entity['ntDomain']}\\{name}" if entity.get("ntDomain") and name else name
    if kind == "file":
        directory, name = str_or_empty(entity.get("directory")), str_or_empty(entity.get("name"))
        return f"{directory}\\{name}" if directory else name
    if kind == "process":
        return str_or_empty(entity.get("commandLine") or entity.get("processId"))
    for key in ("resourceId", "azureResourceId", "url", "domainName", "name", "address", "value"):
        if entity.get(key):
            return str_or_empty(entity[key])
    return ""


def collect_entities(props, named_by_properties):
    """Entities from the alert's `entities`, its resource identifiers and its extended properties."""
    found, seen = [], set()

    def add(kind, value, source, data):
        key = (kind, value.lower())
        if value and key not in seen:
            seen.add(key)
            found.append({"kind": kind, "value": value[:1000], "source": source, "data": data})

    for entity in props.get("entities") or []:
        if not isinstance(entity, dict) or "$ref" in entity:
            continue
        kind = str_or_empty(entity.get("type") or "unknown", 40).lower()
        add(kind, entity_value(entity), "entities", entity)
    for ident in props.get("resourceIdentifiers") or []:
        if isinstance(ident, dict) and ident.get("azureResourceId"):
            add("azure-resource", str_or_empty(ident["azureResourceId"]), "resourceIdentifiers", ident)
    for entity in named_by_properties:
        add(entity["kind"], entity["value"], "extendedProperties", {"key": entity["source"]})
    return found


# ---- the whole alert ---------------------------------------------------------------------------------


def required_text(props, key):
    value = props.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedAlert(f"{key} is missing")
    return value.strip()


def normalize(raw):
    """One raw alert (as on the wire) -> NormalizedAlert, or MalformedAlert saying why not."""
    schema, props = current_properties(raw)
    alert_type = required_text(props, "alertType")
    resource_id = str_or_empty(raw.get("id") or props.get("alertId") or props.get("id"))
    parts = ALERT_ID_RE.match(resource_id)
    name = str_or_empty(raw.get("name")) or (parts.group("name") if parts else "")
    system_alert_id = str_or_empty(props.get("systemAlertId")) or name
    if not resource_id and not system_alert_id:
        raise MalformedAlert("the alert has neither an id nor a systemAlertId")
    severity = str_or_empty(props.get("severity")).strip().lower()
    if severity not in SEVERITIES:
        raise MalformedAlert(
            f"severity {str_or_empty(props.get('severity'))[:40]!r} is not one of {sorted(SEVERITIES)}"
        )
    status_key = str_or_empty(props.get("status") or "Active").replace(" ", "").lower()
    if status_key not in STATUSES:
        raise MalformedAlert(f"status {str_or_empty(props.get('status'))[:40]!r} is unknown")
    extended = props.get("extendedProperties") or {}
    if not isinstance(extended, dict):
        raise MalformedAlert("extendedProperties is not an object")
    extended = {str(k): str_or_empty(v) for k, v in extended.items()}
    extractor, typed, named = extract(alert_type, extended)
    display_name = str_or_empty(props.get("alertDisplayName")) or alert_type
    resources = [
        str_or_empty(i.get("azureResourceId"))
        for i in props.get("resourceIdentifiers") or []
        if isinstance(i, dict) and i.get("azureResourceId")
    ]
    workspace = next(
        (i for i in props.get("resourceIdentifiers") or [] if isinstance(i, dict) and i.get("workspaceId")),
        {},
    )
    evidence = props.get("supportingEvidence")
    return NormalizedAlert(
        identity=f"{system_alert_id or resource_id}|{canonical_type(alert_type)}".lower()[:400],
        resource_id=resource_id,
        name=name,
        system_alert_id=system_alert_id,
        subscription_id=parts.group("sub") if parts else str_or_empty(props.get("subscriptionId")),
        resource_group=(parts.group("rg") or "") if parts else "",
        asc_location=parts.group("loc") if parts else "",
        schema=schema,
        alert_type=alert_type[:200],
        display_name=display_name[:500],
        description=str_or_empty(props.get("description")),
        severity=severity,
        severity_rank=SEVERITIES[severity],
        status=STATUSES[status_key],
        intents=split_intents(props.get("intent")),
        start_time=parse_time(props.get("startTimeUtc"), "startTimeUtc"),
        end_time=parse_time(props.get("endTimeUtc"), "endTimeUtc"),
        time_generated=parse_time(props.get("timeGeneratedUtc"), "timeGeneratedUtc"),
        processing_end_time=parse_time(props.get("processingEndTimeUtc"), "processingEndTimeUtc"),
        compromised_entity=str_or_empty(props.get("compromisedEntity"), 500),
        resource_ids=resources,
        workspace=workspace,
        product_name=str_or_empty(props.get("productName"), 200),
        product_component_name=str_or_empty(props.get("productComponentName"), 200),
        vendor=str_or_empty(props.get("vendorName"), 200),
        techniques=string_list(props.get("techniques")),
        sub_techniques=string_list(props.get("subTechniques")),
        remediation_steps=string_list(props.get("remediationSteps")),
        alert_uri=safe_url(props.get("alertUri")),
        extended_links=[
            {**link, "Href": safe_url(link.get("Href"))}
            for link in props.get("extendedLinks") or []
            if isinstance(link, dict)
        ],
        is_incident=bool(props.get("isIncident")),
        correlation_key=str_or_empty(props.get("correlationKey"), 500),
        supporting_evidence=evidence if isinstance(evidence, dict) else {},
        extended_properties=extended,
        typed_properties=typed,
        extractor=extractor,
        is_preview=is_preview(display_name),
        is_sample=display_name.upper().startswith("[SAMPLE ALERT]")
        or alert_type.upper().startswith("SIMULATED_"),
        entities=collect_entities(props, named),
        raw=raw,
        content_hash=content_hash(raw),
    )


def is_defender_for_cloud(product_name):
    return (product_name or "").strip().lower() in DEFENDER_FOR_CLOUD or not product_name
