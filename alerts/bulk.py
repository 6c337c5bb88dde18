"""Bulk triage on the list: the selected rows or everything the filter matches, confirmed with a count.

The confirmation carries the count it showed; if the filter matches another number of alerts by the time
it is confirmed, the analyst is asked again with the new count instead of changing alerts never seen.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from alerts import triage
from alerts.choices import Classification, Determination, TriageStatus
from alerts.forms import analysts, check_determination, determination_choices
from alerts.models import Alert
from ascmon.roles import ANALYST, role_required

SCOPES = [("selected", "Selected alerts"), ("all", "Everything this filter matches")]
UNASSIGN = "none"
CHANGED_FIELDS = ("triage_status", "assignee", "classification", "determination")


class IdsField(forms.Field):
    """The ticked rows' alert ids (the queryset decides which exist)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return sorted({int(v) for v in value or []})
        except (TypeError, ValueError) as error:
            raise forms.ValidationError("Alerts are selected by their numbers.") from error


class BulkForm(forms.Form):
    filter = forms.CharField(required=False, widget=forms.HiddenInput)
    scope = forms.ChoiceField(choices=SCOPES, initial="selected", widget=forms.RadioSelect, label="Apply to")
    ids = IdsField(required=False)
    triage_status = forms.ChoiceField(
        choices=[("", "Keep status"), *TriageStatus.choices], required=False, label="Status"
    )
    assignee = forms.ChoiceField(required=False)
    classification = forms.ChoiceField(
        choices=[("", "Keep classification"), *Classification.choices], required=False
    )
    determination = forms.ChoiceField(choices=determination_choices("Keep determination"), required=False)
    comment = forms.CharField(required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 1}))
    confirm = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = [(str(user.pk), user.username) for user in analysts()]
        self.fields["assignee"].choices = [("", "Keep assignee"), (UNASSIGN, "Unassigned"), *people]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("ids"):
            self.add_error("scope", "Select at least one alert, or choose everything this filter matches.")
        if not any(data.get(name) for name in CHANGED_FIELDS) and not (data.get("comment") or "").strip():
            self.add_error(None, "Choose a change to make or write a comment.")
        check_determination(self, data.get("classification"), data.get("determination"))
        return data

    def changes(self):
        """{field: new value} for the fields the analyst chose to change."""
        data, changes = self.cleaned_data, {}
        for name in ("triage_status", "classification", "determination"):
            if data[name]:
                changes[name] = data[name]
        if data["assignee"] == UNASSIGN:
            changes["assignee"] = None
        elif data["assignee"]:
            changes["assignee"] = analysts().get(pk=data["assignee"])
        return changes

    def summary(self):
        """What the confirmation asks, in words: "Set status to Resolved and add a comment"."""
        data, parts = self.cleaned_data, []
        for name, label in (("triage_status", "status"), ("classification", "classification")):
            if data[name]:
                parts.append(f"set {label} to “{dict(self.fields[name].choices)[data[name]]}”")
        if data["determination"]:
            parts.append(f"set determination to “{Determination(data['determination']).label}”")
        if data["assignee"]:
            people = dict(self.fields["assignee"].choices)
            parts.append(
                f"assign to {people.get(data['assignee'], 'nobody')}"
                if data["assignee"] != UNASSIGN
                else "unassign"
            )
        if (data.get("comment") or "").strip():
            parts.append("add the comment")
        text = " and ".join(parts)
        return text[:1].upper() + text[1:]


def targets(form):
    """(alerts the bulk change applies to, the list's query string)."""
    params = QueryDict(form.cleaned_data["filter"] or "")
    if form.cleaned_data["scope"] == "all":
        from alerts.views import filtered

        return filtered(params)[1], params
    return Alert.objects.filter(pk__in=form.cleaned_data["ids"]), params


@require_POST
@role_required(ANALYST)
def bulk_triage(request):
    form = BulkForm(request.POST)
    if request.POST.get("cancel") or not form.is_valid():
        return bar(request, form, status=200 if request.POST.get("cancel") else 422)
    alerts, params = targets(form)
    count = alerts.count()
    confirmed = form.cleaned_data["confirm"]
    if confirmed != count:
        return confirmation(request, form, count, previous=confirmed)
    changed, commented = triage.apply(
        alerts, request.user, form.changes(), form.cleaned_data["comment"].strip()
    )
    message = f"{form.summary()}: {changed or commented} of {count} alert{'s' if count != 1 else ''} changed."
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{reverse('alerts:list')}?{params.urlencode()}")
    from alerts.views import list_context

    context = list_context(request, params, bulk_message=message)
    html = render_to_string("alerts/list.html#alert-table", context, request)
    html += render_to_string("_announce.html", {"message": message}, request)
    return HttpResponse(html)


def bar(request, form, status):
    """The bulk bar again, with the analyst's choices and any errors."""
    if request.POST.get("cancel"):
        form = BulkForm(
            initial={k: v for k, v in request.POST.items() if k not in ("confirm", "cancel", "ids")}
        )
    if request.htmx:
        html = render_to_string("alerts/list.html#bulk-bar", {"bulk_form": form}, request)
        html += render_to_string(
            "_announce.html", {"message": "" if status == 200 else "Not applied: see the errors."}, request
        )
        return HttpResponse(html, status=status)
    from alerts.views import list_context

    params = QueryDict(request.POST.get("filter", ""))
    return render(request, "alerts/list.html", list_context(request, params, bulk_form=form), status=status)


def confirmation(request, form, count, previous=None):
    context = {
        "bulk_form": form,
        "count": count,
        "previous": previous,
        "summary": form.summary(),
        "carried": carried(form),
    }
    template = "alerts/bulk_confirm.html#bulk-bar" if request.htmx else "alerts/bulk_confirm.html"
    return render(request, template, context)


def carried(form):
    """(name, value) of every field the confirmation sends again."""
    data = form.cleaned_data
    pairs = [(name, data[name] or "") for name in ("filter", "scope", *CHANGED_FIELDS, "comment")]
    return pairs + [("ids", pk) for pk in data["ids"]]
