"""What the alert page shows beside the alert: other alerts naming the same entities, and what the alert
itself says about its IPs (threat intelligence, "Tor exit node"), shown next to each IP."""

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db.models import Q

from alerts.models import AlertEntity

SHOWN = 20
MAX_ROWS = 500
ALERT_FIELDS = (
    "id",
    "display_name",
    "severity",
    "triage_status",
    "time_generated",
    "suppressed_by_id",
    "duplicate_of_id",
    "device_id",
)
# An alert names dozens of entities at most; past this many pairs the query would only grow.
MAX_PAIRS = 60


def ip_labels(entities, typed):
    """{ip: [label, ...]}: the IP entities' threat intelligence and location, and the typed client
    location of the alert's client IP ("Tor exit node")."""
    labels = defaultdict(list)
    for entity in entities:
        if entity.kind != "ip":
            continue
        data = entity.data if isinstance(entity.data, dict) else {}
        for threat in data.get("threatIntelligence") or []:
            if isinstance(threat, dict):
                add(labels[entity.value], threat.get("threatName") or threat.get("threatType"))
        location = data.get("location")
        if isinstance(location, dict):
            add(labels[entity.value], location.get("countryName"))
    client_ip = typed.get("client_ip")
    if isinstance(client_ip, str) and client_ip:
        add(labels[client_ip], typed.get("client_location"))
    return dict(labels)


def add(labels, text):
    if isinstance(text, str) and text.strip() and text.strip() not in labels:
        labels.append(" ".join(text.split())[:80])


def same_entities(alert, entities):
    """(alerts, total, more): up to SHOWN newest other alerts naming an entity this alert names, each
    with `shared` (the values in common); how many there are among the newest MAX_ROWS matches, and
    whether there may be more. One query, whatever the matches."""
    pairs = list(dict.fromkeys((e.kind, e.value) for e in entities))[:MAX_PAIRS]
    if not pairs:
        return [], 0, False
    matches = list(
        AlertEntity.objects.filter(reduce(or_, (Q(kind=kind, value=value) for kind, value in pairs)))
        .exclude(alert_id=alert.pk)
        .select_related("alert__device")
        .only(*(f"alert__{name}" for name in ALERT_FIELDS), "alert__device__name", "value")
        .order_by("-alert__time_generated", "-alert_id")[:MAX_ROWS]
    )
    others = {}
    for match in matches:
        other = others.setdefault(match.alert_id, match.alert)
        other.shared = getattr(other, "shared", [])
        if match.value not in other.shared:
            other.shared.append(match.value)
    return list(others.values())[:SHOWN], len(others), len(matches) == MAX_ROWS
