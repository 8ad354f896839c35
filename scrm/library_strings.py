"""Product strings that libraries show in scrm's admin without a Chinese catalogue of their own.

Their apps mark them for translation (gettext_lazy) but ship no zh-hans text; naming them here
puts them in scrm's catalogue (makemessages), whose LOCALE_PATHS entry Django searches first.
Never imported: makemessages only reads it.
"""

from django.utils.translation import gettext_lazy as _

LIBRARY_STRINGS = [
    _("Audit log"),  # django-auditlog's app
    _("Periodic Tasks"),  # django-celery-beat's app
    _("Token Blacklist"),  # simplejwt's token blacklist app
    # django-auditlog's table of changes (auditlog.render) and its list filters
    _("Field"),
    _("From"),
    _("To"),
    _("Relationship"),
    _("Objects"),
    _("Outstanding Token"),  # simplejwt's token blacklist models
    _("Outstanding Tokens"),
    _("Blacklisted Token"),
    _("Blacklisted Tokens"),
    # django-unfold's templates (it ships no catalogue): the theme switch, search, actions
    _("Dark"),
    _("Light"),
    _("System"),
    _("Type to search"),
    _("Recent searches"),
    _("No recent searches"),
    _("Reset filters"),
    _("Run"),
    _("Run the selected action"),
    _("This page yielded into no results. Create a new item or reset your filters."),
    _("No results found"),
    _("Go back"),
    _("No, take me back"),
    _("Select action"),
    _("Select action to run"),
    _("Select record"),
    _("Select value"),
    _("Select all rows"),
]
