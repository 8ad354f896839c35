"""Who may do what, in the change log: staff records, roles (groups) and their permissions,
role memberships, per-user permissions and devices (registered in scrm.staff.apps).

- The password is logged through `conceal`: a change is an entry `[hidden] -> [hidden]`, the
  hash never reaches the log (auditlog compares the values before it masks them). Excluding
  the field instead would leave no entry at all for a password change. `last_login` changes
  at every sign-in, not who may do what: it is excluded.
- auditlog logs an m2m change on the instance whose field changed. A membership or permission
  changed from the other side (`group.user_set.add(staff)`) would be logged on the group only;
  `log_reverse_m2m` writes it on each staff member too, so "everything about this person" is
  complete whichever side the code changed.
- Revoked tokens and ended sessions are rows auditlog does not track (bulk-created blacklist
  rows, deleted sessions): `record_access_ended` writes their entry explicitly.
"""

from auditlog.models import LogEntry
from auditlog.receivers import check_disable
from django.db.models.signals import m2m_changed
from django.utils.translation import gettext_lazy as _

from scrm.masking.policy import HIDDEN_VALUE

CONCEAL = "scrm.staff.changelog.conceal"

# Rows about one staff member besides their own Staff row: model label -> (the lookup from the
# model to the staff member, auditlog.register options). One line per model; the change-log
# filter by staff member (scrm.audit.changelog.about_staff) reads the lookups from here. A
# device model holding a secret masks it with CONCEAL and excludes its counters, e.g. for
# django-otp:
#   "otp_totp.TOTPDevice": ("user", {"mask_fields": ["key"], "mask_callable": CONCEAL,
#       "exclude_fields": ["last_t", "drift", "throttling_failure_timestamp",
#                          "throttling_failure_count", "last_used_at"]}),
_OTP_COUNTERS = [
    "last_t",
    "drift",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
    "created_at",
]
STAFF_BOUND: dict[str, tuple[str, dict]] = {
    # last_seen_at is a heartbeat, like last_login.
    "staff.Device": ("staff", {"exclude_fields": ["last_seen_at"]}),
    # Two-factor devices (scrm.staff.mfa): the TOTP secret and the recovery codes concealed,
    # django-otp's per-use counters left out (they change at every sign-in).
    "otp_totp.TOTPDevice": (
        "user",
        {"mask_fields": ["key"], "mask_callable": CONCEAL, "exclude_fields": _OTP_COUNTERS},
    ),
    "otp_static.StaticDevice": ("user", {"exclude_fields": _OTP_COUNTERS}),
    "otp_static.StaticToken": (
        "device__user",
        {"mask_fields": ["token"], "mask_callable": CONCEAL},
    ),
}

# The Staff options of auditlog.register (scrm.staff.apps).
STAFF_LOG_OPTIONS = {
    # auth_generation is raised on every "end all sessions": record_access_ended says so.
    "exclude_fields": ["last_login", "auth_generation"],
    "mask_fields": ["password"],
    "mask_callable": CONCEAL,
    "m2m_fields": {"groups", "user_permissions"},
    # Names of the pseudo-fields of record_access_ended's entries, as the admin shows them.
    "mapping_fields": {
        "refresh_tokens": _("Refresh tokens not yet revoked"),
        "sessions": _("Signed-in browser sessions"),
    },
}


def conceal(value) -> str:
    """auditlog's mask for secrets: nothing of the value, not even its length."""
    return HIDDEN_VALUE


def record_access_ended(*, staff, tokens: int, sessions: int) -> LogEntry | None:
    """One entry on the staff member for the refresh tokens blacklisted and the browser
    sessions ended just now (counts from -> to 0); none when there was nothing to end. The
    actor is the auditlog context's (services run inside `audit_actor`)."""
    changes = {}
    if tokens:
        changes["refresh_tokens"] = [str(tokens), "0"]
    if sessions:
        changes["sessions"] = [str(sessions), "0"]
    if not changes:
        return None
    return LogEntry.objects.log_create(staff, action=LogEntry.Action.UPDATE, changes=changes)


def _reverse_handler(field_name: str):
    @check_disable
    def log_reverse_m2m(sender, instance, action, reverse, model, pk_set, **kwargs):
        """`group.user_set.add(...)` and the like: the change on each staff member's own log,
        in the shape auditlog gives a forward change of `field_name`."""
        if not reverse:
            return  # the forward side is auditlog's own (m2m_fields)
        if action == "pre_clear":
            # The members are gone by post_clear: remember who they were.
            instance._scrm_cleared = set(
                model._default_manager.filter(**{f"{field_name}__pk": instance.pk}).values_list(
                    "pk", flat=True
                )
            )
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if action == "post_clear":
            pk_set = instance.__dict__.pop("_scrm_cleared", set())
        operation = "add" if action == "post_add" else "delete"
        changed = type(instance)._default_manager.filter(pk=instance.pk)
        for staff in model._default_manager.filter(pk__in=pk_set or ()):
            LogEntry.objects.log_m2m_changes(changed, staff, operation, field_name)

    return log_reverse_m2m


def connect_reverse_m2m(staff_model) -> None:
    for field_name in STAFF_LOG_OPTIONS["m2m_fields"]:
        through = getattr(staff_model, field_name).through
        m2m_changed.connect(
            _reverse_handler(field_name),
            sender=through,
            weak=False,
            dispatch_uid=f"scrm.staff.reverse_m2m.{field_name}",
        )
