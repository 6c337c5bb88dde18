"""The same alert reported by several providers collapses into one primary alert.

Defender for Cloud's MCAS-powered Resource Manager alerts mirror Defender for Cloud Apps and Identity
Protection detections, so one sign-in can arrive three times with different product names and different
systemAlertIds. Such alerts match on (detection family, principal or IP, time window), never on
systemAlertId. Only alerts from *different* products are merged: one product raising the same detection
twice means two events.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.extended_properties import canonical_type
from alerts.normalize import is_defender_for_cloud

WINDOW = timedelta(hours=1)
# Detection families that several providers report: squashed keywords in alert type or display name.
CROSS_PROVIDER_FAMILIES = {
    "anonymous-ip": ("anonymousip", "riskyipaddress"),
    "impossible-travel": ("impossibletravel", "atypicaltravel"),
    "infrequent-country": ("infrequentcountry",),
    "malicious-ip": ("maliciousip",),
    "unfamiliar-sign-in": ("unfamiliarsignin",),
    "leaked-credentials": ("leakedcredentials",),
    "password-spray": ("passwordspray",),
}


def squash(value):
    return re.sub(r"[^a-z0-9]", "", (value or "").lower())


def family(alert_type, display_name):
    """A cross-provider family name, or "type:<alert type>" for detections only one provider raises."""
    text = squash(alert_type) + " " + squash(display_name)
    for name, keywords in CROSS_PROVIDER_FAMILIES.items():
        if any(keyword in text for keyword in keywords):
            return name
    return "type:" + canonical_type(alert_type).lower()


def principals(entities):
    """IPs and account names (domain and UPN suffix dropped) that identify who did it."""
    found = set()
    for entity in entities:
        kind, value = entity["kind"], (entity["value"] or "").strip().lower()
        if kind == "ip" and value:
            found.add("ip:" + value)
        elif kind == "account" and value:
            found.add("account:" + value.split("\\")[-1].split("@")[0])
    return sorted(found)


def is_cross_provider(family_name):
    return not family_name.startswith("type:")


@dataclass
class Primary:
    """What dedup reads of a primary alert, so a page's candidates are plain rows, not model instances."""

    pk: int
    product: str  # lower-cased product name
    when: datetime | None  # start time, else time generated
    principals: frozenset
    suppressed: bool
    duplicate_count: int = 0

    # The Alert columns from_row takes, in its order.
    FIELDS = (
        "id",
        "product_name",
        "start_time",
        "time_generated",
        "dedup_principals",
        "suppressed_by_id",
        "duplicate_count",
    )

    @classmethod
    def of(cls, alert):
        """An Alert (saved or not) as a Primary."""
        return cls.from_row(
            alert.pk,
            alert.product_name,
            alert.start_time,
            alert.time_generated,
            alert.dedup_principals,
            alert.suppressed_by_id,
            alert.duplicate_count,
        )

    @classmethod
    def from_row(cls, pk, product_name, start, generated, principals, suppressed_by_id, duplicate_count):
        product = (product_name or "").lower()
        return cls(
            pk,
            product,
            start or generated,
            frozenset(principals),
            suppressed_by_id is not None,
            duplicate_count,
        )

    @property
    def rank(self):
        """Lower is better as the primary: an unsuppressed alert first (a suppressed primary would hide
        the whole event), then Defender for Cloud's, as the portal shows it."""
        return (self.suppressed, 0 if is_defender_for_cloud(self.product) else 1)


def find_primary(alert, candidates):
    """The primary `alert` (a Primary) duplicates among `candidates` (Primaries of the same device and
    family), or None."""
    for other in candidates:
        if other.pk == alert.pk or other.product == alert.product:
            continue
        if (
            alert.when
            and other.when
            and abs(alert.when - other.when) <= WINDOW
            and not alert.principals.isdisjoint(other.principals)
        ):
            return other
    return None
