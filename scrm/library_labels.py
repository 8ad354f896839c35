"""Labels that libraries write as plain strings, made translatable where they are read.

django-otp, django-guardian, django-axes and django-celery-beat name some apps, models and
fields without marking them for translation ("TOTP device", "Task Name"), and admin labels
derived from method names ("Human readable") are never translated. Wrapping them in
gettext_lazy once, at start-up, lets every page that prints them (forms, lists, filters,
permission names, breadcrumbs) look them up in scrm's catalogue, where scrm/library_strings.py
puts their Chinese. Strings a library already marked are left alone.
"""

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy


def _lazy(value):
    return value if isinstance(value, Promise) or not value else gettext_lazy(value)


def make_library_labels_translatable() -> None:
    for app_config in apps.get_app_configs():
        app_config.verbose_name = _lazy(app_config.verbose_name)
        for model in app_config.get_models():
            opts = model._meta
            opts.verbose_name = _lazy(opts.verbose_name)
            opts.verbose_name_plural = _lazy(opts.verbose_name_plural)
            for field in opts.local_fields + opts.local_many_to_many:
                field.verbose_name = _lazy(field.verbose_name)
    _describe_celery_beat()


def _describe_celery_beat() -> None:
    # Read-only columns that are a property and an admin method: no description of their own.
    from django_celery_beat.admin import PeriodicTaskAdmin
    from django_celery_beat.models import CrontabSchedule

    CrontabSchedule.human_readable.fget.short_description = gettext_lazy("Human readable")
    PeriodicTaskAdmin.crontab_translation.short_description = gettext_lazy("Crontab translation")
