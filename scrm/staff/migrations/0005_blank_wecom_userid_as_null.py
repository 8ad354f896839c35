from django.db import migrations


def blanks_to_null(apps, schema_editor):
    """A staff member without a WeCom user id is NULL, not '': two blanks collided on the
    unique constraint (Staff.save normalises from now on)."""
    Staff = apps.get_model("staff", "Staff")
    Staff.objects.filter(wecom_userid="").update(wecom_userid=None)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0004_translatable_labels"),
    ]

    operations = [
        migrations.RunPython(blanks_to_null, migrations.RunPython.noop),
    ]
