"""Only users in the admin group (or superusers) may use Django's admin site."""

from django.contrib import admin

from ascmon.roles import ADMIN, roles_of


def admin_only_permission(request):
    user = request.user
    return user.is_active and user.is_staff and ADMIN in roles_of(user)


admin.site.has_permission = admin_only_permission
admin.site.site_header = "ascmon administration"
admin.site.site_title = "ascmon admin"
