"""Role changes end the account's sign-ins, however they are made (the service, the admin's
staff form, a group's member list): a token issued under the old roles must not keep them.

A password change does the same in `Staff.save`, deactivation and a two-factor reset in their
services (scrm.staff.services.end_sessions)."""

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from scrm.staff.models import Staff

ROLE_CHANGES = {"post_add", "post_remove", "post_clear", "pre_clear"}


@receiver(m2m_changed, sender=Staff.groups.through, dispatch_uid="scrm.roles_end_sessions")
def roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ROLE_CHANGES:
        return
    if action == "pre_clear" and not reverse:
        return  # post_clear follows for the same staff member
    if reverse and action == "pre_clear":  # group.user_set.clear(): the members are gone after it
        staff_ids = list(instance.user_set.values_list("pk", flat=True))
    elif reverse and action == "post_clear":
        return
    else:
        staff_ids = list(pk_set or ())
    from scrm.staff.services import end_sessions

    if not reverse:  # the caller's own instance, so its generation stays current
        end_sessions(staff=instance, reason="roles")
        instance.__dict__.pop("role_names", None)
        return
    for staff in Staff.objects.filter(pk__in=staff_ids):
        end_sessions(staff=staff, reason="roles")
