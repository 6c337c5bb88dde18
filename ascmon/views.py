from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect, render

from ascmon.roles import ANALYST, CUSTOMER_SUCCESS, has_role


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
