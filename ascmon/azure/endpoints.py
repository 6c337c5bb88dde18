"""Which hosts the data plane may be sent to: blob endpoints come from ARM's answer about a customer's
storage account, so they are used only under Azure's storage host suffixes (settings.STORAGE_HOST_SUFFIXES,
ASCMON_STORAGE_HOST_SUFFIXES: the public and sovereign clouds by default; the simulator adds 127.0.0.1).
"""

from urllib.parse import urlsplit

from django.conf import settings

from ascmon.azure.errors import UntrustedEndpoint

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def host_allowed(host, suffixes):
    host = host.lower().rstrip(".")
    return any(host == suffix or host.endswith(f".{suffix}") for suffix in suffixes)


def check_blob_endpoint(endpoint, account_name=""):
    """Raise UntrustedEndpoint unless `endpoint` is https (plain http on loopback only, for Azurite) on
    the default port under one of the storage host suffixes."""
    suffixes = [s.strip().lower().lstrip(".") for s in settings.STORAGE_HOST_SUFFIXES if s.strip()]
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        host, port, parts = "", None, None
    loopback = host in LOOPBACK
    trusted = (
        parts is not None
        and not parts.username
        and host_allowed(host, suffixes)
        and (parts.scheme == "https" or (loopback and parts.scheme == "http"))
        and (port in (None, 443) or loopback)
    )
    if not trusted:
        raise UntrustedEndpoint(
            f"the blob endpoint {endpoint[:200]!r} of storage account {account_name[:64]!r} is not an Azure "
            f"storage host ({', '.join(suffixes)}); nothing was sent to it. For a sovereign or private "
            "cloud, add its blob host suffix to ASCMON_STORAGE_HOST_SUFFIXES."
        )
