"""Role changes end the account's sign-ins, however they are made (the service, the admin's
staff form, a group's member list): a token issued under the old roles must not keep them.

A password change does the same in `Staff.save`, deactivation and a two-factor reset in their
services (scrm.staff.services.end_sessions)."""

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from scrm.staff.models import Staff


@receiver(m2m_changed, sender=Staff.groups.through, dispatch_uid="scrm.roles_end_sessions")
def roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    from scrm.staff.services import end_sessions

    if not reverse:  # staff.groups.add/remove/clear: the caller's own instance stays current
        if action in {"post_add", "post_remove", "post_clear"}:
            end_sessions(staff=instance, reason="roles")
            instance.__dict__.pop("role_names", None)
        return
    if action in {"post_add", "post_remove"}:  # group.user_set.add/remove
        members = Staff.objects.filter(pk__in=pk_set or ())
    elif action == "pre_clear":  # group.user_set.clear(): the members are gone after it
        members = instance.user_set.all()
    else:
        return
    for staff in members:
        end_sessions(staff=staff, reason="roles")
