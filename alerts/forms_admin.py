"""Forms of the admin's tuning actions (alerts/admin.py)."""

from django import forms


class SuppressTypesForm(forms.Form):
    """Why the selected alert types are noise, and until when (empty: until someone disables the rules)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    expires_at = forms.DateTimeField(
        required=False, help_text="YYYY-MM-DD HH:MM (UTC). Empty: no expiry.", label="Expires at"
    )
    confirm = forms.CharField(widget=forms.HiddenInput, initial="yes")
