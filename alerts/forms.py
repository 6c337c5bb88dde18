from django import forms
from django.contrib.auth import get_user_model

from alerts.choices import AzureStatus, Severity, TriageStatus
from alerts.models import AlertType
from alerts.normalize import SEVERITIES
from ascmon.roles import ADMIN, ANALYST
from devices.models import Device

SUPPRESSED = [("", "Hide suppressed"), ("include", "Include suppressed"), ("only", "Only suppressed")]
SORTS = {
    "time": "time_generated",
    "severity": "severity_rank",
    "type": "alert_type",
    "device": "device__name",
    "status": "triage_status",
    "entity": "compromised_entity",
}


class AlertFilterForm(forms.Form):
    """The list's filters; a plain GET form, so the page works without JavaScript."""

    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    device = forms.ModelChoiceField(Device.objects.all(), required=False, empty_label="All devices")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any triage status"), *TriageStatus.choices], required=False)
    azure_status = forms.ChoiceField(choices=[("", "Any Azure status"), *AzureStatus.choices], required=False)
    alert_type = forms.ChoiceField(required=False, label="Type")
    product = forms.ChoiceField(required=False)
    new_types = forms.BooleanField(required=False, label="New types only")
    suppressed = forms.ChoiceField(choices=SUPPRESSED, required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = list(AlertType.objects.values_list("name", "product_name"))
        self.fields["alert_type"].choices = [("", "Any type")] + [(name, name) for name, _ in types]
        products = sorted({product for _, product in types if product})
        self.fields["product"].choices = [("", "Any product")] + [(p, p) for p in products]

    def filter(self, alerts):
        data = self.cleaned_data
        lookups = {
            "device": "device",
            "status": "triage_status",
            "azure_status": "status",
            "alert_type": "alert_type",
            "product": "product_name",
        }
        alerts = alerts.filter(**{field: data[name] for name, field in lookups.items() if data.get(name)})
        if data.get("severity"):
            alerts = alerts.filter(severity_rank=SEVERITIES[data["severity"]])  # the indexed twin of severity
        if data.get("new_types"):
            alerts = alerts.filter(
                is_new_type__in=[True]
            )  # "IN (1)" can use the index; bare "is_new_type" cannot
        if data.get("suppressed") == "only":
            alerts = alerts.filter(suppressed_by__isnull=False)
        elif data.get("suppressed") != "include":
            alerts = alerts.filter(suppressed_by__isnull=True)
        if data.get("q"):
            alerts = search(alerts, data["q"])
        return alerts.filter(duplicate_of__isnull=True)

    def ordering(self):
        key = self.cleaned_data.get("sort") or "-time"
        field = SORTS.get(key.lstrip("-"), "time_generated")
        sign = "-" if key.startswith("-") else ""
        if field == "time_generated":  # the list indexes end in (time, severity rank, id)
            return [f"{sign}time_generated", f"{sign}severity_rank", f"{sign}id"]
        return [f"{sign}{field}", "-time_generated", "-severity_rank", "-id"]


def search(alerts, text):
    """Substring search over name, type, compromised entity and entity values (one column, one scan)."""
    return alerts.filter(search_text__contains=text.strip()[:200].lower())


def analysts():
    return (
        get_user_model()
        .objects.filter(groups__name__in=[ANALYST, ADMIN], is_active=True)
        .distinct()
        .order_by("username")
    )


class TriageForm(forms.Form):
    triage_status = forms.ChoiceField(choices=TriageStatus.choices, label="Status")
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = analysts()


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Comment")
