"""Storage accounts through the management plane: where their blob endpoint is and their key."""

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.storage import StorageManagementClient

from ascmon.azure import budget
from ascmon.azure._arm import cached_client, client_options, credential, enum_text
from ascmon.azure.resource_ids import parse_resource_id
from ascmon.azure.translate import azure_errors


@cached_client
def _client(tenant, subscription_id):
    return StorageManagementClient(credential(tenant), subscription_id, **client_options(tenant))


@azure_errors
def list_storage_accounts(tenant, subscription_id):
    return [
        {
            "id": account.id,
            "name": account.name,
            "resource_group": parse_resource_id(account.id).get("resource_group", ""),
            "location": account.location or "",
            "kind": enum_text(account.kind),
            "sku": enum_text(account.sku.name) if account.sku else "",
            "blob_endpoint": (account.primary_endpoints.blob or "") if account.primary_endpoints else "",
        }
        for account in _client(tenant, subscription_id).storage_accounts.list()
    ]


@azure_errors
def get_account_key(tenant, account_id):
    """key1 of the account (listKeys needs the Storage Account Key Operator role or Contributor)."""
    parts = parse_resource_id(account_id)
    keys = _client(tenant, parts["subscription_id"]).storage_accounts.list_keys(
        parts["resource_group"], parts["name"]
    )
    # azure-mgmt-storage 25 models are mappings, where `.keys` is the Mapping method: index instead.
    key = keys["keys"][0]["value"]
    budget.remember_key(key, tenant.tenant_id)  # reads with this key count against the tenant's budget
    return key


@azure_errors
def get_log_lifecycle_days(tenant, account_id):
    """Fewest days after which an enabled lifecycle management rule deletes blobs of the insights-logs-*
    containers (where diagnostic settings archive logs); None when no rule does, or there is no policy.
    Retention in diagnostic settings ended in September 2025: lifecycle rules replace it
    (docs/azure-formats.md, 6.4)."""
    parts = parse_resource_id(account_id)
    try:
        policy = _client(tenant, parts["subscription_id"]).management_policies.get(
            parts["resource_group"], parts["name"], "default"
        )
    except ResourceNotFoundError:
        return None
    days = [delete_days(rule.definition) for rule in (policy.policy.rules or ()) if rule.enabled is not False]
    days = [d for d in days if d is not None]
    return min(days) if days else None


def delete_days(definition):
    """The days after which a rule's definition deletes base blobs of the insights-logs containers."""
    prefixes = (definition.filters.prefix_match if definition.filters else None) or [""]
    if not any("insights-logs-".startswith(p) or p.startswith("insights-logs-") for p in prefixes):
        return None
    base = definition.actions.base_blob if definition.actions else None
    delete = base.delete if base else None
    if delete is None:
        return None
    found = [
        delete.days_after_modification_greater_than,
        delete.days_after_creation_greater_than,
        delete.days_after_last_access_time_greater_than,
    ]
    found = [int(d) for d in found if d is not None]
    return min(found) if found else None
