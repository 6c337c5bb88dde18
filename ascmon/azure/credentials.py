"""Who ascmon is when it talks to a customer's tenant.

`Tenant` carries the app registration's identity; `get_credential` turns it into an azure-identity
credential. Against Azure the defaults apply. Against the simulator, settings.AZURE_AUTHORITY_HOST points
at the simulator's token endpoint and settings.AZURE_CA_BUNDLE at its CA: the same ClientSecretCredential
and MSAL flow run, with instance discovery off (a private authority is not in Microsoft's list).
"""

import functools
import re
from dataclasses import dataclass, field

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.identity import CertificateCredential, ClientSecretCredential
from django.conf import settings

from ascmon.azure.errors import BadCredentials, Transient

# Entra error codes (AADSTS...) and what they mean for the person who typed the details in.
AADSTS_REASONS = {
    "7000215": "wrong_secret",
    "7000222": "wrong_secret",  # the secret has expired
    "90002": "wrong_tenant",
    "900023": "wrong_tenant",  # tenant id is not a valid tenant name or id
    "700016": "unknown_client",
    "70011": "other",
}
AADSTS = re.compile(r"AADSTS(\d+)")


@dataclass(frozen=True)
class Tenant:
    """An app registration in a customer's tenant. `repr` never shows the secret."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    certificate_path: str = ""


def _endpoint_options():
    options = {}
    if settings.AZURE_AUTHORITY_HOST:
        options["authority"] = settings.AZURE_AUTHORITY_HOST
        options["disable_instance_discovery"] = True
    if settings.AZURE_CA_BUNDLE:
        options["connection_verify"] = settings.AZURE_CA_BUNDLE
    return options


@functools.lru_cache(maxsize=256)
def _credential(tenant, authority, ca_bundle):
    options = _endpoint_options()
    if tenant.certificate_path:
        return CertificateCredential(tenant.tenant_id, tenant.client_id, tenant.certificate_path, **options)
    return ClientSecretCredential(tenant.tenant_id, tenant.client_id, tenant.client_secret, **options)


def get_credential(tenant):
    """One credential per tenant and endpoint settings per process, so MSAL's token cache is reused."""
    try:
        return _credential(tenant, settings.AZURE_AUTHORITY_HOST, settings.AZURE_CA_BUNDLE)
    except ValueError as error:  # azure-identity rejects a malformed tenant id before asking anyone
        raise BadCredentials(str(error).splitlines()[0][:300], reason="wrong_tenant") from error


def _connection_failure(error):
    """azure-identity reports an unreachable token endpoint as an authentication error too."""
    seen = error
    while seen is not None:
        if isinstance(seen, (ServiceRequestError, ServiceResponseError, ConnectionError, TimeoutError)):
            return True
        seen = getattr(seen, "inner_exception", None) or seen.__cause__ or seen.__context__
        if seen is error:
            return False
    return False


def bad_credentials(error):
    """A ClientAuthenticationError (from the token endpoint or ARM's 401) as BadCredentials with a reason,
    or Transient when the token endpoint could not be reached at all."""
    message = str(getattr(error, "message", None) or error)
    code = getattr(getattr(error, "error", None), "code", None)
    found = AADSTS.search(message)
    if not found and not code and _connection_failure(error):
        return Transient(f"the token endpoint cannot be reached: {message.splitlines()[0][:200]}")
    if found:
        reason = AADSTS_REASONS.get(found.group(1), "other")
    elif code == "ExpiredAuthenticationToken":
        reason = "expired_token"
    elif code == "InvalidAuthenticationTokenTenant":
        reason = "wrong_tenant"
    else:
        reason = "other"
    # The first line only: Entra appends trace ids and timestamps that help nobody in the UI.
    first = message.strip().splitlines()[0] if message.strip() else "authentication failed"
    return BadCredentials(
        first[:300], reason=reason, status=getattr(error, "status_code", None) or 401, code=code
    )
