"""One budget of Azure calls per tenant, shared by every process that talks to that tenant.

Every HTTP request the wrappers send for a tenant (ARM pages and listKeys, blob lists and reads, chunk
by chunk) first takes a slot: at most settings.AZURE_CALLS_PER_SECOND in each second. When Azure answers
429, the tenant is paused until the moment it named (Retry-After or x-ms-retry-after-ms), so every
worker of that tenant holds off, not only the one that was told. The numbers live where all processes see
them: Redis when REDIS_URL is set (the production path: several qcluster workers on several machines),
else a small SQLite file (settings.AZURE_BUDGET_PATH) shared by the processes of one machine.

A wait longer than settings.AZURE_MAX_WAIT_SECONDS is not waited in a worker: Throttled is raised (retryable,
with retry_after), and the task's own retry comes back later.

Blob requests carry no tenant; storage.get_account_key remembers which tenant an account key belongs
to (`remember_key`), so reads with that key count against the tenant. Other blob traffic (the simulator
loading Azurite) has no tenant and no budget, but still waits when throttled.
"""

import functools
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

from django.conf import settings

from ascmon.azure.errors import Throttled

_tenants_by_key = {}


def sleep(seconds):  # one name, so a test can watch the waits
    time.sleep(seconds)


def tenant_key(tenant_id):
    return f"tenant:{tenant_id.strip().lower()}"


def remember_key(account_key, tenant_id):
    """Reads with this storage account key count against `tenant_id`'s budget (this process only)."""
    _tenants_by_key[hashlib.sha256(account_key.encode()).hexdigest()] = tenant_key(tenant_id)


def key_of_account(account_key, tenant_id=""):
    if tenant_id:
        return tenant_key(tenant_id)
    return _tenants_by_key.get(hashlib.sha256((account_key or "").encode()).hexdigest())


def acquire(key):
    """Wait for a slot in the budget of `key` (None: no budget). Raises Throttled rather than wait longer
    than AZURE_MAX_WAIT_SECONDS in all."""
    if key is None:
        return
    waited = 0.0
    while True:
        wait = store().take(key, time.time(), settings.AZURE_CALLS_PER_SECOND)
        if wait <= 0:
            return
        if waited + wait > settings.AZURE_MAX_WAIT_SECONDS:
            raise Throttled(
                f"Azure calls for {key} are held back for {wait:.1f} s more (throttled or over budget)",
                status=429,
                retry_after=wait,
            )
        sleep(wait)
        waited += wait


def pause(key, seconds):
    """Azure throttled `key`: nobody sends for it until `seconds` from now."""
    if key is not None and seconds > 0:
        store().pause(key, time.time() + seconds)


def store():
    if settings.REDIS_URL:
        return _redis_store(settings.REDIS_URL, settings.AZURE_BUDGET_PREFIX)
    return _file_store(str(settings.AZURE_BUDGET_PATH))


@functools.lru_cache(maxsize=4)
def _redis_store(url, prefix):
    return RedisStore(url, prefix)


@functools.lru_cache(maxsize=4)
def _file_store(path):
    return SQLiteStore(path)


class RedisStore:
    """Per key: a counter per second (expiring) and the time until which the key is paused."""

    TAKE = """
    local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
    local now = tonumber(ARGV[1])
    if paused > now then return tostring(paused - now) end
    local window = math.floor(now)
    local counter = KEYS[2] .. window
    local used = redis.call('INCR', counter)
    if used == 1 then redis.call('EXPIRE', counter, 5) end
    if used <= tonumber(ARGV[2]) then return '0' end
    return tostring(window + 1 - now)
    """
    PAUSE = """
    local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
    local later = tonumber(ARGV[1])
    local ttl = math.max(1, math.ceil(later - tonumber(ARGV[2]))) + 5
    if later > paused then redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl) end
    return 0
    """

    def __init__(self, url, prefix):
        import redis

        self.prefix = prefix
        client = redis.Redis.from_url(url)
        self._client = client
        self._take, self._pause = client.register_script(self.TAKE), client.register_script(self.PAUSE)

    def take(self, key, now, limit):
        keys = [f"{self.prefix}{key}:paused", f"{self.prefix}{key}:used:"]
        return float(self._take(keys=keys, args=[repr(now), int(limit)]))

    def pause(self, key, until):
        self._pause(keys=[f"{self.prefix}{key}:paused"], args=[repr(until), repr(time.time())])

    def paused_until(self, key):
        return float(self._client.get(f"{self.prefix}{key}:paused") or 0)


class SQLiteStore:
    """The same numbers in one SQLite file; each step is one IMMEDIATE transaction, so processes queue."""

    def __init__(self, path):
        self.path = path
        self.local = threading.local()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS budget (key TEXT PRIMARY KEY, window INTEGER NOT NULL, "
                "used INTEGER NOT NULL, paused_until REAL NOT NULL)"
            )

    def _connection(self):
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a budget needs no durability, only agreement
            self.local.db = db
        return _Immediate(db)

    def take(self, key, now, limit):
        window = int(now)
        with self._connection() as db:
            row = db.execute("SELECT window, used, paused_until FROM budget WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute("INSERT INTO budget VALUES (?, ?, 1, 0)", (key, window))
                return 0.0
            stored_window, used, paused_until = row
            if paused_until > now:
                return paused_until - now
            if stored_window != window:
                db.execute("UPDATE budget SET window = ?, used = 1 WHERE key = ?", (window, key))
                return 0.0
            if used < limit:
                db.execute("UPDATE budget SET used = used + 1 WHERE key = ?", (key,))
                return 0.0
            return window + 1 - now

    def pause(self, key, until):
        with self._connection() as db:
            db.execute(
                "INSERT INTO budget VALUES (?, 0, 0, ?) ON CONFLICT(key) "
                "DO UPDATE SET paused_until = MAX(paused_until, excluded.paused_until)",
                (key, until),
            )

    def paused_until(self, key):
        with self._connection() as db:
            row = db.execute("SELECT paused_until FROM budget WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0.0


class _Immediate:
    """`with`: BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on a connection in autocommit mode."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback):
        self.db.execute("ROLLBACK" if kind else "COMMIT")
