"""`manage.py demo_otp USER`: the current two-factor code of a demo account (seed_demo).

Refuses any account whose authenticator is not the published demo one, so it cannot be used
to get past a real user's second factor."""

from django.core.management.base import BaseCommand, CommandError

from scrm.staff.mfa import demo_code
from scrm.staff.models import Staff


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account enrolled by seed_demo."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"No staff account named {username!r}.")
        try:
            self.stdout.write(demo_code(staff))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
