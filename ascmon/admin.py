"""People and their roles in Django's admin: the admin role adds people and puts them in groups, and
sees (and lifts) login lockouts.

Django's own User and Group admins, and django-axes' lockout records, ask for per-model permissions the
admin group does not hold; here they follow the role like every other admin page. Only a superuser
makes another superuser, and the three role groups keep their names, since ascmon/roles.py finds the
roles by them.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User

from ascmon.admin_site import RoleAdmin
from ascmon.roles import ALL_ROLES

admin.site.unregister([User, Group, AccessAttempt, AccessLog, AccessFailureLog])


@admin.register(User)
class PersonAdmin(RoleAdmin, auth_admin.UserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Roles", {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "roles", "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="roles")
    def roles(self, user):
        return ", ".join(sorted(group.name for group in user.groups.all()))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly.append("is_superuser")
        return readonly


@admin.register(Group)
class RoleGroupAdmin(RoleAdmin, auth_admin.GroupAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.name in ALL_ROLES:
            readonly.append("name")
        return readonly

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in ALL_ROLES:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(AccessAttempt)
class LockoutAdmin(RoleAdmin, axes_admin.AccessAttemptAdmin):
    """Failed logins per username and address; deleting one lifts its lockout before the cool-off ends."""

    editable = False


@admin.register(AccessLog)
class LoginLogAdmin(RoleAdmin, axes_admin.AccessLogAdmin):
    editable = deletable = False


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(RoleAdmin, axes_admin.AccessFailureLogAdmin):
    editable = deletable = False
