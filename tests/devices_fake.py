"""A stand-in for the ascmon.azure wrappers with plain data, for device tests that need no simulator.

It follows the wrapper contract in ascmon/azure/__init__.py; the simulator tests run the real wrappers.
"""

import copy
from types import SimpleNamespace

from ascmon.azure.errors import BadCredentials, Forbidden, Throttled

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"
SECRET = "Zq8~s3cr3t-VALUE-never-shown-0123456789"
PROD = "aaaaaaaa-0000-0000-0000-000000000001"
DEV = "aaaaaaaa-0000-0000-0000-000000000002"
GONE = "aaaaaaaa-0000-0000-0000-000000000003"


def account(name, sub=PROD):
    rid = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{name}"
    return {
        "id": rid,
        "name": name,
        "resource_group": "rg",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": "Standard_LRS",
        "blob_endpoint": f"https://{name}.blob.example/",
    }


def logging(read=True, retention=30):
    return {"version": "2.0", "read": read, "write": True, "delete": True, "retention_days": retention}


def broken_scenario():
    """Every finding kind the inventory can see, except the two that come from failures."""
    return {
        "subscriptions": [
            {"subscription_id": PROD, "display_name": "Prod", "state": "Enabled", "tenant_id": TENANT},
            {"subscription_id": DEV, "display_name": "Dev", "state": "Disabled", "tenant_id": TENANT},
        ],
        "resources": {
            PROD: {"Microsoft.Storage/storageAccounts": 2, "Microsoft.Compute/virtualMachines": 3},
            DEV: {"Microsoft.Web/sites": 1},
        },
        "pricings": {
            PROD: [
                {"name": "StorageAccounts", "pricing_tier": "Free"},
                {"name": "VirtualMachines", "pricing_tier": "Standard", "sub_plan": "P2"},
                {
                    "name": "Dns",
                    "pricing_tier": "Free",
                    "deprecated": True,
                    "replaced_by": ["VirtualMachines"],
                },
            ],
            DEV: [
                {"name": "StorageAccounts", "pricing_tier": "Free"},
                {"name": "AppServices", "pricing_tier": "Free"},
            ],
        },
        "alerts_forbidden": {DEV},
        "accounts": {PROD: [account("prodlogs"), account("proddata")], DEV: []},
        "logging": {"prodlogs": logging(read=False, retention=20), "proddata": logging(retention=3)},
        "diagnostics": {},
        "throttle": set(),
    }


def fixed_scenario(expected=(PROD, DEV, GONE)):
    state = broken_scenario()
    state["subscriptions"].append(
        {"subscription_id": GONE, "display_name": "Gone", "state": "Enabled", "tenant_id": TENANT}
    )
    state["subscriptions"][1]["state"] = "Enabled"
    for plans in state["pricings"].values():
        for plan in plans:
            plan["pricing_tier"] = "Standard"
    state["pricings"][GONE] = [{"name": "StorageAccounts", "pricing_tier": "Standard"}]
    state["alerts_forbidden"] = set()
    state["logging"] = {"prodlogs": logging(), "proddata": logging(retention=90)}
    return state


class FakeAzure:
    """The wrapper modules as namespaces over one mutable scenario."""

    def __init__(self, state=None, tenant_id=TENANT, client_id=CLIENT, secret=SECRET):
        self.state = copy.deepcopy(state or broken_scenario())
        self.identity = (tenant_id, client_id, secret)
        self.calls = 0
        self.subscriptions = SimpleNamespace(
            verify_credentials=self.verify_credentials, list_subscriptions=self.list_subscriptions
        )
        self.resources = SimpleNamespace(count_resources=self.count_resources)
        self.security = SimpleNamespace(
            iter_alert_pages=self.iter_alert_pages, list_pricings=self.list_pricings
        )
        self.storage = SimpleNamespace(
            list_storage_accounts=self.list_storage_accounts,
            get_account_key=self.get_account_key,
            get_log_lifecycle_days=self.get_log_lifecycle_days,
        )
        self.monitor = SimpleNamespace(list_diagnostic_settings=self.list_diagnostic_settings)
        self.activity = SimpleNamespace(can_read=self.can_read_activity)
        self.blobs = SimpleNamespace(
            BlobAccess=SimpleNamespace, get_logging_properties=self.get_logging_properties
        )

    def verify_credentials(self, tenant):
        self.calls += 1
        tenant_id, client_id, secret = self.identity
        if tenant.tenant_id != tenant_id:
            raise BadCredentials("AADSTS90002: Tenant not found.", reason="wrong_tenant", status=400)
        if tenant.client_id != client_id:
            raise BadCredentials("AADSTS700016: Application not found.", reason="unknown_client", status=400)
        if tenant.client_secret != secret:
            raise BadCredentials("AADSTS7000215: Invalid client secret.", reason="wrong_secret", status=401)

    def list_subscriptions(self, tenant):
        self.verify_credentials(tenant)
        return copy.deepcopy(self.state["subscriptions"])

    def _sub_call(self, sub_id, what):
        if (sub_id, what) in self.state["throttle"]:
            raise Throttled("429 Too Many Requests", retry_after=30, status=429)

    def can_read_activity(self, tenant, sub_id):
        self._sub_call(sub_id, "activity")
        if sub_id in self.state.get("activity_forbidden", ()):
            raise Forbidden("AuthorizationFailed: Microsoft.Insights/eventtypes/values/read", status=403)
        return True

    def count_resources(self, tenant, sub_id):
        self._sub_call(sub_id, "resources")
        return dict(self.state["resources"].get(sub_id, {}))

    def iter_alert_pages(self, tenant, sub_id, continuation=None):
        if sub_id in self.state["alerts_forbidden"]:
            raise Forbidden("AuthorizationFailed: no Microsoft.Security/alerts/read", status=403)
        yield SimpleNamespace(alerts=[], rejected=[], next_link=None)

    def list_pricings(self, tenant, sub_id):
        self._sub_call(sub_id, "pricings")
        return copy.deepcopy(self.state["pricings"].get(sub_id, []))

    def list_storage_accounts(self, tenant, sub_id):
        return copy.deepcopy(self.state["accounts"].get(sub_id, []))

    def get_account_key(self, tenant, account_id):
        return "a2V5"

    def get_log_lifecycle_days(self, tenant, account_id):
        return self.state.get("lifecycle", {}).get(account_id.rsplit("/", 1)[-1])

    def list_diagnostic_settings(self, tenant, resource_uri):
        return copy.deepcopy(self.state["diagnostics"].get(resource_uri.split("/")[8], []))

    def get_logging_properties(self, access):
        return dict(self.state["logging"][access.account_name])
