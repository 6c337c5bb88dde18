from django.shortcuts import render

from ascmon.roles import ANALYST, CUSTOMER_SUCCESS, role_required


@role_required(CUSTOMER_SUCCESS, ANALYST)
def device_list(request):
    return render(request, "devices/list.html", {})


def notification_list(request):
    return render(request, "devices/notifications.html", {})
