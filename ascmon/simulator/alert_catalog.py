"""Real Defender for Cloud alert types the simulator raises, loaded from alert_catalog.json beside this file.

Types, display names, intents and MITRE ids follow Microsoft's alert reference (docs/azure-formats.md §1, §3).
`extended_properties` values are templates filled from the scenario (`{ip}`, `{host}`, `{user}`, ...);
keys keep the inconsistent capitalisation real alerts have. `resource` says which kind of resource the
alert is raised on; the scenario picks one of that kind. In the JSON, a value "@name" is one of the shared
`texts` and a string `remediation_steps` names one of the shared `steps`. Pure: no Django, no Azure SDK.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

DATA = json.loads((Path(__file__).with_suffix(".json")).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class AlertType:
    """One Defender detection: what the alert says and which extended properties it carries."""

    alert_type: str
    display_name: str
    description: str
    severity: str
    intent: str
    resource: str  # vm, storage, sql, keyvault, subscription, dns, appservice, aks
    product_component: str
    techniques: tuple = ()
    sub_techniques: tuple = ()
    extended_properties: dict = field(default_factory=dict)
    entities: tuple = ("ip",)  # entity kinds to attach besides the azure-resource
    remediation_steps: tuple = ()
    product_name: str = "Azure Security Center"


def _shared_text(value):
    return DATA["texts"][value[1:]] if isinstance(value, str) and value.startswith("@") else value


def _alert_type(entry):
    entry = dict(entry)
    steps = entry.get("remediation_steps", ())
    entry["remediation_steps"] = tuple(DATA["steps"][steps] if isinstance(steps, str) else steps)
    entry["extended_properties"] = {
        key: _shared_text(value) for key, value in entry.get("extended_properties", {}).items()
    }
    for name in ("techniques", "sub_techniques", "entities"):
        if name in entry:
            entry[name] = tuple(entry[name])
    return AlertType(**entry)


CATALOG = tuple(_alert_type(entry) for entry in DATA["catalog"])
# Alert types ascmon has no extractor for: their properties must be kept raw, not guessed.
UNKNOWN_TO_ASCMON = tuple(_alert_type(entry) for entry in DATA["unknown_to_ascmon"])
# The same sign-in incident reported by three products (dedup must collapse them).
CROSS_PRODUCT_INCIDENT = tuple(tuple(row) for row in DATA["cross_product_incident"])
EXFILTRATION_TYPE = DATA["exfiltration_type"]
# shared with the alert families' catalog (family_catalog.py)
INVESTIGATION_STORAGE = DATA["texts"]["investigation_storage"]
STORAGE_STEPS = tuple(DATA["steps"]["storage"])
BY_TYPE = {alert.alert_type: alert for alert in CATALOG + UNKNOWN_TO_ASCMON}


def known_types():
    """The alert types of the catalog that ascmon is expected to understand."""
    return [alert.alert_type for alert in CATALOG]
