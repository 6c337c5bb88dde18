"""Errors the Azure wrappers raise. `retryable` says whether trying again later can help."""


class AzureError(Exception):
    """Base: something went wrong talking to Azure."""

    retryable = False

    def __init__(self, message, *, status=None, code=None):
        super().__init__(message)
        self.status = status
        self.code = code


class BadCredentials(AzureError):
    """The tenant rejected the app's credentials: wrong secret, wrong tenant, unknown client, expired token.

    `reason` is one of "wrong_secret", "wrong_tenant", "unknown_client", "expired_token", "other".
    """

    def __init__(self, message, *, reason="other", **kwargs):
        super().__init__(message, **kwargs)
        self.reason = reason


class Forbidden(AzureError):
    """403 AuthorizationFailed: the principal has no role for this action on this scope."""


class NotFound(AzureError):
    """404: the subscription or resource does not exist (or is not visible to this tenant)."""


class BlobChanged(AzureError):
    """412: the blob's ETag is no longer the one asked for (If-Match): it was rewritten or grew."""


class Throttled(AzureError):
    """429 that outlasted the SDK's own retries. `retry_after` is in seconds when Azure said."""

    retryable = True

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Transient(AzureError):
    """5xx, a dropped connection, a timeout, or a truncated/undecodable page: try again."""

    retryable = True


class UntrustedEndpoint(AzureError):
    """An endpoint taken from Azure's answer lies outside the hosts ascmon may contact; nothing was sent."""
