"""Storage log lines into one record: classic 1.0/2.0 (docs/azure-formats.md §5) and Azure Monitor JSON (§6).

The C engine (storage_logs/_engine_parse.c) reads lines of the usual shape; this module is the reader of
everything else and the reference the engine is tested against. A record is a plain tuple whose positions
are the constants below (the engine checks its own against them when it loads). Quoted classic fields are
kept as written (HTML-encoded); the slow path (the quirk-aware tokenizer and the JSON reader) encodes the
same way, so both paths give identical tuples for the same request. The SIG position holds who signed a
SAS request: the token's visible fields for classic lines (Azure logs the signature as sig=XXXXX), '#' and
the signature's hash for Azure Monitor events (docs/azure-formats.md §6.2a). No Django imports.
"""

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from storage_logs.sas import redact, sas_fields, sas_principal

(VER, TIME, DATE, HH, MM, OP, STATUS, HTTP, HCLASS, E2E, SRV, AUTH, REQUESTER, SIG, CONTAINER, OBJECT, RID,
 OPC, IP, REQ, RESP, UA, OID, APPID, UPN) = range(25)  # fmt: skip
WIDTH = 25

_Q = r'(?:"[^"\n]*")?'  # an optional quoted field
# The URL's query lands in the SIG position; `_settle_sig` keeps only a SAS signature's hash there.
_URL = r'"?[^?"\n;]*+(?:\?((?:[^"\n;&]|&[a-zA-Z]+;|&#\d+;|&)*+))?"?'
_D = r"(\d{1,18})"  # a captured number: at most 18 digits, so it sums as a 64-bit integer
_HEAD = (
    r"^([12]\.0);((\d{4}-\d\d-\d\d)T(\d\d):(\d\d)[^;\n]*);([^;\n]*);([^;\n]*);((\d)\d\d|[^;\n]*);"
    + f"{_D};{_D};"
    + r'([a-z]*);([^;"\n]*);[^;"\n]*;[a-z]*;'
    + _URL
    + r';"/[^/"\n]*/([^/"\n]*)/?([^"\n]*)";([^;"\n]*);'
    + f"{_D};"
    + r'(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::\d+)?;[^;"\n]*;\d*;'
    + f"{_D};\\d*;{_D};\\d*;"
    + _Q
    + ";"
    + _Q
    + r';(?:""[^"\n]*""|"[^"\n]*")?;[^;"\n]*;'
    + _Q
    + r';(?:"([^"\n]*)")?;'
    + _Q
    + ";"
    + _Q
)
_TAIL_V2 = (
    r';(?:"([^"\n]*)")?;' + _Q + r';(?:"([^"\n]*)")?;' + _Q + ";" + _Q + r';(?:"([^"\n]*)")?;[^;\n]*;[^\n]*'
)
FAST = {
    "1.0": re.compile(_HEAD + r"()()()\r?$", re.M | re.A),
    "2.0": re.compile(_HEAD + _TAIL_V2 + r"\r?$", re.M | re.A),
}
# The bench's CSV-clean variant (ascmon.simulator.storage_activity.CLEAN_COLUMNS): columns in record order.
_C = r"([^,\n]*)"
_CLEAN_FIELDS = [
    _C,
    _C,
    r"((\d)\d\d|[^,\n]*)",
    _D,
    _D,
    *[_C] * 6,
    _D,
    _C,
    _D,
    _D,
]
CLEAN = re.compile(
    r"^(csv),((\d{4}-\d\d-\d\d)T(\d\d):(\d\d)[^,\n]*),"
    + ",".join([*_CLEAN_FIELDS, r'"([^"\n]*)"', _C, _C, _C])
    + r"\r?$",
    re.M | re.A,
)
CLEAN_HEADER = "version,time,"
_ENTITY_END = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+)$")
# A log line's time: what the engine reads into microseconds (ASCII digits, a real minute and second).
TIME_SHAPE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):([0-5]\d)(?:\.\d{1,7})?Z?", re.A)
# Azure's operation names, and container (queue, table, share) names: anything else is rejected before it
# can become a chart trace or a link.
OPERATION_SHAPE = re.compile(r"[A-Za-z0-9]{1,64}", re.A)
CONTAINER_SHAPE = re.compile(r"\$?[A-Za-z0-9-]{0,63}", re.A)
AUTH_OF_IDENTITY = {"AccountKey": "authenticated", "SAS": "sas", "OAuth": "bearer", "Anonymous": "anonymous"}
SAMPLES_KEPT = 5
MAX_DIGITS = 18  # numbers are summed as 64-bit integers


class Malformed(ValueError):
    """A line that is not a storage log entry; the reason says why."""


@dataclass
class Rejects:
    """Malformed lines of one input: how many, and the first few with their reason."""

    count: int = 0
    samples: list = field(default_factory=list)

    def add(self, line, reason):
        self.count += 1
        if len(self.samples) < SAMPLES_KEPT:
            if isinstance(line, bytes):
                line = line.decode("utf-8", "replace")
            self.samples.append({"line": redact(line or "")[:2000], "reason": str(reason)})


def tokenize(line):
    """Split a classic line into fields the way §5.4 says works on every real sample.

    A field that starts with `"` runs to a `"` followed by `;` or the end of the line; an unquoted field
    does not end at a `;` that closes an HTML entity. Fields are returned as written, quotes removed.
    """
    fields, pos, end = [], 0, len(line)
    while pos <= end:
        if line.startswith('"', pos):
            close = pos + 1
            while True:
                close = line.find('"', close)
                if close < 0:
                    raise Malformed("unterminated quoted field")
                if close + 1 == end or line[close + 1] == ";":
                    break
                close += 1
            fields.append(line[pos + 1 : close])
            pos = close + 2
            continue
        stop = pos
        while True:
            stop = line.find(";", stop)
            if stop < 0:
                stop = end
                break
            if not _ENTITY_END.search(line, pos, stop):
                break
            stop += 1
        fields.append(line[pos:stop])
        pos = stop + 1
    return fields


def _strip_port(ip):
    if ip.startswith("["):
        return ip[1 : ip.find("]")] if "]" in ip else ip
    if ip.count(":") == 1:
        return ip.split(":")[0]
    return ip


def _split_key(key):
    parts = key.split("/", 3)
    if len(parts) < 3 or parts[0]:
        return "", ""
    return parts[2], parts[3] if len(parts) > 3 else ""


def _time_parts(when):
    match = TIME_SHAPE.fullmatch(when)
    if not match or not _real_time(*match.groups()[:5]):
        raise Malformed(f"bad time {when[:40]!r}")
    return when[:10], when[11:13], when[14:16]


def _shapes(op, container):
    if not OPERATION_SHAPE.fullmatch(op):
        raise Malformed(f"operation name {op[:40]!r} is not an Azure operation")
    if not CONTAINER_SHAPE.fullmatch(container):
        raise Malformed(f"container name {container[:40]!r} is not an Azure container name")


def _real_time(year, month, day, hour, minute):
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return False
    return True


def _number(value, name):
    if value == "":
        return "0"
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS):
        raise Malformed(f"{name} is not a number of at most {MAX_DIGITS} digits: {value[:20]!r}")
    return value


def _count(value, name):
    """A JSON number as record text: a whole number from 0 to 10**18 - 1."""
    try:
        number = int(value or 0)
    except (TypeError, ValueError, OverflowError):
        raise Malformed(f"{name} is not a number: {str(value)[:20]!r}") from None
    return _number(str(number), name)


def classic_record(line):
    """The slow path: any classic line (quirks and all) into a record tuple; raises Malformed."""
    fields = tokenize(line.rstrip("\r\n"))
    version = fields[0]
    if (version, len(fields)) not in (("1.0", 30), ("2.0", 38)):
        raise Malformed(f"version {version[:10]!r} with {len(fields)} fields")
    enc = lambda value: html.escape(html.unescape(value), quote=True)  # noqa: E731
    date, hh, mm = _time_parts(fields[1])
    http = fields[4]
    container, obj = _split_key(html.unescape(fields[12]))
    _shapes(fields[2], container)
    oauth = fields[30:38] if version == "2.0" else [""] * 8
    return (
        version, fields[1], date, hh, mm, fields[2], fields[3], http, http[0] if http[:1].isdigit() else "",
        _number(fields[5], "latency"), _number(fields[6], "server latency"), fields[7], fields[8],
        fields[11].partition("?")[2], enc(container), enc(obj), fields[13], _number(fields[14], "count"),
        _strip_port(fields[15]), _number(fields[18], "request size"), _number(fields[20], "response size"),
        enc(fields[27]), enc(oauth[0]), enc(oauth[2]), enc(oauth[5]),
    )  # fmt: skip


def monitor_record(line):
    """One Azure Monitor JSON event (StorageBlobLogs shape) into a record tuple; raises Malformed."""
    try:
        event = _object(json.loads(line), "the event")
        props, identity = (
            _object(event.get("properties"), "properties"),
            _object(event.get("identity"), "identity"),
        )
        requester = _object(identity.get("requester"), "requester")
        when, op = event["time"], event["operationName"]
        if not (isinstance(when, str) and isinstance(op, str)):
            raise TypeError("time and operationName must be text")
    except (ValueError, KeyError, TypeError) as error:
        raise Malformed(f"not a storage log event: {error}") from None
    date, hh, mm = _time_parts(when)
    kind = _text(identity.get("type"))
    auth = AUTH_OF_IDENTITY.get(kind, kind.lower())
    sig = re.search(r"SasSignature\(([0-9a-fA-F]+)\)", _text(identity.get("tokenHash")))
    container, obj = _split_key(_text(props.get("objectKey")))
    _shapes(op, container)
    http = str(event.get("statusCode", ""))
    size = lambda a, b: _count(int(_count(props.get(a), a)) + int(_count(props.get(b), b)), a)  # noqa: E731
    number = _count
    enc = lambda value: html.escape(str(value or ""), quote=True)  # noqa: E731
    return (
        "json", when, date, hh, mm, op, str(event.get("statusText", "")), http,
        http[0] if http[:1].isdigit() else "", number(event.get("durationMs"), "durationMs"),
        number(props.get("serverLatencyMs"), "serverLatencyMs"), auth,
        _text(props.get("accountName")) if auth in ("authenticated", "bearer") else "",
        "", enc(container), enc(obj), _text(event.get("correlationId")),
        number(props.get("operationCount"), "operationCount"),
        _strip_port(_text(event.get("callerIpAddress"))), size("requestHeaderSize", "requestBodySize"),
        size("responseHeaderSize", "responseBodySize"), enc(props.get("userAgentHeader")),
        enc(requester.get("objectId")), enc(requester.get("appId")), enc(requester.get("upn")),
    ), ("#" + sig.group(1)[:16].lower() if sig else "")  # fmt: skip


def _object(value, name):
    """A JSON object (an absent or null one is empty); anything else is not an event of ours."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{name} is not an object")
    return value


def _text(value):
    return "" if value is None else str(value)


def principal_of(record):
    """(kind, id) of who made the request: the account key, an Entra ID object, a SAS token, or nobody."""
    auth = record[AUTH]
    if auth == "authenticated":
        return "account", html.unescape(record[REQUESTER])
    if auth == "bearer":
        return "oauth", html.unescape(record[OID])
    if auth == "sas":
        return sas_principal(record[SIG])
    if auth == "anonymous":
        return "anonymous", ""
    return auth or "unknown", record[REQUESTER]


def _slow(line, rejects):
    try:
        record = classic_record(line)
    except (Malformed, IndexError) as error:
        rejects.add(line, error)
        return None
    return _settle_sig(record)


def _settle_sig(record):
    """SIG holds the URL's query: a SAS token's visible fields for a SAS request, blank otherwise."""
    if not record[SIG]:
        return record
    sig = sas_fields(record[SIG]) if record[AUTH] == "sas" else ""
    return record[:SIG] + (sig,) + record[SIG + 1 :]


def _lines(chunk):
    """Lines split at \n only (as the C engine and the byte counts do); no empty piece after the last."""
    lines = chunk.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _times_are_real(records):
    return all(TIME_SHAPE.fullmatch(r[TIME]) for r in records) and all(
        _real_time(d[:4], d[5:7], d[8:10], h, m) for d, h, m in {r[DATE : MM + 1] for r in records}
    )


def _shapes_hold(records):
    return all(OPERATION_SHAPE.fullmatch(r[OP]) and CONTAINER_SHAPE.fullmatch(html.unescape(r[CONTAINER]))
               for r in records)  # fmt: skip


def classic_line(line, rejects):
    """One classic line as a record (fast regex, then the tokenizer), or None when rejected."""
    if not line.strip():
        rejects.add(line, "empty line")
        return None
    pattern = FAST.get(line[:3])
    match = pattern.fullmatch(line) if pattern else None
    if match is None:
        return _slow(line, rejects)
    record = match.groups("")
    if not _times_are_real([record]):
        rejects.add(line, f"bad time {record[TIME][:40]!r}")
        return None
    if not _shapes_hold([record]):
        return _slow(line, rejects)  # the tokenizer says which name is wrong
    return _settle_sig(record)


def classic_records(chunk, rejects):
    """All records of a chunk of whole classic lines: one regex over the chunk when every line is
    well-formed and of one version, line by line (fast regex, then the tokenizer) otherwise."""
    lines = _lines(chunk)
    version = chunk[:3]
    if version in FAST and chunk.count("\n" + version + ";") == len(lines) - 1:
        found = FAST[version].findall(chunk)
        if len(found) == len(lines) and _times_are_real(found) and _shapes_hold(found):
            return [_settle_sig(r) if r[SIG] else r for r in found] if "?" in chunk else found
    return [r for r in (classic_line(line, rejects) for line in lines) if r is not None]


def clean_line(line, rejects):
    match = CLEAN.fullmatch(line)
    if match is None or not _times_are_real([match.groups("")]) or not _shapes_hold([match.groups("")]):
        rejects.add(line, "not a clean CSV row")
        return None
    return match.groups("")


CLASSIC, CLEAN_CSV, MONITOR_JSON = 0, 1, 2  # the C engine's formats


def line_record(fmt, rejects, raw):
    """The C engine's fallback for a line it did not parse: a record, or None (counted in rejects)."""
    line = raw.decode("utf-8", "replace")
    reader = {CLASSIC: classic_line, CLEAN_CSV: clean_line, MONITOR_JSON: monitor_line}[fmt]
    return reader(line, rejects)


def monitor_records(chunk, rejects):
    """Records of newline-delimited Azure Monitor JSON; a malformed event is counted and skipped."""
    return [r for r in (monitor_line(line, rejects) for line in _lines(chunk)) if r is not None]


def monitor_line(line, rejects):
    """One Azure Monitor event as a record (SIG: its SAS signature hash), or None when rejected."""
    if not line.strip():
        rejects.add(line, "empty line")
        return None
    try:
        record, sig = monitor_record(line)
    except Malformed as error:
        rejects.add(line, error)
        return None
    return record[:SIG] + (sig,) + record[SIG + 1 :]


def clean_records(chunk, rejects):
    """Records of the CSV-clean bench variant (a header line is skipped, not counted as rejected)."""
    if chunk.startswith(CLEAN_HEADER):
        chunk = chunk[chunk.find("\n") + 1 :]
    lines = _lines(chunk)
    found = CLEAN.findall(chunk)
    if len(found) == len(lines) and _times_are_real(found) and _shapes_hold(found):
        return found
    return [r for r in (clean_line(line, rejects) for line in lines) if r is not None]


def records(chunk, rejects):
    """Records of a chunk of whole lines, whichever format it holds (classic, Monitor JSON, clean CSV)."""
    first = chunk.lstrip()[:1]
    if first == "{":
        return monitor_records(chunk, rejects)
    if chunk.startswith(("csv,", CLEAN_HEADER)):
        return clean_records(chunk, rejects)
    return classic_records(chunk, rejects)
