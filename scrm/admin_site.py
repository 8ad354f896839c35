"""The project's admin site: Django's, with the pages that bypass the read door switched off.

- autocomplete (`/admin/autocomplete/`) answers from any registered admin's search with no
  access event and no throttle (an exact-mobile oracle over customers); no admin uses
  `autocomplete_fields`, so it is off (a system check fails if one starts to);
- view_on_site (`/admin/r/<content type>/<id>/`) looks any object up by id outside every scope;
  no model has `get_absolute_url`, so it is off too.
Both answer 404 like any unknown admin URL.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig

SWITCHED_OFF = ("autocomplete", "view_on_site")


class ScrmAdminSite(AdminSite):
    def get_urls(self):
        return [p for p in super().get_urls() if getattr(p, "name", None) not in SWITCHED_OFF]


class ScrmAdminConfig(AdminConfig):
    default_site = "scrm.admin_site.ScrmAdminSite"
