"""How many resources of each type a subscription holds."""

from collections import Counter

from azure.mgmt.resource.resources import ResourceManagementClient

from ascmon.azure._arm import cached_client, client_options, credential
from ascmon.azure.translate import azure_errors


@cached_client
def _client(tenant, subscription_id):
    return ResourceManagementClient(credential(tenant), subscription_id, **client_options(tenant))


@azure_errors
def count_resources(tenant, subscription_id):
    return dict(Counter(resource.type for resource in _client(tenant, subscription_id).resources.list()))
