"""Only users in the admin group (or superusers) may use Django's admin site."""

from django.contrib import admin

from ascmon.roles import ADMIN, roles_of


def admin_only_permission(request):
    user = request.user
    return user.is_active and user.is_staff and ADMIN in roles_of(user)


admin.site.has_permission = admin_only_permission
admin.site.site_header = "ascmon administration"
admin.site.site_title = "ascmon admin"


class RoleAdmin(admin.ModelAdmin):
    """The admin group may do everything here, without per-model Django permissions."""

    def _is_admin(self, request):
        return ADMIN in roles_of(request.user)

    def has_module_permission(self, request):
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_add_permission(self, request):
        return self._is_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_admin(request)


class RecordAdmin(RoleAdmin):
    """Records ascmon writes itself (runs, findings, alerts): admins look, nobody edits by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
