"""Who is knocking: the client address that login throttling counts failures against."""

from django.conf import settings
from django.shortcuts import render


def client_ip(request):
    """REMOTE_ADDR, or behind ASCMON_BEHIND_PROXY the address our proxy appended to X-Forwarded-For.

    Only the last entry is the proxy's own word; earlier ones are whatever the client sent."""
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


def locked_out(request, response=None, credentials=None):
    """django-axes' answer to a locked-out login: the login page's look, a 429, and how long to wait."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
