from django.shortcuts import render

from ascmon.roles import CUSTOMER_SUCCESS, role_required


@role_required(CUSTOMER_SUCCESS)
def cost(request):
    return render(request, "storage_logs/cost.html", {})
