from django.db import migrations

SALES_ROLES = ("Sales rep", "Team lead", "Sales manager")


def grant(apps, schema_editor):
    """Sales roles correct the deals they logged (customers.services.update_transaction): they
    need customers.change_transaction. New groups get it from scrm.staff.roles; groups that
    already exist get it here, once (an administrator may take it away afterwards)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label="customers", codename="change_transaction"
    ).first()
    if permission is None:  # a fresh database: post_migrate creates groups with it
        return
    for group in Group.objects.filter(name__in=SALES_ROLES):
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("customers", "0006_transaction_recorded_by"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
