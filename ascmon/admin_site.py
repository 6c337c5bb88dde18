"""Only users in the admin group (or superusers) may use Django's admin site, and one ModelAdmin base
decides what they may do on each page by role, not by per-model Django permissions."""

from django.contrib import admin

from ascmon.roles import ADMIN, roles_of


def admin_only_permission(request):
    user = request.user
    return user.is_active and user.is_staff and ADMIN in roles_of(user)


admin.site.has_permission = admin_only_permission
admin.site.site_header = "ascmon administration"
admin.site.site_title = "ascmon admin"


class RoleAdmin(admin.ModelAdmin):
    """The admin group may look at everything registered here. `editable = False` marks records ascmon
    writes itself (runs, findings, alerts): nobody adds or edits them by hand. `deletable = False` marks
    records ascmon keeps: nobody deletes them either."""

    editable = True
    deletable = True

    class Media:
        css = {"all": ("ascmon/admin.css",)}

    def _is_admin(self, request):
        return ADMIN in roles_of(request.user)

    def has_module_permission(self, request):
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_add_permission(self, request, *args):
        return self.editable and self._is_admin(request)

    def has_change_permission(self, request, obj=None):
        return self.editable and self._is_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self.deletable and self._is_admin(request)
