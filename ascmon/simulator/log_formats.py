"""Storage log lines as Azure writes them, from the simulator's requests (ascmon/simulator/traffic.py):
classic `$logs` lines (1.0 and 2.0), Azure Monitor JSON records, and the CSV-clean variant for the bench.

Classic lines carry the quirks of real Azure logs (docs/azure-formats.md §5.4): unquoted SAS URLs with
`&amp;`, ETags written as `""…""` and `"&quot;…&quot;"`, raw quotes in authorization-detail JSON, IPs with
and without port, `;` inside quoted user agents, repeated lines and lines delivered an hour late. As in
Azure's logs, a SAS signature never appears (sig=XXXXX, §6.2a): classic lines keep only the token's other
fields, Azure Monitor events the signature's SHA-256 in identity.tokenHash.
"""

import hashlib
import html
import json
import os
import random
from datetime import UTC, datetime

from ascmon.simulator.traffic import (
    CATEGORY,
    HOUR,
    KIND_OF_OP,
    LINES_PER_BLOB,
    TENANT_ID,
    AccountLogSpec,
    LogBlob,
    _sig_hash,
    delivered_requests,
    logged_query,
)

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
    elif r.op in ("SetContainerACL", "GetContainerACL"):
        url = f"{base}?restype=container&comp=acl"
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
