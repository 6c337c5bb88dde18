from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import QueryDict

from alerts.choices import DETERMINATIONS, AzureStatus, Classification, Determination, Severity, TriageStatus
from alerts.models import AlertEntity, AlertType
from alerts.normalize import SEVERITIES
from ascmon.roles import ADMIN, ANALYST
from ascmon.sorting import ASCENDING, DESCENDING
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
# A column's first click: newest and most severe first, names A to Z (ascmon/sorting.py).
SORT_DIRECTIONS = {key: DESCENDING if key in ("time", "severity") else ASCENDING for key in SORTS}
# Exact-match filters that pivots (links on entities, subscriptions, correlation keys) set.
PIVOTS = {
    "entity": "Entity",
    "kind": "Entity kind",
    "subscription": "Subscription",
    "correlation": "Correlation key",
}


class AlertFilterForm(forms.Form):
    """The list's filters; a plain GET form, so the page works without JavaScript."""

    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    device = forms.ModelChoiceField(Device.objects.all(), required=False, empty_label="All devices")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any triage status"), *TriageStatus.choices], required=False, label="Triage status"
    )
    azure_status = forms.ChoiceField(choices=[("", "Any Azure status"), *AzureStatus.choices], required=False)
    alert_type = forms.ChoiceField(required=False, label="Type")
    product = forms.ChoiceField(required=False)
    new_types = forms.BooleanField(required=False, label="New types only")
    suppressed = forms.ChoiceField(choices=SUPPRESSED, required=False)
    entity = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
    kind = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    subscription = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    correlation = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = list(AlertType.objects.values_list("name", "product_name"))
        self.fields["alert_type"].choices = [("", "Any type")] + [(name, name) for name, _ in types]
        products = sorted({product for _, product in types if product})
        self.fields["product"].choices = [("", "Any product")] + [(p, p) for p in products]

    def filter(self, alerts, suppressed=None, text_search=None):
        """The alerts these filters match; `suppressed` overrides the form's own choice, `text_search`
        (alerts, search terms) -> alerts replaces the substring search (alerts/ip_search.py)."""
        data = self.cleaned_data
        lookups = {
            "device": "device",
            "status": "triage_status",
            "azure_status": "status",
            "alert_type": "alert_type",
            "product": "product_name",
            "subscription": "subscription_id",
            "correlation": "correlation_key",
        }
        alerts = alerts.filter(**{field: data[name] for name, field in lookups.items() if data.get(name)})
        if data.get("severity"):
            alerts = alerts.filter(severity_rank=SEVERITIES[data["severity"]])  # the indexed twin of severity
        if data.get("new_types"):
            alerts = alerts.filter(
                is_new_type__in=[True]
            )  # "IN (1)" can use the index; bare "is_new_type" cannot
        suppressed = data.get("suppressed") if suppressed is None else suppressed
        if suppressed == "only":
            alerts = alerts.filter(suppressed_by__isnull=False)
        elif suppressed != "include":
            alerts = alerts.filter(suppressed_by__isnull=True)
        if data.get("entity"):
            alerts = with_entity(alerts, data["entity"], data.get("kind"))
        if data.get("q"):
            alerts = (text_search or search)(alerts, search_terms(data["q"]))
        return alerts.filter(duplicate_of__isnull=True)

    def ordering(self):
        key = self.cleaned_data.get("sort") or "-time"
        field = SORTS.get(key.lstrip("-"), "time_generated")
        sign = "-" if key.startswith("-") else ""
        if field == "time_generated":  # the list indexes end in (time, severity rank, id)
            return [f"{sign}time_generated", f"{sign}severity_rank", f"{sign}id"]
        return [f"{sign}{field}", "-time_generated", "-severity_rank", "-id"]

    def pivots(self):
        """(label, value, the query string without it) for each exact-match pivot in force."""
        data, shown = self.cleaned_data, []
        for name in ("entity", "subscription", "correlation"):
            if data.get(name):
                rest = QueryDict(mutable=True)
                for key in self.data:
                    if key not in (name, "page") and not (name == "entity" and key == "kind"):
                        rest.setlist(
                            key, self.data.getlist(key) if hasattr(self.data, "getlist") else [self.data[key]]
                        )
                label = f"{data['kind']} entity" if name == "entity" and data.get("kind") else PIVOTS[name]
                shown.append((label, data[name], rest.urlencode()))
        return shown


def with_entity(alerts, value, kind=""):
    """Alerts naming exactly this entity value (of this kind when given), or with it as their compromised
    entity: a pivot, not a substring search."""
    entities = AlertEntity.objects.filter(value=value)
    if kind:
        entities = entities.filter(kind=kind)
        return alerts.filter(pk__in=entities.values("alert_id"))
    return alerts.filter(Q(pk__in=entities.values("alert_id")) | Q(compromised_entity=value))


def search_terms(text):
    """What a search looks for: search_text is lower-cased."""
    return text.strip()[:200].lower()


def search(alerts, terms):
    """Substring search over name, type, compromised entity and entity values (one column, one scan)."""
    return alerts.filter(search_text__contains=terms)


def analysts():
    return (
        get_user_model()
        .objects.filter(groups__name__in=[ANALYST, ADMIN], is_active=True)
        .distinct()
        .order_by("username")
    )


def determination_choices(blank):
    """Determinations grouped under the classification that allows them ("Other" fits all three)."""
    groups = [
        (label, [(d.value, d.label) for d in DETERMINATIONS[value] if d != Determination.OTHER])
        for value, label in Classification.choices
    ]
    return [("", blank), *groups, (Determination.OTHER.value, Determination.OTHER.label)]


def check_determination(form, classification, determination):
    if determination and not classification:
        form.add_error("classification", "Choose the classification this determination belongs to.")
    elif determination and determination not in DETERMINATIONS[classification]:
        label = Classification(classification).label
        form.add_error(
            "determination", f"{Determination(determination).label} is not a determination of “{label}”."
        )


class TriageForm(forms.Form):
    triage_status = forms.ChoiceField(choices=TriageStatus.choices, label="Status")
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")
    classification = forms.ChoiceField(
        choices=[("", "Not classified"), *Classification.choices],
        required=False,
        help_text="How you close it, as Defender XDR records it.",
    )
    determination = forms.ChoiceField(choices=determination_choices("—"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = analysts()

    def clean(self):
        data = super().clean()
        check_determination(self, data.get("classification"), data.get("determination"))
        return data

    def changes(self):
        """{field: new value} as the alert stores them."""
        data = self.cleaned_data
        return {
            "triage_status": data["triage_status"],
            "assignee": data["assignee"],
            "classification": data["classification"],
            "determination": data["determination"],
        }


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Comment")

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something first.")
        return body
