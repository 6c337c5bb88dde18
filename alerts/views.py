from django.shortcuts import render

from ascmon.roles import ANALYST, role_required


@role_required(ANALYST)
def alert_list(request):
    return render(request, "alerts/list.html", {})
