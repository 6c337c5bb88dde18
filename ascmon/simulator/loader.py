"""Fill Azurite with what the scenario's storage accounts hold: logging settings and log blobs.

Goes through ascmon.azure.blobs (the only way into the Azure SDK). History covers `days` before the
scenario's time; `deliver_hour` adds one more hour later (the demo calls it while running), which also
re-delivers the previous hour's late and repeated lines, as Azure does.
"""

from datetime import timedelta

from ascmon.simulator import storage_activity
from ascmon.simulator.scenario import account_key

HISTORY_DAYS = {"small": 2, "default": 14, "large": 14}


def access_for(azurite_url, spec):
    from ascmon.azure.blobs import BlobAccess

    return BlobAccess(f"{azurite_url.rstrip('/')}/{spec.name}", spec.name, account_key(spec.name))


def apply_logging(azurite_url, spec):
    from ascmon.azure import blobs

    access = access_for(azurite_url, spec)
    if spec.logging_version:
        blobs.set_logging_properties(
            access,
            version=spec.logging_version,
            read=spec.read,
            write=spec.write,
            delete=spec.delete,
            retention_days=spec.retention_days,
        )
    else:
        blobs.set_logging_properties(
            access, version="1.0", read=False, write=False, delete=False, retention_days=None
        )
    return access


def upload(access, log_blobs):
    from ascmon.azure import blobs

    count, containers = 0, set()
    for item in log_blobs:
        if item.container not in containers:
            blobs.ensure_container(access, item.container)
            containers.add(item.container)
        blobs.upload_blob(access, item.container, item.name, item.data, item.metadata)
        count += 1
    return count


def deliver(azurite_url, scenario, start, end):
    """Upload the classic and Azure Monitor log blobs of every account for hours in [start, end)."""
    count = 0
    for spec in scenario.all_accounts():
        access = access_for(azurite_url, spec)
        episode = scenario.episodes.get(spec.name)
        count += upload(access, storage_activity.classic_log_blobs(spec, start, end, scenario.seed, episode))
        count += upload(access, storage_activity.monitor_log_blobs(spec, start, end, scenario.seed, episode))
    return count


def load(azurite_url, scenario, days=None, until=None):
    """Logging settings for every account, then `days` of log history up to `until` (default: the
    scenario's hour)."""
    for spec in scenario.all_accounts():
        apply_logging(azurite_url, spec)
    end = (until or scenario.now).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days if days is not None else HISTORY_DAYS[scenario.size])
    return deliver(azurite_url, scenario, start, end)


def turn_logging_on(state, tenant_id):
    """The "fixed" configuration: classic logging fully on (2.0, 30 days) for the tenant's accounts."""
    from ascmon.azure import blobs
    from ascmon.azure.errors import AzureError

    tenant = next((t for t in state.scenario.tenants if t.tenant_id == tenant_id), None)
    for sub in tenant.subscriptions if tenant else []:
        for spec in state.accounts(sub.subscription_id):
            try:
                blobs.set_logging_properties(
                    access_for(state.azurite_url, spec), version="2.0", retention_days=30
                )
            except AzureError:
                pass  # no Azurite behind this simulator (ARM-only tests): the ARM side is fixed anyway
