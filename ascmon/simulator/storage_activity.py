"""Storage log content for the simulator: usual behaviour per principal plus an exfiltration episode.

Everything is deterministic for a seed: each hour draws from its own Random seeded by (seed, account,
hour), so any window can be generated on its own and gives the same lines. Classic lines carry the
quirks of real Azure logs (docs/azure-formats.md §5.4): unquoted SAS URLs with `&amp;`, ETags written as
`""…""` and `"&quot;…&quot;"`, raw quotes in authorization-detail JSON, IPs with and without port,
`;` inside quoted user agents, repeated lines and lines delivered an hour late. As in Azure's logs, a SAS
signature never appears (sig=XXXXX, §6.2a): classic lines keep only the token's other fields, Azure Monitor
events the signature's SHA-256 in identity.tokenHash.
"""

import hashlib
import html
import json
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from storage_logs.sas import sas_fields

HOUR = timedelta(hours=1)
LINES_PER_BLOB = 20000
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

READ_OPS = ("GetBlob", "GetBlobProperties", "ListBlobs")
WRITE_OPS = ("PutBlob", "PutBlock", "PutBlockList", "AppendBlock", "SetBlobMetadata")
DELETE_OPS = ("DeleteBlob",)
KIND_OF_OP = {**dict.fromkeys(READ_OPS, "read"), **dict.fromkeys(WRITE_OPS, "write"), "DeleteBlob": "delete"}
CATEGORY = {"read": "StorageRead", "write": "StorageWrite", "delete": "StorageDelete"}


@dataclass(frozen=True)
class AccountLogSpec:
    name: str
    subscription_id: str
    resource_group: str
    logging_version: str | None = "2.0"
    read: bool = True
    write: bool = True
    delete: bool = True
    retention_days: int | None = 7
    diagnostic_logs: bool = False
    profile: str = "default"  # "small" (tests), "default" (demo), "large" (bench)
    lifecycle_days: int | None = None  # a lifecycle rule deletes insights-logs-* blobs after these days

    @property
    def resource_id(self):
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{self.name}"
        )

    def logs(self, kind):
        return {"read": self.read, "write": self.write, "delete": self.delete}[kind]


@dataclass(frozen=True)
class Episode:
    """Unusual extraction of data: what the Defender alert for the same account reports."""

    account_name: str
    ip: str
    user_agent: str
    container: str
    start: datetime
    end: datetime
    bytes: int
    blobs: int
    auth_type: str  # "sas", "bearer" or "authenticated"
    principal: str  # the SAS token's identity in classic logs (sas_identity), a UPN or an account name
    signature_hash: str = ""  # the first 16 digits of SasSignature(…) in Azure Monitor events


@dataclass
class LogBlob:
    container: str
    name: str
    metadata: dict
    data: bytes


@dataclass(frozen=True)
class Principal:
    """Someone who usually uses the account: how, from where, what and how often."""

    kind: str  # app, user, sas, anonymous
    ident: str
    auth_type: str
    ips: tuple
    user_agents: tuple
    containers: tuple
    mix: tuple  # ((operation, weight), ...)
    per_hour: int  # lines per hour at the daily peak
    night_factor: float = 0.2
    upn: str = ""
    object_id: str = ""
    app_id: str = ""
    sas_query: str = ""
    objects: int = 40


PROFILE_SCALE = {"small": 0.05, "default": 1.0, "large": 10.0}

UA_DOTNET = "Azure-Storage/9.3.3 (.NET CLR 4.0.30319.42000; Win32NT 6.2.9200.0)"
UA_PYTHON = "azsdk-python-storage-blob/12.19.0 Python/3.11.4 (Linux-5.15.0-1057-azure-x86_64-with-glibc2.35)"
UA_EXPLORER = (
    "Microsoft Azure Storage Explorer, 1.32.1, win32, azcopy-node, 2.0.0, win32,  "
    "AzCopy/10.21.0 Azure-Storage/0.13 (go1.21; Windows_NT)"
)
UA_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"
)
UA_ODD = 'curl/8.4.0 "probe" <script>alert(1)</script> & more'


def principals(spec):
    """The usual population of an account, the same for every hour of a seed."""
    scale = PROFILE_SCALE.get(spec.profile, 1.0)
    digest = hashlib.sha256(spec.name.encode()).hexdigest()
    sas_query = f"se=2030-01-01T00:00:00Z&sig={digest[:24]}%2Bpartner%3D&sp=rwl&sr=c&sv=2021-08-06"
    return [
        Principal(
            "app",
            spec.name,
            "authenticated",
            ("10.20.1.4", "10.20.1.5"),
            (UA_DOTNET, UA_PYTHON),
            ("invoices", "exports"),
            (
                ("GetBlob", 70),
                ("GetBlobProperties", 18),
                ("ListBlobs", 3),
                ("PutBlob", 1.5),
                ("AppendBlock", 7),
                ("DeleteBlob", 0.5),
            ),
            max(1, int(2500 * scale)),
            night_factor=0.5,
        ),
        Principal(
            "user",
            f"a1b2c3d4-{digest[:4]}-4000-8000-{digest[4:16]}",
            "bearer",
            ("203.0.113.17",),
            (UA_EDGE, UA_EXPLORER),
            ("reports",),
            (("GetBlob", 60), ("ListBlobs", 30), ("PutBlock", 6), ("PutBlockList", 2), ("DeleteBlob", 2)),
            max(1, int(120 * scale)),
            night_factor=0.02,
            upn="alice@contoso.example",
            object_id=f"a1b2c3d4-{digest[:4]}-4000-8000-{digest[4:16]}",
            app_id="691458b9-1327-4635-9f55-ed83a7f1b41c",
        ),
        Principal(
            "sas",
            sas_identity(sas_query),
            "sas",
            ("198.51.100.23", "198.51.100.24"),
            (UA_EXPLORER,),
            ("partner-drop",),
            (("PutBlob", 20), ("GetBlob", 70), ("ListBlobs", 10)),
            max(1, int(400 * scale)),
            night_factor=0.3,
            sas_query=sas_query,
        ),
        Principal(
            "anonymous",
            "",
            "anonymous",
            ("192.0.2.10", "192.0.2.11", "192.0.2.99"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", UA_ODD),
            ("public",),
            (("GetBlob", 90), ("GetBlobProperties", 10)),
            max(1, int(900 * scale)),
            night_factor=0.3,
            objects=12,
        ),
    ]


def _sig_hash(signature):
    """What Azure Monitor logs as SasSignature(…), and whose first 16 digits ascmon calls the principal."""
    return hashlib.sha256(signature.encode()).hexdigest()


def sas_identity(query):
    """What ascmon calls a SAS token of classic logs: a digest of its visible fields (Azure writes the
    signature as sig=XXXXX there)."""
    return hashlib.sha256(sas_fields(query).encode()).hexdigest()[:16]


def logged_query(query):
    """A SAS query as Azure logs it: the signature replaced by XXXXX."""
    return "&".join("sig=XXXXX" if part.startswith("sig=") else part for part in query.split("&"))


def _episode_sig(account_name, seed):
    return hashlib.sha256(f"exfil:{account_name}:{seed}".encode()).hexdigest()[:32]


def exfiltration_episode(account_name, now, seed):
    """The episode a Defender 'unusual amount of data extracted' alert reports, a few hours before `now`."""
    rng = random.Random(f"{seed}:episode:{account_name}")
    end = (now - timedelta(hours=rng.randint(2, 5))).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=rng.randint(20, 50))
    blobs = rng.randint(150, 400)
    query = _episode_query(account_name, seed)
    return Episode(
        account_name=account_name,
        ip=f"185.220.101.{rng.randint(2, 250)}",
        user_agent="AzCopy/10.21.0 Azure-Storage/0.13 (linux; go1.21.3)",
        container="invoices",
        start=start,
        end=end,
        bytes=blobs * rng.randint(4, 12) * 1024 * 1024,
        blobs=blobs,
        auth_type="sas",
        principal=sas_identity(query),
        signature_hash=_sig_hash(_episode_sig(account_name, seed))[:16],
    )


def _episode_query(account_name, seed):
    return f"se=2031-01-01T00:00:00Z&sig={_episode_sig(account_name, seed)}&sp=rl&sr=c&sv=2021-08-06"


def _activity(hour):
    """Day/night cycle: near 1 from 08:00 to 18:00 UTC, lower at night, lower at weekends."""
    workday = hour.weekday() < 5
    return (1.0 if 8 <= hour.hour < 18 else 0.0) * (1.0 if workday else 0.3)


def _pick(rng, mix):
    ops, weights = zip(*mix, strict=True)
    return rng.choices(ops, weights)[0]


@dataclass
class Request:
    """One logged operation, the fields both formats share."""

    time: datetime
    op: str
    http: int
    status: str
    auth: str
    principal: Principal | None
    container: str
    obj: str
    ip: str
    port: int | None
    ua: str
    request_id: str
    e2e: int
    server: int
    req_bytes: int
    resp_bytes: int
    sas_query: str = ""
    op_count: int = 0
    extra: dict = field(default_factory=dict)


def _success_status(auth):
    return {"anonymous": "AnonymousSuccess", "sas": "SASSuccess", "bearer": "OAuthSuccess"}.get(
        auth, "Success"
    )


def _request_for(rng, spec, p, when, op):
    obj = f"{op.lower()[:3]}-{rng.randrange(p.objects):04d}.dat" if op != "ListBlobs" else ""
    if p.kind == "app" and op in ("AppendBlock",):
        obj = f"audit/{when:%Y-%m-%d}.log"
    http, status = {"read": 200, "write": 201, "delete": 202}[KIND_OF_OP[op]], _success_status(p.auth_type)
    roll = rng.random()
    if p.kind != "anonymous" and roll < 0.02:
        http, status = 404, "BlobNotFound"
    elif p.kind == "sas" and roll < 0.05:
        http, status = 403, "SASAuthorizationError"
    elif p.kind == "anonymous" and roll < 0.05:
        http, status = 304, "AnonymousSuccess"
    size = rng.randint(2_000, 900_000) if http < 300 else 0
    host = rng.randrange(len(p.ips))  # a host runs one client: its user agent follows its IP
    reads = op in ("GetBlob",)
    writes = op in ("PutBlob", "PutBlock", "AppendBlock")
    return Request(
        time=when,
        op=op,
        http=http,
        status=status,
        auth=p.auth_type,
        principal=p,
        container=p.containers[rng.randrange(len(p.containers))],
        obj=obj,
        ip=p.ips[host],
        port=None if rng.random() < 0.1 else rng.randint(1024, 65000),
        ua=p.user_agents[(host if rng.random() > 0.005 else rng.randrange(9)) % len(p.user_agents)],
        request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        e2e=rng.randint(3, 400),
        server=rng.randint(2, 60),
        req_bytes=rng.randint(300, 700) + (size if writes else 0),
        resp_bytes=rng.randint(200, 500) + (size if reads else 0),
        sas_query=p.sas_query,
    )


def _episode_requests(spec, episode, hour, seed):
    """The episode's GetBlob requests that fall into `hour` (evenly spread over its window)."""
    if episode is None or episode.account_name != spec.name or not spec.read:
        return []
    rng = random.Random(f"{seed}:episode-lines:{spec.name}")
    step = (episode.end - episode.start) / episode.blobs
    per_blob, remainder = divmod(episode.bytes, episode.blobs)
    thief = Principal(
        "sas",
        episode.principal,
        episode.auth_type,
        (episode.ip,),
        (episode.user_agent,),
        (episode.container,),
        (("GetBlob", 1),),
        0,
        sas_query=_episode_query(spec.name, seed),
    )
    out = []
    for index in range(episode.blobs):
        when = episode.start + step * index
        body = per_blob + (remainder if index == 0 else 0)
        request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if hour <= when < hour + HOUR:
            out.append(
                Request(
                    when,
                    "GetBlob",
                    200,
                    "SASSuccess",
                    episode.auth_type,
                    thief,
                    episode.container,
                    f"inv-{index:05d}.pdf",
                    episode.ip,
                    rng.randint(1024, 65000),
                    episode.user_agent,
                    request_id,
                    900,
                    80,
                    420,
                    380 + body,
                    sas_query=thief.sas_query,
                )
            )
    return out


def hour_requests(spec, hour, seed, episode=None):
    """All requests that completed in `hour` (before repeats and lateness), sorted by time."""
    rng = random.Random(f"{seed}:{spec.name}:{hour.isoformat()}")
    out = []
    for p in principals(spec):
        level = p.night_factor + (1 - p.night_factor) * _activity(hour)
        ops = [op for op, _ in p.mix if spec.logs(KIND_OF_OP[op])]
        if not ops:
            continue
        mix = tuple((op, w) for op, w in p.mix if op in ops)
        for _ in range(int(p.per_hour * level * rng.uniform(0.8, 1.2))):
            when = hour + timedelta(microseconds=rng.randrange(3_600_000_000))
            out.append(_request_for(rng, spec, p, when, _pick(rng, mix)))
    out.extend(_episode_requests(spec, episode, hour, seed))
    out.sort(key=lambda r: r.time)
    return out


def delivered_requests(spec, hour, seed, episode=None):
    """What Azure writes into `hour`'s blobs: this hour's lines minus 0.5 % held back to the next hour,
    plus the previous hour's held-back lines, plus 0.2 % of lines written twice."""
    rng = random.Random(f"{seed}:delivery:{spec.name}:{hour.isoformat()}")
    current = hour_requests(spec, hour, seed, episode)
    late = _held_back(hour_requests(spec, hour - HOUR, seed, episode), hour - HOUR, seed, spec)
    held = set(map(id, _held_back(current, hour, seed, spec)))
    lines = [r for r in current if id(r) not in held] + late
    repeats = [r for r in lines if rng.random() < 0.002]
    return lines + repeats


def _held_back(requests, hour, seed, spec):
    rng = random.Random(f"{seed}:late:{spec.name}:{hour.isoformat()}")
    return [r for r in requests if rng.random() < 0.005]


# ---- classic format -------------------------------------------------------------------------------------


def _q(value):
    """A quoted, HTML-encoded field as Azure writes it; empty stays empty."""
    return f'"{html.escape(value, quote=True)}"' if value else ""


def _etag(rng):
    tag = f"0x8D{rng.getrandbits(52):013X}"
    return f'""{tag}""' if rng.random() < 0.5 else f'"&quot;{tag}&quot;"'


def _url(spec, r):
    base = f"https://{spec.name}.blob.core.windows.net/{r.container}"
    if r.op == "ListBlobs":
        url = f"{base}?restype=container&comp=list&prefix=&maxresults=5000"
    elif r.op == "PutBlock":
        url = f"{base}/{r.obj}?comp=block&blockid=YmxvY2stMDAwMDAwMDA="
    else:
        url = f"{base}/{r.obj}"
    if r.auth == "sas":
        # Real SAS lines: the URL is not quoted but its `&` are written as `&amp;`.
        joined = f"{url}{'&' if '?' in url else '?'}{logged_query(r.sas_query)}&timeout=901"
        return joined.replace("&", "&amp;")
    return _q(url)


def _oauth_fields(r):
    p = r.principal
    if r.auth != "bearer" or p is None:
        return ";;;;;;;;"
    action = "read" if KIND_OF_OP[r.op] == "read" else ("delete" if r.op == "DeleteBlob" else "write")
    detail = (
        f'[{{"action":"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{action}", '
        f'"roleAssignmentId":"ca8af92a-6708-4cdf-a678-bb55d0ff7b80", '
        f'"roleDefinitionId":"ba92f5b4-2d11-453d-a403-e96b0029c9fe", '
        f'"principalId":"{p.object_id}", "principalType":"User"}}]'
    )
    return (
        f';"{p.object_id}";"{TENANT_ID}";"{p.app_id}";"https://storage.azure.com/";'
        f'"https://sts.windows.net/{TENANT_ID}/";"{p.upn}";;"{detail}"'
    )


def classic_line(spec, r, rng, version):
    ip = f"{r.ip}:{r.port}" if r.port else r.ip
    key = f"/{spec.name}/{r.container}" + (f"/{r.obj}" if r.obj else "")
    requester = spec.name if r.auth in ("authenticated", "bearer") else ""
    etag = _etag(rng) if r.http < 300 and r.op != "ListBlobs" else ""
    modified = r.time.strftime("%A, %d-%b-%y %H:%M:%S GMT") if etag else ""
    md5 = _q(f"{rng.getrandbits(64):016x}==") if r.op == "PutBlob" else ""
    fields = [
        version,
        r.time.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
        r.op,
        r.status,
        str(r.http),
        str(r.e2e),
        str(r.server),
        r.auth,
        requester,
        spec.name,
        "blob",
        _url(spec, r),
        _q(key),
        r.request_id,
        str(r.op_count),
        ip,
        "2021-08-06",
        str(r.req_bytes - max(0, r.req_bytes - 700)),
        str(r.req_bytes),
        "256",
        str(r.resp_bytes),
        str(max(0, r.req_bytes - 700)),
        md5,
        md5,
        etag,
        modified,
        "",
        _q(r.ua),
        "",
        _q(r.request_id[::-1]),
    ]
    line = ";".join(fields)
    return line + (_oauth_fields(r) if version == "2.0" else "")


def classic_log_blobs(spec, start, end, seed, episode=None):
    """The `$logs` blobs for hours in [start, end): blob/YYYY/MM/DD/hh00/00000N.log with Azure's metadata."""
    if not spec.logging_version or not (spec.read or spec.write or spec.delete):
        return
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        requests = delivered_requests(spec, hour, seed, episode)
        rng = random.Random(f"{seed}:format:{spec.name}:{hour.isoformat()}")
        for counter in range(0, max(1, -(-len(requests) // LINES_PER_BLOB))):
            chunk = requests[counter * LINES_PER_BLOB : (counter + 1) * LINES_PER_BLOB]
            if not chunk:
                break
            data = "".join(classic_line(spec, r, rng, spec.logging_version) + "\n" for r in chunk)
            kinds = [k for k in ("read", "write", "delete") if any(KIND_OF_OP[r.op] == k for r in chunk)]
            yield LogBlob(
                "$logs",
                f"blob/{hour:%Y/%m/%d/%H}00/{counter:06d}.log",
                {
                    "LogType": ",".join(kinds),
                    "StartTime": min(r.time for r in chunk).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "EndTime": max(r.time for r in chunk).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "LogVersion": spec.logging_version,
                },
                data.encode(),
            )
        hour += HOUR


# ---- Azure Monitor JSON ---------------------------------------------------------------------------------


def _identity(spec, r):
    if r.auth == "authenticated":
        return {"type": "AccountKey", "tokenHash": f"key1({hashlib.sha256(spec.name.encode()).hexdigest()})"}
    if r.auth == "sas":
        sig = _sig_hash(r.sas_query.split("sig=")[1].split("&")[0])
        return {
            "type": "SAS",
            "tokenHash": f"key1({hashlib.sha256(spec.name.encode()).hexdigest()}),SasSignature({sig})",
        }
    if r.auth == "bearer":
        p = r.principal
        return {
            "type": "OAuth",
            "tokenHash": hashlib.sha256(p.object_id.encode()).hexdigest(),
            "requester": {
                "appId": p.app_id,
                "audience": "https://storage.azure.com/",
                "objectId": p.object_id,
                "tenantId": TENANT_ID,
                "tokenIssuer": f"https://sts.windows.net/{TENANT_ID}/",
                "upn": p.upn,
            },
        }
    return {"type": "Anonymous"}


def monitor_record(spec, r):
    base = f"https://{spec.name}.blob.core.windows.net/{r.container}"
    return {
        "time": r.time.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
        "resourceId": f"{spec.resource_id}/blobServices/default",
        "category": CATEGORY[KIND_OF_OP[r.op]],
        "operationName": r.op,
        "operationVersion": "2021-08-06",
        "schemaVersion": "1.0",
        "statusCode": r.http,
        "statusText": r.status,
        "durationMs": r.e2e,
        "callerIpAddress": f"{r.ip}:{r.port or 443}",
        "correlationId": r.request_id,
        "location": "westeurope",
        "protocol": "HTTPS",
        "resourceType": "Microsoft.Storage/storageAccounts/blobServices",
        "uri": _monitor_uri(base, r),
        "identity": _identity(spec, r),
        "properties": {
            "accountName": spec.name,
            "userAgentHeader": r.ua,
            "serverLatencyMs": r.server,
            "serviceType": "blob",
            "objectKey": f"/{spec.name}/{r.container}" + (f"/{r.obj}" if r.obj else ""),
            "operationCount": r.op_count,
            "requestHeaderSize": min(r.req_bytes, 700),
            "requestBodySize": max(0, r.req_bytes - 700),
            "responseHeaderSize": min(r.resp_bytes, 256),
            "responseBodySize": max(0, r.resp_bytes - 256),
            "tlsVersion": "TLS 1.2",
        },
    }


def _monitor_uri(base, r):
    uri = f"{base}/{r.obj}" if r.obj else f"{base}?restype=container&comp=list"
    if r.auth == "sas":
        uri += f"{'&' if '?' in uri else '?'}{logged_query(r.sas_query)}"
    return uri


def monitor_log_blobs(spec, start, end, seed, episode=None):
    """insights-logs-storage{read,write,delete}/resourceId=/SUBSCRIPTIONS/…/PT1H.json, one blob per hour."""
    if not spec.diagnostic_logs:
        return
    rid = f"{spec.resource_id}/blobServices/default".upper()
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        by_category = {}
        for r in delivered_requests(spec, hour, seed, episode):
            record = monitor_record(spec, r)
            by_category.setdefault(record["category"], []).append(json.dumps(record, separators=(",", ":")))
        for category, records in sorted(by_category.items()):
            yield LogBlob(
                f"insights-logs-{category.lower()}",
                f"resourceId={rid}/y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/m=00/PT1H.json",
                {},
                ("\n".join(records) + "\n").encode(),
            )
        hour += HOUR


# ---- files for the bench --------------------------------------------------------------------------------

# The clean variant: one CSV column per record field (storage_logs.parse order), text HTML-encoded as in
# classic logs so no field holds a quote or a comma, and a header line. DuckDB reads it as it is.
CLEAN_COLUMNS = (
    "version", "time", "operation", "status", "http_status", "e2e_ms", "server_ms", "auth_type", "requester",
    "sas_principal", "container", "object", "request_id", "operation_count", "ip", "request_bytes",
    "response_bytes", "user_agent", "user_object_id", "app_id", "upn",
)  # fmt: skip


def _csv_text(value):
    return html.escape(value, quote=True).replace(",", "&#44;")


def clean_row(spec, r):
    p = r.principal
    bearer = r.auth == "bearer" and p is not None
    return ",".join((
        "csv", r.time.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z", r.op, r.status, str(r.http), str(r.e2e),
        str(r.server), r.auth, spec.name if r.auth in ("authenticated", "bearer") else "",
        p.ident if r.auth == "sas" and p else "", _csv_text(r.container), _csv_text(r.obj), r.request_id,
        str(r.op_count), r.ip, str(r.req_bytes), str(r.resp_bytes), f'"{html.escape(r.ua, quote=True)}"',
        p.object_id if bearer else "", p.app_id if bearer else "", _csv_text(p.upn) if bearer else "",
    ))  # fmt: skip


def write_log_files(folder, lines, seed=1, lines_per_file=500_000, start=None):
    """Write about `lines` lines of the large profile to folder/real/*.log and folder/clean/*.csv.

    The same requests in both: classic 2.0 lines with every quirk, and the CSV-clean variant (one header
    line per file). Returns {"real": [paths], "clean": [paths]}.
    """
    spec = AccountLogSpec("benchacct", "00000000-0000-0000-0000-0000000000be", "bench-rg", profile="large")
    hour = start or datetime(2026, 1, 5, tzinfo=UTC)
    paths, written = {"real": [], "clean": []}, 0
    for variant in paths:
        os.makedirs(os.path.join(folder, variant), exist_ok=True)
    while written < lines:
        index = len(paths["real"])
        real_path = os.path.join(folder, "real", f"{index:05d}.log")
        clean_path = os.path.join(folder, "clean", f"{index:05d}.csv")
        with open(real_path, "w", encoding="utf-8") as real, open(clean_path, "w", encoding="utf-8") as clean:
            clean.write(",".join(CLEAN_COLUMNS) + "\n")
            in_file = 0
            while in_file < lines_per_file and written < lines:
                rng = random.Random(f"{seed}:bench:{hour.isoformat()}")
                requests = delivered_requests(spec, hour, seed)[: lines - written]
                real.write("".join(classic_line(spec, r, rng, "2.0") + "\n" for r in requests))
                clean.write("".join(clean_row(spec, r) + "\n" for r in requests))
                in_file += len(requests)
                written += len(requests)
                hour += HOUR
        paths["real"].append(real_path)
        paths["clean"].append(clean_path)
    return paths


def load_account(access, spec, start, end, seed, episode=None):
    """Upload an account's logs for [start, end) into Azurite (or any blob endpoint) and set its logging.

    Returns the list of LogBlob uploaded.
    """
    from ascmon.azure import blobs

    if spec.logging_version:
        blobs.set_logging_properties(access, version=spec.logging_version, read=spec.read, write=spec.write,
                                     delete=spec.delete, retention_days=spec.retention_days)  # fmt: skip
    uploaded = [
        *classic_log_blobs(spec, start, end, seed, episode),
        *monitor_log_blobs(spec, start, end, seed, episode),
    ]
    for container in sorted({blob.container for blob in uploaded}):
        blobs.ensure_container(access, container)
    for blob in uploaded:
        blobs.upload_blob(access, blob.container, blob.name, blob.data, blob.metadata)
    return uploaded
