"""What changes while the simulator runs: alert status, faults, the simulated clock, fixed tenants."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from ascmon.simulator import scenario as scenario_module

FAULT_KINDS = ("429", "500", "503", "slow", "truncated", "invalid", "expired_token")
ACTION_STATUS = {
    "dismiss": "Dismissed",
    "resolve": "Resolved",
    "activate": "Active",
    "inprogress": "InProgress",
}


@dataclass
class Fault:
    """Answer the next `count` requests whose path contains `match` badly (count -1: until cleared)."""

    kind: str
    match: str = ""
    count: int = 1
    retry_after: int = 1
    delay: float = 2.0
    hits: int = field(default=0)

    def as_dict(self):
        return {k: getattr(self, k) for k in ("kind", "match", "count", "retry_after", "delay", "hits")}


class SimulatorState:
    """The scenario plus everything that changed since the start; every method holds the lock."""

    def __init__(self, scenario, azurite_url, page_size=20):
        self.scenario = scenario
        self.azurite_url = azurite_url.rstrip("/")
        self.page_size = self.default_page_size = page_size
        self.lock = threading.RLock()
        self.started = time.monotonic()
        self.offset = 0.0
        self.faults = []
        self.fixed = set()
        self.activity_denied = set()  # tenants whose app may not read the Activity Log (/_sim/deny)
        self._activity = None
        self.requests = Counter()
        self.tokens = Counter()  # tenant id -> tokens issued (a secret may expire after some)
        self.samples = {}  # subscription id -> sample alerts raised by Alerts_Simulate, newest first
        self.events = {}  # alert id (lower) -> [(elapsed, status)]
        for at, alert_id, status in scenario.status_changes:
            self.events.setdefault(alert_id.lower(), []).append((at, status))

    # ---- clock and control --------------------------------------------------------------------------

    def elapsed(self):
        return time.monotonic() - self.started + self.offset

    def advance(self, seconds):
        with self.lock:
            self.offset += float(seconds)

    def add_faults(self, faults, replace=False):
        with self.lock:
            if replace:
                self.faults = []
            for item in faults:
                if item.get("kind") not in FAULT_KINDS:
                    raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
                self.faults.append(Fault(**{k: v for k, v in item.items() if k != "hits"}))

    def take_fault(self, path):
        with self.lock:
            self.requests[path] += 1
            for fault in self.faults:
                if fault.count != 0 and fault.match in path:
                    fault.count -= 1 if fault.count > 0 else 0
                    fault.hits += 1
                    return fault
            return None

    def reset(self):
        with self.lock:
            self.faults, self.fixed, self.offset = [], set(), 0.0
            self.activity_denied = set()
            self.page_size = self.default_page_size
            self.started = time.monotonic()
            self.requests.clear()
            self.tokens.clear()
            self.samples = {}
            self.events = {}
            for at, alert_id, status in self.scenario.status_changes:
                self.events.setdefault(alert_id.lower(), []).append((at, status))

    def take_token(self, tenant):
        """May `tenant`'s secret have one more token? A fixed tenant's secret was renewed: always."""
        with self.lock:
            limit = tenant.secret_tokens
            if (
                limit is not None
                and self.tokens[tenant.tenant_id] >= limit
                and tenant.tenant_id not in self.fixed
            ):
                return False
            self.tokens[tenant.tenant_id] += 1
            return True

    def fix(self, tenant_id, fixed=True):
        with self.lock:
            (self.fixed.add if fixed else self.fixed.discard)(tenant_id)

    def snapshot(self):
        with self.lock:
            return {
                "now": self.scenario.now.isoformat(),
                "elapsed": round(self.elapsed(), 3),
                "faults": [f.as_dict() for f in self.faults],
                "fixed": sorted(self.fixed),
                "activity_denied": sorted(self.activity_denied),
                "page_size": self.page_size,
                "requests": dict(self.requests),
            }

    # ---- what the tenant looks like now -------------------------------------------------------------

    def is_fixed(self, subscription_id):
        tenant = self.scenario.tenant_of(subscription_id)
        return tenant is not None and tenant.tenant_id in self.fixed

    def granted(self, sub):
        return sub.granted or self.is_fixed(sub.subscription_id)

    def subscription_rest(self, sub):
        rest = sub.rest()
        if self.is_fixed(sub.subscription_id):
            rest["state"] = "Enabled"
        return rest

    def pricings(self, subscription_id):
        plans = [dict(p, properties=dict(p["properties"])) for p in self.pricings_source(subscription_id)]
        if self.is_fixed(subscription_id):
            for plan in plans:
                if not plan["properties"].get("deprecated"):
                    plan["properties"]["pricingTier"] = "Standard"
                    plan["properties"].setdefault("enablementTime", "2026-01-01T00:00:00.0000000Z")
        return plans

    def pricings_source(self, subscription_id):
        plans = self.scenario.pricings.get(subscription_id)
        if plans is None:  # a subscription granted only in the fixed state gets production-like plans
            plans = scenario_module.pricings_for(subscription_id, strong=True)
        return plans

    def accounts(self, subscription_id):
        return self.scenario.accounts.get(subscription_id, [])

    def diagnostic_settings(self, spec):
        if self.is_fixed(spec.subscription_id) and not spec.diagnostic_logs:
            from dataclasses import replace

            return scenario_module.diagnostic_settings(replace(spec, diagnostic_logs=True))
        return scenario_module.diagnostic_settings(spec)

    def deny_activity(self, tenant_id, denied=True):
        with self.lock:
            (self.activity_denied.add if denied else self.activity_denied.discard)(tenant_id)

    def activity_events(self, subscription_id):
        """The subscription's Activity Log events (ascmon/simulator/activity_log.py), built once."""
        from ascmon.simulator.activity_log import scenario_events

        with self.lock:
            if self._activity is None:
                self._activity = scenario_events(self.scenario)
            return self._activity.get(subscription_id, [])

    def add_samples(self, subscription_id, alerts):
        with self.lock:
            self.samples[subscription_id] = alerts + self.samples.get(subscription_id, [])

    def alerts(self, subscription_id):
        """Alerts visible now, with their current status (sample alerts first: they are the newest)."""
        now = self.elapsed()
        with self.lock:
            out = list(self.samples.get(subscription_id, ()))
            for alert in self.scenario.alerts.get(subscription_id, []):
                if self.scenario.appear_after.get(alert["id"], 0) > now:
                    continue
                status = self._status(alert, now)
                if status != alert["properties"].get("status"):
                    alert = dict(alert, properties=dict(alert["properties"], status=status))
                out.append(alert)
        return out

    def _status(self, alert, now):
        events = [e for e in self.events.get(alert["id"].lower(), ()) if e[0] <= now]
        return max(events, key=lambda e: e[0])[1] if events else alert["properties"].get("status")

    def set_status(self, alert_id, action):
        with self.lock:
            self.events.setdefault(alert_id.lower(), []).append(
                (self.elapsed(), ACTION_STATUS[action.lower()])
            )
