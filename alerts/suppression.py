"""Which suppression rule, if any, hides an alert. Rules live in the admin; the default one hides previews."""


def suppressing_rule(alert, rules):
    """The first active rule (in id order) covering `alert`, or None."""
    return next((rule for rule in rules if rule.matches(alert)), None)
