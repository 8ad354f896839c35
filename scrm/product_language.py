"""Texts stored once and read by everyone (alert messages, notification titles, emails) are
written in the product language, `settings.LANGUAGE_CODE`, whatever language the request that
caused them was in. Mark the msgid with `gettext_noop` so makemessages collects it."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def product_text(msgid: str, /, **params: object) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(msgid)
        # Lazy values (verbose names, choice labels) among the params are read in it too.
        return text % {k: str(v) for k, v in params.items()} if params else text
