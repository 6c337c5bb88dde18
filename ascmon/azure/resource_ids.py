"""Azure resource ids taken apart (pure; ids come from Azure and are not trusted blindly)."""

import re

RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<subscription_id>[^/]+)(?:/resourceGroups/(?P<resource_group>[^/]+))?"
    r"(?:/providers/(?P<provider>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+))?",
    re.IGNORECASE,
)
ALERT_ID = re.compile(
    r"^/subscriptions/(?P<subscription_id>[0-9a-fA-F-]{36})(?:/resourceGroups/(?P<resource_group>[-\w._()]+))?"
    r"/providers/Microsoft\.Security/locations/(?P<location>[\w-]+)/alerts/(?P<name>[\w.-]+)$",
    re.IGNORECASE,
)


def parse_resource_id(resource_id):
    """{"subscription_id", "resource_group", "provider", "type", "name"} (missing parts left out)."""
    match = RESOURCE_ID.match(resource_id or "")
    if match is None:
        raise ValueError("not an Azure resource id")
    return {k: v for k, v in match.groupdict().items() if v}


def parse_alert_id(alert_id):
    match = ALERT_ID.match(alert_id or "")
    if match is None:
        raise ValueError("not a Microsoft.Security alert id")
    return match.groupdict()
