"""The three roles of ascmon and the checks views use.

analyst: triages alerts. customer_success: manages devices, sees health and cost.
admin: everything, plus the admin site (suppression rules, aggregation policies).
"""

from functools import wraps

from django.core.exceptions import PermissionDenied

ANALYST = "analyst"
CUSTOMER_SUCCESS = "customer_success"
ADMIN = "admin"
ALL_ROLES = (ANALYST, CUSTOMER_SUCCESS, ADMIN)
ROLE_LABELS = {ANALYST: "SOC analyst", CUSTOMER_SUCCESS: "customer success", ADMIN: "admin"}


class RoleRequired(PermissionDenied):
    """403 for a logged-in user without the role a page needs; the error page names the roles."""

    def __init__(self, roles):
        self.roles = tuple(roles)
        super().__init__("This page needs the role " + " or ".join(ROLE_LABELS.get(r, r) for r in roles))


def roles_of(user):
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_ascmon_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMIN)
        user._ascmon_roles = cached
    return cached


def has_role(user, *roles):
    """True when the user holds one of `roles`; admins hold every role."""
    held = roles_of(user)
    return ADMIN in held or bool(held.intersection(roles))


def role_required(*roles):
    """View decorator: 403 unless the logged-in user has one of `roles` (admins always pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise RoleRequired(roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
