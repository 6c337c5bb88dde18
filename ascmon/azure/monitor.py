"""Azure Monitor diagnostic settings of a resource (azure-mgmt-monitor 6.x: 7.0 dropped the group)."""

from azure.mgmt.monitor import MonitorManagementClient

from ascmon.azure._arm import cached_client, client_options, credential
from ascmon.azure.resource_ids import parse_resource_id
from ascmon.azure.translate import azure_errors


@cached_client
def _client(tenant, subscription_id):
    return MonitorManagementClient(credential(tenant), subscription_id, **client_options(tenant))


def _log(entry):
    retention = entry.retention_policy
    return {
        "category": entry.category or "",
        "category_group": entry.category_group or "",
        "enabled": bool(entry.enabled),
        "retention_days": retention.days if retention and retention.enabled else None,
    }


@azure_errors
def list_diagnostic_settings(tenant, resource_uri):
    """Settings on `resource_uri` (for storage logs: the account's .../blobServices/default)."""
    subscription_id = parse_resource_id(resource_uri)["subscription_id"]
    return [
        {
            "name": setting.name,
            "storage_account_id": setting.storage_account_id or "",
            "workspace_id": setting.workspace_id or "",
            "logs": [_log(entry) for entry in setting.logs or ()],
        }
        for setting in _client(tenant, subscription_id).diagnostic_settings.list(resource_uri)
    ]
