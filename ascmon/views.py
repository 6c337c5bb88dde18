from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from ascmon.roles import ANALYST, CUSTOMER_SUCCESS, ROLE_LABELS, has_role, roles_of


def home(request):
    """Send each role to the page it starts its day on."""
    if has_role(request.user, ANALYST):
        return redirect("alerts:list")
    if has_role(request.user, CUSTOMER_SUCCESS):
        return redirect("devices:list")
    return render(request, "ascmon/no_role.html")


@login_not_required
def healthz(request):
    """Liveness for the proxy and the demo launcher; says nothing about tenants."""
    return JsonResponse({"ok": True})


@login_not_required
def favicon(request):
    """Browsers (and the admin's pages) ask for /favicon.ico whatever the page links."""
    return redirect(static("ascmon/favicon.svg"), permanent=True)


def current_page(request):
    """The page an htmx request was sent from (HX-Current-URL), as a local path, or the home page."""
    url = request.headers.get("HX-Current-URL", "")
    parts = urlsplit(url)
    page = parts.path + (f"?{parts.query}" if parts.query else "")
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()) and page:
        return page
    return resolve_url("home")


def to_login(request):
    """An htmx request that needs a login: send the whole browser to log in and come back to the page it
    was on. The page's script keeps what was typed in the form meanwhile (ascmon/static/ascmon/app.js)."""
    response = HttpResponse(status=204)
    response["HX-Redirect"] = (
        f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': current_page(request)})}"
    )
    return response


@login_not_required
def login(request, *args, **kwargs):
    """Django's login page; an htmx request redirected here (its session ran out) gets a full-page
    redirect instead of the login form swapped into the middle of a page."""
    if request.htmx and request.method == "GET":
        return to_login(request)
    return auth_views.LoginView.as_view()(request, *args, **kwargs)


@login_not_required
def csrf_failure(request, reason=""):
    """A form sent with a token that is no longer valid (logged out or in again in another tab): log in
    or reload, then send it again; the input is kept."""
    if request.htmx:
        if not request.user.is_authenticated:
            return to_login(request)
        response = HttpResponse(status=403)
        response["HX-Redirect"] = current_page(request)
        return response
    context = {"title": "Your session has changed", "reason": "csrf"}
    return render(request, "403.html", context, status=403)


def permission_denied(request, exception=None):
    """403 in the site's layout, naming the role the page needs and the roles the user holds."""
    needed = getattr(exception, "roles", None) or ()
    context = {
        "title": "Not for your role",
        "needed": [ROLE_LABELS.get(role, role) for role in needed],
        "held": [ROLE_LABELS.get(role, role) for role in sorted(roles_of(request.user))],
        "message": "" if needed else str(exception or ""),
    }
    return render(request, "403.html", context, status=403)
