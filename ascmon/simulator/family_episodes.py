"""Episodes for every Defender for Storage alert family besides exfiltration: the log lines that make each
alert true in the account's logs, so the alert page has evidence to show.

One episode per family, on the scenario's first storage account, spread over the day before `now` (the
small scenario keeps two days of logs): a malware upload and the reads that followed it, a SAS token used
from an outside IP, a container opened to the public and read anonymously, a scan for open containers,
a mass deletion, access from a Tor exit node and access by an unusual application. The alerts that report
them are in ascmon/simulator/family_catalog.py; alert types and their fields follow Microsoft's reference
(docs/azure-formats.md §3). Deterministic for (account, now, seed), like the rest of the traffic.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from ascmon.simulator.traffic import HOUR, KIND_OF_OP, Principal, Request, sas_identity

TOR_IP = "185.220.100.252"
SCANNER_IP = "45.155.205.99"
UA_SCANNER = "python-requests/2.31.0"
UA_CURL = 'curl/8.4.0 "<img src=x onerror=alert(1)>"'
UA_WGET = "Wget/1.21.4"
UA_RCLONE = "rclone/v1.65.0"
UA_AZCOPY = "AzCopy/10.26.0 Azure-Storage/0.15 (go1.22.5; linux)"
PUBLIC_READER_IP = "194.26.29.113"
UA_PYTHON_DEL = "azsdk-python-storage-blob/12.8.0 Python/3.8.10 (Linux)"
MALWARE_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True)
class FamilyEpisode:
    """What one storage alert family reports on an account, and the requests its lines are made of."""

    family: str  # malware, sas, public, scanning, deletion, unusual_place, application
    account_name: str
    start: object
    end: object
    ip: str
    user_agent: str
    container: str
    requests: tuple  # Request, sorted by time
    blob: str = ""
    principal: str = ""  # how ascmon names the principal (a SAS token's identity, a UPN...)
    auth_type: str = ""

    def requests_in(self, spec, hour, seed):
        if spec.name != self.account_name:
            return []
        return [
            r
            for r in self.requests
            if hour <= r.time < hour + HOUR and spec.logs(KIND_OF_OP.get(r.op, "read"))
        ]

    @property
    def alert_context(self):
        """The values the family's alerts fill in (family_catalog's `{…}` placeholders)."""
        return {
            "ip": self.ip,
            "user_agent": self.user_agent,
            "container": self.container,
            "blob": self.blob,
            "sha256": MALWARE_SHA256,
            "count": str(len(self.requests)),
            "user": self.principal
            if "@" in self.principal
            else "N/A (Azure AD user authentication was not used)",
            "end": self.end,
        }


def _person(name, seed):
    digest = hashlib.sha256(f"{seed}:person:{name}".encode()).hexdigest()
    object_id = str(uuid.UUID(digest[:32]))
    return Principal(
        "user",
        object_id,
        "bearer",
        (),
        (),
        (),
        (),
        0,
        upn=name,
        object_id=object_id,
        app_id="04b07795-8ddb-461a-bbee-02f9e1bf7b46",  # the Azure CLI's public client id
    )


def _token(label):
    digest = hashlib.sha256(f"family-sas:{label}".encode()).hexdigest()
    query = f"se=2032-06-30T00:00:00Z&sig={digest[:32]}&sp=racwdl&srt=sco&ss=b&sv=2022-11-02"
    return Principal("sas", sas_identity(query), "sas", (), (), (), (), 0, sas_query=query)


class _Script:
    """Builds an episode's requests one at a time, each with its own request id from one Random."""

    def __init__(self, rng, start):
        self.rng, self.start, self.out = rng, start, []

    def add(self, minutes, op, container, obj, ip, ua, auth, principal=None, http=None, size=0):
        kind = KIND_OF_OP.get(op, "read")
        http = http or {"read": 200, "write": 201, "delete": 202}[kind]
        status = _status(auth, http)
        body = size if http < 300 else 0
        self.out.append(
            Request(
                time=self.start + timedelta(minutes=minutes, seconds=self.rng.randint(0, 59)),
                op=op,
                http=http,
                status=status,
                auth=auth,
                principal=principal,
                container=container,
                obj=obj,
                ip=ip,
                port=self.rng.randint(1024, 65000),
                ua=ua,
                request_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                e2e=self.rng.randint(5, 300),
                server=self.rng.randint(2, 40),
                req_bytes=self.rng.randint(300, 700) + (body if kind == "write" else 0),
                resp_bytes=self.rng.randint(200, 500) + (body if op == "GetBlob" else 0),
                sas_query=principal.sas_query if principal and auth == "sas" else "",
            )
        )

    def done(self):
        return tuple(sorted(self.out, key=lambda r: r.time))


def _status(auth, http):
    if http == 404:
        return "ResourceNotFound" if auth == "anonymous" else "BlobNotFound"
    if http == 403:
        return "AuthorizationFailure"
    if http == 304:
        return "AnonymousSuccess"
    return {"anonymous": "AnonymousSuccess", "sas": "SASSuccess", "bearer": "OAuthSuccess"}.get(
        auth, "Success"
    )


def malware_upload(account_name, start, seed):
    """An executable uploaded with a stolen Entra ID login, then downloaded anonymously and by the app."""
    rng = random.Random(f"{seed}:family:malware:{account_name}")
    uploader, ip, blob = _person("svc-deploy@contoso.example", seed), "89.248.165.12", "setup-update.exe"
    script = _Script(rng, start)
    script.add(0, "PutBlob", "public", blob, ip, UA_CURL, "bearer", uploader, size=734_208)
    for minute, reader in ((9, "192.0.2.77"), (14, "198.18.0.5"), (31, "192.0.2.77")):
        script.add(minute, "GetBlob", "public", blob, reader, UA_WGET, "anonymous", size=734_208)
    return FamilyEpisode(
        "malware",
        account_name,
        start,
        start + timedelta(minutes=35),
        ip,
        UA_CURL,
        "public",
        script.done(),
        blob=blob,
        principal=uploader.upn,
        auth_type="bearer",
    )


def sas_misuse(account_name, start, seed):
    """An account SAS made for internal jobs, used from an outside IP for listing and reading."""
    rng = random.Random(f"{seed}:family:sas:{account_name}")
    token, ip = _token(f"{account_name}:{seed}"), "102.89.34.11"
    script = _Script(rng, start)
    for minute in range(-360, 40, 20):  # the usual use, for hours: a host in the virtual network
        script.add(
            minute,
            "GetBlob",
            "exports",
            f"daily-{minute + 360:03d}.csv",
            "10.20.1.9",
            UA_AZCOPY,
            "sas",
            token,
            size=rng.randint(20_000, 90_000),
        )
    script.add(12, "ListBlobs", "exports", "", ip, UA_AZCOPY, "sas", token)
    for index in range(24):
        script.add(
            13 + index,
            "GetBlob",
            "exports",
            f"customer-{index:03d}.csv",
            ip,
            UA_AZCOPY,
            "sas",
            token,
            size=rng.randint(200_000, 900_000),
        )
    return FamilyEpisode(
        "sas",
        account_name,
        start,
        start + timedelta(minutes=40),
        ip,
        UA_AZCOPY,
        "exports",
        script.done(),
        principal=token.ident,
        auth_type="sas",
    )


def public_access(account_name, start, seed):
    """A container's access level changed to public by an admin, then read anonymously from outside."""
    rng = random.Random(f"{seed}:family:public:{account_name}")
    admin = _person("bob.ops@contoso.example", seed)
    script = _Script(rng, start)
    script.add(0, "SetContainerACL", "backups", "", "203.0.113.40", UA_CURL, "bearer", admin)
    for index in range(18):
        script.add(
            5 + index * 2,
            "GetBlob",
            "backups",
            f"db-{index:02d}.bak",
            PUBLIC_READER_IP,
            UA_SCANNER,
            "anonymous",
            size=rng.randint(1_000_000, 5_000_000),
        )
    return FamilyEpisode(
        "public",
        account_name,
        start,
        start + timedelta(minutes=45),
        PUBLIC_READER_IP,
        UA_SCANNER,
        "backups",
        script.done(),
        principal=admin.upn,
        auth_type="anonymous",
    )


def container_scanning(account_name, start, seed):
    """Anonymous guesses of container names from one IP: most fail, one container is found open."""
    rng = random.Random(f"{seed}:family:scan:{account_name}")
    script = _Script(rng, start)
    guesses = ("backup", "data", "files", "logs", "private", "uploads", "archive", "test", "dev", "images")
    for index, name in enumerate(guesses):
        script.add(index, "ListBlobs", name, "", SCANNER_IP, UA_SCANNER, "anonymous", http=404)
    script.add(12, "ListBlobs", "public", "", SCANNER_IP, UA_SCANNER, "anonymous")
    return FamilyEpisode(
        "scanning",
        account_name,
        start,
        start + timedelta(minutes=15),
        SCANNER_IP,
        UA_SCANNER,
        "public",
        script.done(),
        auth_type="anonymous",
    )


def mass_deletion(account_name, start, seed):
    """Many blobs deleted in minutes with the account key, from an IP the account has not seen."""
    rng = random.Random(f"{seed}:family:delete:{account_name}")
    owner = Principal("app", account_name, "authenticated", (), (), (), (), 0)
    script = _Script(rng, start)
    for index in range(60):
        script.add(
            index // 3,
            "DeleteBlob",
            "invoices",
            f"inv-{index:05d}.pdf",
            "193.32.162.71",
            UA_PYTHON_DEL,
            "authenticated",
            owner,
        )
    return FamilyEpisode(
        "deletion",
        account_name,
        start,
        start + timedelta(minutes=20),
        "193.32.162.71",
        UA_PYTHON_DEL,
        "invoices",
        script.done(),
        principal=account_name,
        auth_type="authenticated",
    )


def unusual_place(account_name, start, seed):
    """A user's Entra ID login used from a Tor exit node (Tor, geo and suspicious-IP alerts report it)."""
    rng = random.Random(f"{seed}:family:place:{account_name}")
    user = _person("alice@contoso.example", seed)
    script = _Script(rng, start)
    script.add(0, "ListBlobs", "reports", "", TOR_IP, UA_CURL, "bearer", user)
    for index in range(8):
        script.add(
            2 + index,
            "GetBlob",
            "reports",
            f"q{index % 4 + 1}-board.pdf",
            TOR_IP,
            UA_CURL,
            "bearer",
            user,
            size=rng.randint(300_000, 2_000_000),
        )
    return FamilyEpisode(
        "unusual_place",
        account_name,
        start,
        start + timedelta(minutes=12),
        TOR_IP,
        UA_CURL,
        "reports",
        script.done(),
        principal=user.upn,
        auth_type="bearer",
    )


def unusual_application(account_name, start, seed):
    """The account key used by a tool the account never saw (rclone against the app's containers)."""
    rng = random.Random(f"{seed}:family:app:{account_name}")
    owner = Principal("app", account_name, "authenticated", (), (), (), (), 0)
    script = _Script(rng, start)
    for index in range(15):
        script.add(
            index,
            "GetBlob",
            "invoices",
            f"inv-{index:05d}.pdf",
            "10.20.1.4",
            UA_RCLONE,
            "authenticated",
            owner,
            size=rng.randint(50_000, 400_000),
        )
    return FamilyEpisode(
        "application",
        account_name,
        start,
        start + timedelta(minutes=16),
        "10.20.1.4",
        UA_RCLONE,
        "invoices",
        script.done(),
        principal=account_name,
        auth_type="authenticated",
    )


# Hours before `now` at which each family's episode starts: clear of the exfiltration (2 to 5 hours back).
SCHEDULE = (
    (malware_upload, 30),
    (sas_misuse, 27),
    (public_access, 24),
    (container_scanning, 21),
    (mass_deletion, 18),
    (unusual_place, 14),
    (unusual_application, 10),
)


def family_episodes(account_name, now, seed):
    """{family: FamilyEpisode} of every family on one account, at fixed offsets before `now`."""
    base = now.replace(minute=0, second=0, microsecond=0)
    episodes = {}
    for make, hours in SCHEDULE:
        minute = random.Random(f"{seed}:family-start:{make.__name__}").randint(5, 15)
        episode = make(account_name, base - timedelta(hours=hours) + timedelta(minutes=minute), seed)
        episodes[episode.family] = episode
    return episodes
