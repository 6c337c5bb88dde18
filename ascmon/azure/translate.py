"""azure-core exceptions as the errors in errors.py, for the management and the blob data plane alike."""

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

from ascmon.azure.credentials import bad_credentials
from ascmon.azure.errors import AzureError, BadCredentials, Forbidden, NotFound, Throttled, Transient

SDK_ERRORS = (HttpResponseError, ServiceRequestError, ServiceResponseError, ClientAuthenticationError)


def retry_after(response):
    """Seconds the answer asks us to wait: Retry-After (seconds or an HTTP date) or x-ms-retry-after-ms."""
    headers = response.headers if response is not None else {}
    millis = headers.get("x-ms-retry-after-ms") or headers.get("retry-after-ms")
    if millis and millis.strip().isdigit():
        return int(millis) / 1000
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(parsed.timestamp() - time.time()))


def _code(error):
    """The error code: ARM's error body (`error.error.code`) or the storage header (`error_code`)."""
    return getattr(error, "error_code", None) or getattr(getattr(error, "error", None), "code", None)


def _message(error):
    text = str(getattr(error, "message", None) or error).strip()
    return text.splitlines()[0][:500] if text else type(error).__name__


def translate(error):
    """An azure-core exception as the ascmon.azure.errors type that says whether a retry can help."""
    if isinstance(error, AzureError):
        return error
    status = getattr(error, "status_code", None)
    code = _code(error)
    message = _message(error)
    if code == "AuthenticationFailed" or "failed to authenticate the request" in message:
        # The blob service refused the account key's signature (Azurite says AuthorizationFailure).
        return BadCredentials(message, reason="wrong_secret", status=status, code=code)
    if isinstance(error, ClientAuthenticationError):
        return bad_credentials(error)
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
        except SDK_ERRORS as error:
            raise translate(error) from error

    return wrapped
