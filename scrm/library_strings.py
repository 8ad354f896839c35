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
]
