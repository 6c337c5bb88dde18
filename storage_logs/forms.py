"""The storage account page's filters over its aggregates."""

from django import forms
from django.db.models import Q


class AggregateFilterForm(forms.Form):
    """Operation, principal (id, UPN or label), client IP and a time range; blank fields do not filter."""

    operation = forms.CharField(required=False, max_length=64)
    principal = forms.CharField(required=False, max_length=300, help_text="id, UPN or part of them")
    ip = forms.CharField(required=False, max_length=64, label="Client IP")
    since = forms.DateTimeField(
        required=False, label="From (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, label="To (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def filter(self, rows):
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("operation"):
            rows = rows.filter(operation__iexact=data["operation"].strip())
        if data.get("principal"):
            text = data["principal"].strip()
            rows = rows.filter(
                Q(principal_id__icontains=text) | Q(upn__icontains=text) | Q(principal_label__icontains=text)
            )
        if data.get("ip"):
            rows = rows.filter(client_ip=data["ip"].strip())
        if data.get("since"):
            rows = rows.filter(window_end__gt=data["since"])
        if data.get("until"):
            rows = rows.filter(window_start__lt=data["until"])
        return rows
