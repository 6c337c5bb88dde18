"""The simulated customers: tenants, subscriptions, resources, Defender plans, storage accounts, alerts.

`build(seed, size, now)` is deterministic: the same arguments give the same scenario, so the simulator
process and a test (or the demo launcher) can each build it and agree. Alerts come out as REST JSON in
the api-version 2022-01-01 shape. Pure: no Django, no Azure SDK.
"""

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ascmon.simulator import scenario_alerts
from ascmon.simulator.family_episodes import family_episodes
from ascmon.simulator.storage_activity import AccountLogSpec, exfiltration_episode

SIZES = ("small", "default", "large")
# storage_activity's traffic profile per size: the demo keeps the light one so it fills in seconds.
LOG_PROFILE = {"small": "small", "default": "small", "large": "large"}
ASC_LOCATION = "centralus"


def stable_uuid(*parts):
    return str(uuid.UUID(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:32]))


def account_key(name):
    return base64.b64encode(hashlib.sha512(f"azurite-key:{name}".encode()).digest()).decode()


@dataclass
class Subscription:
    """A subscription the customer expects; `granted` says whether the app may read it."""

    subscription_id: str
    display_name: str
    tenant_id: str
    state: str = "Enabled"
    granted: bool = True

    def rest(self):
        return {
            "id": f"/subscriptions/{self.subscription_id}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": self.display_name,
            "state": self.state,
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "EnterpriseAgreement_2014-09-01",
                "spendingLimit": "Off",
            },
        }


@dataclass
class Tenant:
    """A customer's Entra tenant with the app registration ascmon uses."""

    name: str
    tenant_id: str
    client_id: str
    client_secret: str
    subscriptions: list
    contacts: tuple = ()
    state: str = "demo"  # the fleet's tenants each show one state (FLEET below); "demo" shows them all
    # The simulator refuses the secret after this many tokens (an expired secret); None: never.
    secret_tokens: int | None = None

    def expected_subscriptions(self):
        return [s.subscription_id for s in self.subscriptions]


@dataclass
class Scenario:
    """Everything the simulator serves. Mutable parts (alert status) live in the server, not here."""

    seed: int
    size: str
    now: datetime
    tenants: list
    resources: dict = field(default_factory=dict)  # sub -> [resource REST dicts]
    pricings: dict = field(default_factory=dict)  # sub -> [pricing REST dicts]
    accounts: dict = field(default_factory=dict)  # sub -> [AccountLogSpec]
    alerts: dict = field(default_factory=dict)  # sub -> [alert REST dicts], newest first
    appear_after: dict = field(default_factory=dict)  # alert id -> seconds after start
    status_changes: list = field(default_factory=list)  # (seconds after start, alert id, status)
    episode: object = None  # the demo tenant's exfiltration
    episodes: dict = field(default_factory=dict)  # account name -> Episode, the demo's one included
    family_episodes: dict = field(default_factory=dict)  # family -> FamilyEpisode (family_episodes.py)

    def subscription(self, subscription_id):
        return next(
            (s for t in self.tenants for s in t.subscriptions if s.subscription_id == subscription_id), None
        )

    def tenant_of(self, subscription_id):
        return next(
            t for t in self.tenants if any(s.subscription_id == subscription_id for s in t.subscriptions)
        )

    def episodes_for(self, account_name):
        """The episodes whose lines go into one account's logs (exfiltration first)."""
        found = [self.episodes[account_name]] if account_name in self.episodes else []
        return found + [e for e in self.family_episodes.values() if e.account_name == account_name]

    def all_accounts(self):
        return [spec for specs in self.accounts.values() for spec in specs]

    def account_keys(self):
        return {spec.name: account_key(spec.name) for spec in self.all_accounts()}

    def demo_tenant(self):
        return self.tenants[0]


# ---- tenants and subscriptions ----------------------------------------------------------------------


def _tenant(seed, name, short, subs, contacts, **extra):
    tenant_id = stable_uuid(seed, "tenant", short)
    subscriptions = [
        Subscription(stable_uuid(seed, "sub", short, label), f"{name} {label}", tenant_id, state, granted)
        for label, state, granted in subs
    ]
    secret = base64.urlsafe_b64encode(hashlib.sha256(f"{seed}:{short}:secret".encode()).digest()).decode()
    return Tenant(
        name,
        tenant_id,
        stable_uuid(seed, "app", short),
        f"Sim~{secret[:34]}",
        subscriptions,
        contacts,
        **extra,
    )


# The fleet beside the demo tenant: (name, state, subscriptions). Each shows one state an MSSP meets.
FLEET = (
    ("Northwind", "healthy", [("Production", "Enabled", True)]),
    ("Tailspin", "plans_off", [("Web", "Enabled", True), ("Data", "Enabled", True)]),
    ("Wingtip", "logging_off", [("Main", "Enabled", True)]),
    ("Litware", "credentials_expired", [("Main", "Enabled", True)]),
    ("Adventure Works", "busy_storage", [("Retail", "Enabled", True)]),
)


def _tenants(seed, size):
    contoso = _tenant(
        seed,
        "Contoso",
        "contoso",
        [
            ("Production", "Enabled", True),
            ("Development", "Enabled", True),
            ("Legacy", "Disabled", True),
            ("Audit", "Enabled", False),
        ]
        + ([("Finance", "Enabled", False)] if size != "small" else []),
        ("soc@contoso.example", "cloud-team@contoso.example"),
    )
    if size == "small":
        return [contoso]
    fabrikam = _tenant(
        seed,
        "Fabrikam",
        "fabrikam",
        [("Main", "Enabled", True), ("Sandbox", "Enabled", False)],
        ("security@fabrikam.example",),
        state="subscription_missing",
    )
    fleet = [
        _tenant(
            seed,
            name,
            name.lower().replace(" ", ""),
            subs,
            (f"soc@{name.lower().replace(' ', '')}.example",),
            state=state,
            secret_tokens=1 if state == "credentials_expired" else None,
        )
        for name, state, subs in FLEET
    ]
    return [contoso, fabrikam, *fleet]


# ---- resources ----------------------------------------------------------------------------------------

RESOURCE_TYPES = (
    ("Microsoft.Compute/virtualMachines", "vm", 6),
    ("Microsoft.Network/networkInterfaces", "nic", 6),
    ("Microsoft.Sql/servers", "sql", 2),
    ("Microsoft.KeyVault/vaults", "kv", 2),
    ("Microsoft.Web/sites", "app", 3),
    ("Microsoft.ContainerService/managedClusters", "aks", 1),
)
KIND_TYPE = {
    "vm": "Microsoft.Compute/virtualMachines",
    "sql": "Microsoft.Sql/servers",
    "keyvault": "Microsoft.KeyVault/vaults",
    "appservice": "Microsoft.Web/sites",
    "aks": "Microsoft.ContainerService/managedClusters",
    "storage": "Microsoft.Storage/storageAccounts",
}


def _resources(rng, sub, accounts, scale):
    out = []
    for rtype, prefix, base in RESOURCE_TYPES:
        for index in range(max(1, int(base * scale * rng.uniform(0.5, 1.5)))):
            name = f"{prefix}-{sub.display_name.split()[-1].lower()}-{index:02d}"
            out.append(_resource(sub.subscription_id, "rg-workload", rtype, name))
    for spec in accounts:
        out.append(_resource(sub.subscription_id, spec.resource_group, KIND_TYPE["storage"], spec.name))
    return out


def _resource(subscription_id, group, rtype, name):
    return {
        "id": f"/subscriptions/{subscription_id}/resourceGroups/{group}/providers/{rtype}/{name}",
        "name": name,
        "type": rtype,
        "location": "westeurope",
        "tags": {},
    }


# ---- Defender plans -----------------------------------------------------------------------------------


def _plan(sub_id, name, tier, sub_plan=None, **extra):
    properties = {"pricingTier": tier, "freeTrialRemainingTime": "PT0S" if tier == "Standard" else "P30D"}
    if sub_plan:
        properties["subPlan"] = sub_plan
    if tier == "Standard":
        properties["enablementTime"] = "2024-03-11T09:12:40.1921106Z"
    properties.update(extra)
    return {
        "id": f"/subscriptions/{sub_id}/providers/Microsoft.Security/pricings/{name}",
        "name": name,
        "type": "Microsoft.Security/pricings",
        "properties": properties,
    }


def pricings_for(sub_id, strong, every_plan=False):
    """Production-like subscriptions run most plans; the others mostly Free. Dns is deprecated.
    `every_plan`: a fully covered subscription (the healthy tenant), every current plan Standard."""
    if every_plan:
        return [
            dict(plan, properties=dict(plan["properties"], pricingTier="Standard"))
            if not plan["properties"].get("deprecated")
            else plan
            for plan in pricings_for(sub_id, True)
        ]
    tier = "Standard" if strong else "Free"
    storage_extensions = [
        {
            "name": "OnUploadMalwareScanning",
            "isEnabled": "True",
            "additionalExtensionProperties": {"CapGBPerMonthPerStorageAccount": "5000"},
        },
        {"name": "SensitiveDataDiscovery", "isEnabled": "False"},
    ]
    return [
        _plan(sub_id, "VirtualMachines", tier, "P2" if strong else None),
        _plan(sub_id, "SqlServers", tier),
        _plan(sub_id, "AppServices", "Free"),
        _plan(
            sub_id,
            "StorageAccounts",
            tier,
            "DefenderForStorageV2" if strong else None,
            **({"extensions": storage_extensions} if strong else {}),
        ),
        _plan(sub_id, "KeyVaults", tier, "PerKeyVault" if strong else None),
        _plan(sub_id, "Arm", "Standard", "PerSubscription"),
        _plan(
            sub_id, "Dns", "Standard" if strong else "Free", deprecated=True, replacedBy=["VirtualMachines"]
        ),
        _plan(sub_id, "Containers", tier),
        _plan(sub_id, "CloudPosture", "Free"),
    ]


# ---- storage accounts ---------------------------------------------------------------------------------


def _accounts(short, sub, index, profile, state="demo"):
    """Per granted subscription: logging fully on (2.0), read-off (1.0), off; diagnostic settings on one,
    whose archive a lifecycle rule empties after 14 days. The fleet's tenants: logging right (healthy,
    plans off, expired secret), off or kept too briefly (logging_off), or many well-logged accounts
    (busy_storage)."""
    rg = "rg-storage"
    base = f"{short[:5]}{index}"
    sid = sub.subscription_id
    if state in ("healthy", "plans_off", "credentials_expired", "subscription_missing"):
        return [AccountLogSpec(f"{base}data", sid, rg, "2.0", True, True, True, 30, False, profile)]
    if state == "logging_off":
        return [
            AccountLogSpec(f"{base}files", sid, rg, None, False, False, False, None, False, profile),
            AccountLogSpec(f"{base}backup", sid, rg, "1.0", True, True, True, 3, False, profile),
            AccountLogSpec(f"{base}media", sid, rg, "2.0", True, True, False, 5, False, profile),
        ]
    if state == "busy_storage":
        names = ("orders", "images", "exports", "archive", "telemetry", "reports")
        return [
            AccountLogSpec(f"{base}{n}", sid, rg, "2.0", True, True, True, 30, False, profile) for n in names
        ]
    if index == 0:
        return [
            AccountLogSpec(f"{base}invoices", sid, rg, "2.0", True, True, True, 30, True, profile, 14),
            AccountLogSpec(f"{base}appdata", sid, rg, "1.0", False, True, True, 7, False, profile),
            AccountLogSpec(f"{base}static", sid, rg, None, False, False, False, None, False, profile),
        ]
    return [AccountLogSpec(f"{base}data", sid, rg, "1.0", True, True, True, 90, False, profile)]


def diagnostic_settings(spec):
    """The Microsoft.Insights diagnostic settings on the account's blobServices/default."""
    if not spec.diagnostic_logs:
        return []
    logs = [
        {
            "category": c,
            "categoryGroup": None,
            "enabled": True,
            "retentionPolicy": {"enabled": True, "days": 30},
        }
        for c in ("StorageRead", "StorageWrite", "StorageDelete")
    ]
    service = f"{spec.resource_id}/blobServices/default"
    return [
        {
            "id": f"{service}/providers/microsoft.insights/diagnosticSettings/archive-to-storage",
            "name": "archive-to-storage",
            "type": "Microsoft.Insights/diagnosticSettings",
            "properties": {
                "storageAccountId": spec.resource_id,
                "logs": logs,
                "metrics": [
                    {
                        "category": "Transaction",
                        "enabled": False,
                        "retentionPolicy": {"enabled": False, "days": 0},
                    }
                ],
            },
        }
    ]


# ---- scenario -----------------------------------------------------------------------------------------


def build(seed=1, size="small", now=None, extra_alerts=0):
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}")
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(f"scenario:{seed}:{size}")
    scale = {"small": 1, "default": 3, "large": 20}[size]
    profile = LOG_PROFILE[size]
    scenario = Scenario(seed, size, now, _tenants(seed, size))
    for tenant in scenario.tenants:
        short = tenant.name.lower().replace(" ", "")
        granted = [s for s in tenant.subscriptions if s.granted]
        for index, sub in enumerate(granted):
            accounts = _accounts(short, sub, index, profile, tenant.state) if sub.state == "Enabled" else []
            scenario.accounts[sub.subscription_id] = accounts
            scenario.resources[sub.subscription_id] = _resources(rng, sub, accounts, scale)
            strong = index == 0 and tenant.state != "plans_off"
            every_plan = tenant.state in ("healthy", "busy_storage", "logging_off", "credentials_expired")
            scenario.pricings[sub.subscription_id] = pricings_for(sub.subscription_id, strong, every_plan)
    exfil_account = scenario.accounts[scenario.tenants[0].subscriptions[0].subscription_id][0]
    scenario.episode = exfiltration_episode(exfil_account.name, now, seed)
    scenario.family_episodes = family_episodes(exfil_account.name, now, seed)
    scenario.episodes[exfil_account.name] = scenario.episode
    for tenant in scenario.tenants:
        if tenant.state == "busy_storage":
            busy = scenario.accounts[tenant.subscriptions[0].subscription_id][0]
            scenario.episodes[busy.name] = exfiltration_episode(busy.name, now, seed)
    scenario_alerts.generate(scenario, rng, extra_alerts)
    return scenario
