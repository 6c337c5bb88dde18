def unread_count(user):
    """Unread in-app notifications for the navigation badge."""
    return 0
