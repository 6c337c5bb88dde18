"""Health checks: what one inventory saw in, findings out. Pure data, no Django, no Azure.

`evaluate` returns the findings that are open now. Subjects whose data could not be read this time are
listed in `Observation.unsure`: their findings neither open nor resolve until a run sees them again.
"""

from dataclasses import dataclass, field

from devices.choices import FindingKind

# Defender plan -> the resource types it protects (lower case). Deprecated plans are never flagged.
PLAN_RESOURCE_TYPES = {
    "StorageAccounts": ("microsoft.storage/storageaccounts",),
    "VirtualMachines": ("microsoft.compute/virtualmachines", "microsoft.compute/virtualmachinescalesets"),
    "SqlServers": ("microsoft.sql/servers",),
    "AppServices": ("microsoft.web/sites",),
    "KeyVaults": ("microsoft.keyvault/vaults",),
    "Containers": ("microsoft.containerservice/managedclusters", "microsoft.containerregistry/registries"),
    "CosmosDbs": ("microsoft.documentdb/databaseaccounts",),
    "SqlServerVirtualMachines": ("microsoft.sqlvirtualmachine/sqlvirtualmachines",),
    "OpenSourceRelationalDatabases": (
        "microsoft.dbforpostgresql/servers",
        "microsoft.dbforpostgresql/flexibleservers",
        "microsoft.dbformysql/servers",
        "microsoft.dbformysql/flexibleservers",
        "microsoft.dbformariadb/servers",
    ),
    "Api": ("microsoft.apimanagement/service",),
}
READ_CATEGORIES = {"storageread", "alllogs", "audit"}


@dataclass
class SubscriptionSeen:
    """A visible subscription; None means "could not be read this run"."""

    subscription_id: str
    display_name: str = ""
    state: str = "Enabled"
    resources: dict | None = None
    pricings: list | None = None
    alerts_forbidden: bool | None = None
    activity_forbidden: bool | None = None  # the Activity Log (ascmon/azure/activity.py)


@dataclass
class AccountSeen:
    """A storage account with its classic logging and diagnostic settings (None: unknown)."""

    resource_id: str
    name: str
    subscription_id: str
    logging: dict | None = None
    diagnostic_settings: list | None = None
    lifecycle_days: int | None = None  # days a lifecycle rule keeps the diagnostic archive's log blobs


@dataclass
class Observation:
    """Everything one inventory run learnt about a device."""

    expected: list = field(default_factory=list)
    subscriptions: list = field(default_factory=list)
    accounts: list = field(default_factory=list)
    unsure: set = field(default_factory=set)


@dataclass(frozen=True)
class Found:
    """An open finding: `subject` tells findings of the same kind apart; `facts` feed the fix text."""

    kind: str
    subject: str
    subscription_id: str = ""
    facts: tuple = ()

    def fact(self, name, default=""):
        return dict(self.facts).get(name, default)


def evaluate(seen, baseline_days, evidence_days=None):
    """The open findings; `evidence_days` is how far back the SOC investigates with raw log lines."""
    return [
        *missing_subscriptions(seen),
        *disabled_subscriptions(seen),
        *alerts_forbidden(seen),
        *activity_forbidden(seen),
        *defender_coverage(seen),
        *storage_logging(seen, baseline_days),
        *evidence_retention(seen, baseline_days, evidence_days),
    ]


def missing_subscriptions(seen):
    visible = {sub.subscription_id.lower() for sub in seen.subscriptions}
    for sub_id in seen.expected:
        if sub_id.lower() not in visible:
            yield Found(FindingKind.SUBSCRIPTION_MISSING, sub_id, sub_id)


def disabled_subscriptions(seen):
    for sub in seen.subscriptions:
        if sub.state and sub.state != "Enabled":
            facts = (("state", sub.state), ("name", sub.display_name))
            yield Found(FindingKind.SUBSCRIPTION_DISABLED, sub.subscription_id, sub.subscription_id, facts)


def alerts_forbidden(seen):
    for sub in seen.subscriptions:
        if sub.alerts_forbidden:
            facts = (("name", sub.display_name),)
            yield Found(FindingKind.ALERTS_FORBIDDEN, sub.subscription_id, sub.subscription_id, facts)


def activity_forbidden(seen):
    for sub in seen.subscriptions:
        if sub.activity_forbidden:
            facts = (("name", sub.display_name),)
            yield Found(FindingKind.ACTIVITY_LOG_FORBIDDEN, sub.subscription_id, sub.subscription_id, facts)


def defender_coverage(seen):
    for sub in seen.subscriptions:
        if not sub.pricings:
            continue
        current = [plan for plan in sub.pricings if not plan.get("deprecated")]
        if not any(plan_on(plan) for plan in current):
            facts = (("name", sub.display_name),)
            yield Found(FindingKind.DEFENDER_OFF, sub.subscription_id, sub.subscription_id, facts)
        elif sub.resources is not None:
            yield from plans_off_for_resources(sub, current)


def plans_off_for_resources(sub, plans):
    present = {rtype.lower(): count for rtype, count in sub.resources.items() if count}
    for plan in plans:
        if plan_on(plan):
            continue
        count = sum(present.get(rtype, 0) for rtype in PLAN_RESOURCE_TYPES.get(plan["name"], ()))
        if count:
            facts = (("plan", plan["name"]), ("count", count), ("name", sub.display_name))
            subject = f"{sub.subscription_id}/{plan['name']}"
            yield Found(FindingKind.PLAN_OFF, subject, sub.subscription_id, facts)


def plan_on(plan):
    return (plan.get("pricing_tier") or "").lower() == "standard"


def storage_logging(seen, baseline_days):
    for account in seen.accounts:
        if account.logging is None or account.diagnostic_settings is None:
            continue
        facts = (("account", account.name),)
        if not reads_logged(account):
            yield Found(FindingKind.READ_LOGGING_OFF, account.resource_id, account.subscription_id, facts)
        kept = shortest_retention(account)
        if kept and kept < baseline_days:
            facts += (("days", kept), ("baseline", baseline_days))
            yield Found(FindingKind.RETENTION_TOO_SHORT, account.resource_id, account.subscription_id, facts)


def evidence_retention(seen, baseline_days, evidence_days):
    """Raw lines kept fewer days than the SOC investigates: classic logging's retention, or the lifecycle
    rule on the diagnostic archive (retention in diagnostic settings ended in September 2025). An account
    already told its logs are shorter than the baseline (RETENTION_TOO_SHORT) is told that first."""
    if not evidence_days:
        return
    for account in seen.accounts:
        if account.logging is None or account.diagnostic_settings is None:
            continue
        kept, shorter = evidence_kept(account), shortest_retention(account)
        if kept and kept < evidence_days and not (shorter and shorter < baseline_days):
            facts = (("account", account.name), ("days", kept), ("window", evidence_days))
            yield Found(FindingKind.EVIDENCE_TOO_SHORT, account.resource_id, account.subscription_id, facts)


def evidence_kept(account):
    """Fewest days any of the account's raw log lines stay readable (None: nothing deletes them)."""
    classic = account.logging
    days = []
    if classic.get("read") or classic.get("write") or classic.get("delete"):
        days.append(classic.get("retention_days"))
    if any(setting.get("storage_account_id") for setting in account.diagnostic_settings):
        days.append(account.lifecycle_days)
    limited = [d for d in days if d]
    return min(limited) if limited else None


def diagnostic_logs(account):
    """Enabled log categories of diagnostic settings that send somewhere."""
    for setting in account.diagnostic_settings:
        if setting.get("storage_account_id") or setting.get("workspace_id"):
            yield from (log for log in setting.get("logs") or () if log.get("enabled"))


def reads_logged(account):
    if account.logging.get("read"):
        return True
    return any(
        (log.get("category") or log.get("category_group") or "").lower() in READ_CATEGORIES
        for log in diagnostic_logs(account)
    )


def shortest_retention(account):
    """Fewest days any enabled log is kept (None: no limit, or no logging at all)."""
    classic = account.logging
    days = []
    if classic.get("read") or classic.get("write") or classic.get("delete"):
        days.append(classic.get("retention_days"))
    days.extend(log.get("retention_days") for log in diagnostic_logs(account))
    limited = [d for d in days if d]
    return min(limited) if limited else None
