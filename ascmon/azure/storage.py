"""Storage accounts through the management plane: where their blob endpoint is and their key."""

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
