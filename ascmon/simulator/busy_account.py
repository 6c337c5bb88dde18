"""A busy storage account shaped like a customer's data lake: thousands of SAS tokens and client IPs, many
containers and objects, realistic user agents, one aggregate per four lines or so under ascmon's default
policies. The benchmark and the tests read it through the same code as the simulator's tidy tenant.

Requests come in sessions: a client (a SAS token, an Entra identity, an app with the account key, or nobody)
on one host reads a handful of objects from one container, and now and then writes or deletes one.
Everything is deterministic for a seed. No Django imports.
"""

import hashlib
import random
import uuid
from datetime import timedelta

from ascmon.simulator.storage_activity import (
    LogBlob,
    Principal,
    Request,
    classic_line,
    clean_row,
    monitor_record,
    sas_identity,
)

LINES_PER_BLOB = 50_000
SESSION_READS = 8  # mean requests per session: one aggregate per session and container under the read policy
AGENTS = (
    "AzCopy/10.{minor}.0 Azure-Storage/0.15 (go1.21.{patch}; linux)",
    "AzCopy/10.{minor}.1 Azure-Storage/0.15 (go1.22.{patch}; Windows_NT)",
    "azsdk-python-storage-blob/12.{minor}.0 Python/3.11.{patch} (Linux-5.15.0-1057-azure-x86_64-with-glibc)",
    "azsdk-net-Storage.Blobs/12.{minor}.0 (.NET 8.0.{patch}; Microsoft Windows 10.0.20348)",
    "azsdk-java-azure-storage-blob/12.{minor}.0 (17.0.{patch}; Linux; 5.15.0-1057-azure)",
    "Microsoft Azure Storage Explorer, 1.3{minor}.0, win32, azcopy-node, 2.0.0, win32,  AzCopy/10.{patch}.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12{minor}.0.0.0 "
    "Safari/537.36 Edg/12{minor}.0.{patch}",
    "APN/1.0 Hortonworks/1.0 HDP/3.1.{patch} Hadoop/3.3.{minor}",
    "DataFactory/1.0 (Integration Runtime 5.{minor}.{patch})",
    "Databricks/13.{minor} (Spark 3.4.{patch}) abfs-driver",
)
OPERATIONS = ("GetBlob", "GetBlobProperties", "PutBlob", "PutBlock", "DeleteBlob")
WEIGHTS = (88, 5, 4, 2, 1)
CONTAINERS = 60
OBJECTS_PER_CONTAINER = 20_000


def population(name, seed, tokens=3000, hosts=5000, identities=400):
    """The clients of the account: who, from which hosts, with which user agent."""
    rng = random.Random(f"{seed}:busy:{name}")
    agents = [
        a.format(minor=rng.randrange(10, 30), patch=rng.randrange(0, 20)) for a in AGENTS for _ in range(4)
    ]
    ips = [f"{rng.choice((20, 40, 52, 104, 137, 157, 191))}.{rng.randrange(256)}.{rng.randrange(256)}."
           f"{rng.randrange(1, 255)}" for _ in range(hosts)]  # fmt: skip
    clients = []
    for index in range(tokens):
        expiry = f"2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z"
        signature = hashlib.sha256(f"{seed}{name}{index}".encode()).hexdigest()[:43]
        permissions, resource = rng.choice(("r", "rl", "racwdl", "rw")), rng.choice("cb")
        query = f"se={expiry}&sig={signature}%3D&sp={permissions}&sr={resource}&sv=2022-11-02"
        clients.append(Principal("sas", sas_identity(query), "sas", (), (), (), (), 0, sas_query=query))
    for index in range(identities):
        oid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        app = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        upn = f"user{index}@contoso.example"
        clients.append(
            Principal("user", oid, "bearer", (), (), (), (), 0, upn=upn, object_id=oid, app_id=app)
        )
    clients += [Principal("app", name, "authenticated", (), (), (), (), 0) for _ in range(40)]
    clients += [Principal("anonymous", "", "anonymous", (), (), (), (), 0) for _ in range(60)]
    return clients, ips, agents


def hour_requests(name, hour, lines, seed):
    """About `lines` requests of one hour, sorted by time."""
    rng = random.Random(f"{seed}:busy:{name}:{hour.isoformat()}")
    clients, ips, agents = population(name, seed)
    out = []
    while len(out) < lines:
        client = rng.choice(clients)
        host = rng.randrange(len(ips))
        agent = agents[host % len(agents)] if rng.random() < 0.9 else rng.choice(agents)
        container = f"lake-{rng.randrange(CONTAINERS):02d}"
        start = rng.randrange(3_540_000_000)
        for _ in range(1 + int(rng.expovariate(1 / (SESSION_READS - 1)))):
            op = rng.choices(OPERATIONS, WEIGHTS)[0]
            when = hour + timedelta(microseconds=start + rng.randrange(60_000_000))
            out.append(_request(rng, name, client, op, when, container, ips[host], agent))
    out = out[:lines]
    out.sort(key=lambda r: r.time)
    return out


def _request(rng, name, client, op, when, container, ip, agent):
    size = rng.randint(1_000, 4_000_000)
    writes, reads = op in ("PutBlob", "PutBlock"), op == "GetBlob"
    status = {"anonymous": "AnonymousSuccess", "sas": "SASSuccess", "bearer": "OAuthSuccess"}.get(
        client.auth_type, "Success"
    )
    http = {"GetBlob": 200, "GetBlobProperties": 200, "DeleteBlob": 202}.get(op, 201)
    if rng.random() < 0.03:
        http, status = 404, "BlobNotFound"
    return Request(
        time=when,
        op=op,
        http=http,
        status=status,
        auth=client.auth_type,
        principal=client,
        container=container,
        obj=f"raw/{rng.randrange(OBJECTS_PER_CONTAINER):06d}/part-{rng.randrange(64):02d}.parquet",
        ip=ip,
        port=rng.randint(1024, 65000),
        ua=agent,
        request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        e2e=rng.randint(3, 900),
        server=rng.randint(2, 120),
        req_bytes=rng.randint(400, 1200) + (size if writes else 0),
        resp_bytes=rng.randint(200, 600) + (size if reads and http == 200 else 0),
        sas_query=client.sas_query,
    )


def classic_blobs(spec, hour, lines, seed):
    """The hour's `$logs` blobs (classic 2.0 lines), LINES_PER_BLOB lines each."""
    requests = hour_requests(spec.name, hour, lines, seed)
    rng = random.Random(f"{seed}:busy-format:{spec.name}:{hour.isoformat()}")
    for counter, start in enumerate(range(0, len(requests), LINES_PER_BLOB)):
        chunk = requests[start : start + LINES_PER_BLOB]
        data = "".join(classic_line(spec, r, rng, "2.0") + "\n" for r in chunk).encode()
        metadata = {"LogType": "read,write,delete", "LogVersion": "2.0"}
        yield LogBlob("$logs", f"blob/{hour:%Y/%m/%d/%H}00/{counter:06d}.log", metadata, data)


def clean_lines(spec, hour, lines, seed):
    """The same requests as the CSV-clean twin DuckDB reads (storage_activity.CLEAN_COLUMNS, no header)."""
    return "".join(clean_row(spec, r) + "\n" for r in hour_requests(spec.name, hour, lines, seed)).encode()


def monitor_lines(spec, hour, lines, seed):
    """The same requests as Azure Monitor JSON events (one per line)."""
    import json

    requests = hour_requests(spec.name, hour, lines, seed)
    return "".join(
        json.dumps(monitor_record(spec, r), separators=(",", ":")) + "\n" for r in requests
    ).encode()
