"""Subscriptions the app registration can see, and whether its credentials work at all."""

from azure.core.exceptions import ClientAuthenticationError
from azure.mgmt.resource.subscriptions import SubscriptionClient

from ascmon.azure._arm import cached_client, client_options, credential, enum_text
from ascmon.azure.credentials import bad_credentials
from ascmon.azure.translate import azure_errors

MANAGEMENT_SCOPE = "https://management.azure.com/.default"


@cached_client
def _client(tenant):
    return SubscriptionClient(credential(tenant), **client_options(tenant))


@azure_errors
def verify_credentials(tenant):
    """Ask Entra for a management token; raises BadCredentials(reason=...) when it says no."""
    try:
        credential(tenant).get_token(MANAGEMENT_SCOPE)
    except ClientAuthenticationError as error:
        raise bad_credentials(error) from error


@azure_errors
def list_subscriptions(tenant):
    """Subscriptions the principal holds a role on; those it cannot read are simply absent."""
    return [
        {
            "subscription_id": sub.subscription_id,
            "display_name": sub.display_name or "",
            "state": enum_text(sub.state),
            "tenant_id": sub.tenant_id or "",
        }
        for sub in _client(tenant).subscriptions.list()
    ]
