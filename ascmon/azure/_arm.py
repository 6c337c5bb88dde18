"""What every management-plane wrapper shares: client options, one client per process, error mapping."""

import email.utils
import functools
import time

from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from django.conf import settings

from ascmon.azure.credentials import bad_credentials, get_credential
from ascmon.azure.errors import AzureError, Forbidden, NotFound, Throttled, Transient


def client_options():
    """base_url, CA bundle and retries from the settings (empty settings: the SDK's Azure defaults)."""
    # azure-core waits 300 s for a read by default: an inventory must not hang that long on one call.
    options = {"retry_total": settings.AZURE_RETRY_TOTAL, "connection_timeout": 10, "read_timeout": 60}
    if settings.AZURE_MANAGEMENT_URL:
        options["base_url"] = settings.AZURE_MANAGEMENT_URL
    if settings.AZURE_CA_BUNDLE:
        options["connection_verify"] = settings.AZURE_CA_BUNDLE
    return options


def settings_key():
    return (
        settings.AZURE_MANAGEMENT_URL,
        settings.AZURE_AUTHORITY_HOST,
        settings.AZURE_CA_BUNDLE,
        settings.AZURE_RETRY_TOTAL,
    )


def cached_client(factory):
    """Decorate `factory(tenant, *args)` so each (tenant, args, endpoint settings) builds one client."""
    cached = functools.lru_cache(maxsize=512)(lambda tenant, key, *args: factory(tenant, *args))

    @functools.wraps(factory)
    def client(tenant, *args):
        return cached(tenant, settings_key(), *args)

    client.cache_clear = cached.cache_clear
    return client


def text(value):
    """An SDK enum or string as plain text ("Enabled", not "SubscriptionState.ENABLED")."""
    return str(getattr(value, "value", value) or "")


def credential(tenant):
    return get_credential(tenant)


def retry_after(response):
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    if value.isdigit():
        return int(value)
    parsed = email.utils.parsedate_to_datetime(value)
    return max(0, int(parsed.timestamp() - time.time())) if parsed else None


def translate(error):
    """An azure-core exception as the ascmon.azure.errors type that says whether a retry can help."""
    if isinstance(error, AzureError):
        return error
    if isinstance(error, ClientAuthenticationError):
        return bad_credentials(error)
    status = getattr(error, "status_code", None)
    code = getattr(getattr(error, "error", None), "code", None)
    message = (
        str(getattr(error, "message", None) or error).strip().splitlines()[0][:500] if str(error) else ""
    )
    if isinstance(error, DecodeError):
        return Transient(f"undecodable answer: {message}", status=status)
    if isinstance(error, ResourceNotFoundError) or status == 404:
        return NotFound(message, status=404, code=code)
    if status == 403:
        return Forbidden(message, status=403, code=code)
    if status == 429:
        return Throttled(message, status=429, code=code, retry_after=retry_after(error.response))
    if isinstance(error, (ServiceRequestError, ServiceResponseError)) or (status and status >= 500):
        return Transient(message, status=status, code=code)
    if isinstance(error, HttpResponseError):
        return AzureError(message, status=status, code=code)
    return Transient(message)


def azure_errors(function):
    """Run `function`, raising ascmon.azure.errors instead of azure-core exceptions."""

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (
            HttpResponseError,
            ServiceRequestError,
            ServiceResponseError,
            ClientAuthenticationError,
        ) as error:
            raise translate(error) from error

    return wrapped
