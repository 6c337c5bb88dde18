from ascmon.roles import ADMIN, ANALYST, CUSTOMER_SUCCESS, has_role


def navigation(request):
    """Menu entries by role, and the unread-notification badge."""
    user = request.user
    if not user.is_authenticated:
        return {}
    from devices.notifications import unread_count

    return {
        "nav": {
            "alerts": has_role(user, ANALYST),
            "devices": has_role(user, CUSTOMER_SUCCESS, ANALYST),
            "cost": has_role(user, CUSTOMER_SUCCESS),
            "admin": has_role(user, ADMIN) and user.is_staff,
        },
        "unread_notifications": unread_count(user),
    }
