"""The usual traffic of a simulated storage account: who uses it, how, and the requests of each hour.

Everything is deterministic for a seed: each hour draws from its own Random seeded by (seed, account,
hour), so any window can be generated on its own and gives the same lines. Episodes (an exfiltration,
ascmon/simulator/episodes.py; the other Defender for Storage alert families,
ascmon/simulator/family_episodes.py) add their own requests to the hours they fall in. The line writers
per format are in ascmon/simulator/log_formats.py.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage_logs.sas import sas_fields

HOUR = timedelta(hours=1)
LINES_PER_BLOB = 20000
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

READ_OPS = ("GetBlob", "GetBlobProperties", "ListBlobs")
WRITE_OPS = ("PutBlob", "PutBlock", "PutBlockList", "AppendBlock", "SetBlobMetadata")
DELETE_OPS = ("DeleteBlob",)
KIND_OF_OP = {**dict.fromkeys(READ_OPS, "read"), **dict.fromkeys(WRITE_OPS, "write"), "DeleteBlob": "delete"}
# Container-level operations the alert-family episodes make (ascmon/simulator/family_episodes.py).
KIND_OF_OP.update(SetContainerACL="write", GetContainerACL="read")
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


def episode_requests(spec, episodes, hour, seed):
    """The requests that episodes (one, a list, or None) add to `hour` of the account `spec`."""
    if episodes is None:
        return []
    if not isinstance(episodes, list | tuple):
        episodes = (episodes,)
    return [r for episode in episodes for r in episode.requests_in(spec, hour, seed)]


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
    out.extend(episode_requests(spec, episode, hour, seed))
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
