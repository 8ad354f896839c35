"""Issue 9, section 1: each case records its approver; no permission approves any case.

Existing cases get the leaver's current supervisor as their approver (the best record there is
of who supervised them when the case was opened). The "approve any offboarding case"
permission is removed with its grants: approval is never a right a group holds.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill_approver(apps, schema_editor):
    OffboardingCase = apps.get_model("offboarding", "OffboardingCase")
    for case in OffboardingCase.objects.filter(approver__isnull=True).select_related("leaver"):
        if case.leaver.supervisor_id:
            case.approver_id = case.leaver.supervisor_id
            case.save(update_fields=["approver"])


def drop_approve_any_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="offboarding", codename="approve_offboardingcase"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0002_notice_period_task"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="offboardingcase",
            options={
                "ordering": ["-created_at"],
                "permissions": [("run_offboardingcase", "Can schedule and run offboarding cases")],
            },
        ),
        migrations.AddField(
            model_name="offboardingcase",
            name="approver",
            field=models.ForeignKey(
                blank=True,
                help_text="The leaver's supervisor when the case was opened.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(backfill_approver, migrations.RunPython.noop),
        migrations.RunPython(drop_approve_any_permission, migrations.RunPython.noop),
    ]
