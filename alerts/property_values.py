"""How the text values of an alert's `extendedProperties` become typed values (pure: no Django).

Everything here reads attacker-controlled text: parsers return None or plain text rather than guessing,
and only http(s) URLs may become links.
"""

import ipaddress
import json
import re

SIZE_UNITS = {"b": 1, "bytes": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4, "pb": 1024**5}
SIZE_RE = re.compile(r"^\s*([\d.,]+)\s*([a-z]+)?\s*$", re.IGNORECASE)


def as_text(value):
    """The value as one line of text: each run of whitespace (newlines too) becomes one space; None is ""."""
    return " ".join(str(value).split()) if value is not None else ""


def as_int(value):
    digits = str(value).replace(",", "").strip()
    return int(float(digits)) if re.fullmatch(r"\d+(\.\d+)?", digits) else None


def as_size(value):
    """ "140 MB" -> 146800640 bytes (binary units, as Azure storage sizes go); None if unreadable."""
    match = SIZE_RE.match(str(value))
    if not match:
        return None
    number = float(match.group(1).replace(",", ""))
    unit = SIZE_UNITS.get((match.group(2) or "b").lower())
    return int(number * unit) if unit else None


def as_list(value):
    return [part.strip() for part in re.split(r"[,;]", str(value)) if part.strip()]


def as_ip(value):
    text = as_text(value)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def safe_url(value):
    """Only http(s) URLs may become links: alert text is attacker-controlled."""
    text = str(value or "").strip()
    return text if re.match(r"^https?://", text, re.IGNORECASE) else ""


def as_link(value):
    """ "investigation steps" is a JSON string {"displayValue", "kind", "value"}; plain text otherwise."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return {"text": as_text(value), "url": ""}
    if not isinstance(data, dict):
        return {"text": as_text(value), "url": ""}
    return {"text": as_text(data.get("displayValue", "")), "url": safe_url(data.get("value"))}


def as_multiline(value):
    return str(value).replace("\r\n", "\n").strip()


def is_entity_value(kind, value):
    text = str(value).strip()
    if not text or text.lower().startswith(("n/a", "none", "unknown")):
        return False
    if kind == "ip":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return False
    return True
