"""The exfiltration episode: what a Defender "unusual amount of data extracted" alert reports, and the
GetBlob lines that make it true in the account's logs."""

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from ascmon.simulator.traffic import HOUR, Principal, Request, _sig_hash, sas_identity


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

    def requests_in(self, spec, hour, seed):
        """The episode's GetBlob requests that fall into `hour` (evenly spread over its window)."""
        if self.account_name != spec.name or not spec.read:
            return []
        rng = random.Random(f"{seed}:episode-lines:{spec.name}")
        step = (self.end - self.start) / self.blobs
        per_blob, remainder = divmod(self.bytes, self.blobs)
        thief = Principal(
            "sas",
            self.principal,
            self.auth_type,
            (self.ip,),
            (self.user_agent,),
            (self.container,),
            (("GetBlob", 1),),
            0,
            sas_query=_episode_query(spec.name, seed),
        )
        out = []
        for index in range(self.blobs):
            when = self.start + step * index
            body = per_blob + (remainder if index == 0 else 0)
            request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if hour <= when < hour + HOUR:
                out.append(
                    Request(
                        when,
                        "GetBlob",
                        200,
                        "SASSuccess",
                        self.auth_type,
                        thief,
                        self.container,
                        f"inv-{index:05d}.pdf",
                        self.ip,
                        rng.randint(1024, 65000),
                        self.user_agent,
                        request_id,
                        900,
                        80,
                        420,
                        380 + body,
                        sas_query=thief.sas_query,
                    )
                )
        return out


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
