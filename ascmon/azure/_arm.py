"""What every management-plane wrapper shares: client options, one client per process, error mapping
(translate.py, shared with the blob data plane)."""

import functools

from django.conf import settings

from ascmon.azure import budget
from ascmon.azure.credentials import get_credential
from ascmon.azure.transport import BudgetTransport


def client_options(tenant=None):
    """base_url, CA bundle and retries from the settings (empty settings: the SDK's Azure defaults), and
    for a tenant's client the transport that keeps to the tenant's shared budget (transport.py)."""
    # azure-core waits 300 s for a read by default: an inventory must not hang that long on one call.
    connection = {"connection_timeout": 10, "read_timeout": 60}
    if settings.AZURE_CA_BUNDLE:
        connection["connection_verify"] = settings.AZURE_CA_BUNDLE
    options = {"retry_total": settings.AZURE_RETRY_TOTAL, **connection}
    if settings.AZURE_MANAGEMENT_URL:
        options["base_url"] = settings.AZURE_MANAGEMENT_URL
    if tenant is not None:
        options["transport"] = BudgetTransport(budget.tenant_key(tenant.tenant_id), **connection)
    return options


def settings_key():
    return (
        settings.AZURE_MANAGEMENT_URL,
        settings.AZURE_AUTHORITY_HOST,
        settings.AZURE_CA_BUNDLE,
        settings.AZURE_RETRY_TOTAL,
        settings.REDIS_URL,
        settings.AZURE_BUDGET_PATH,
    )


def cached_client(factory):
    """Decorate `factory(tenant, *args)` so each (tenant, args, endpoint settings) builds one client."""
    cached = functools.lru_cache(maxsize=512)(lambda tenant, key, *args: factory(tenant, *args))

    @functools.wraps(factory)
    def client(tenant, *args):
        return cached(tenant, settings_key(), *args)

    client.cache_clear = cached.cache_clear
    return client


def enum_text(value):
    """An SDK enum (or a plain string) as the text Azure sent: "Enabled", not "SubscriptionState.ENABLED";
    None is ""."""
    return str(getattr(value, "value", value) or "")


def credential(tenant):
    return get_credential(tenant)
