"""The daily notice-period task is named and described in the product language (zh-hans): the
admin lists it among the scheduled tasks. Names only; the task and its schedule are unchanged."""

from django.db import migrations

OLD = (
    "Start offboarding notice periods",
    "Daily: leavers whose notice date has come may no longer export or reveal, and their reads "
    "are flagged.",
)
NEW = ("开始离职通知期", "每天：到达通知日期的离职员工不能再导出或查看明文，其读取会被标记。")


def rename(apps, frm, to):
    tasks = apps.get_model("django_celery_beat", "PeriodicTask").objects
    tasks.filter(name=frm[0]).update(name=to[0], description=to[1])


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0005_translatable_labels"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, _: rename(apps, OLD, NEW), lambda apps, _: rename(apps, NEW, OLD)
        ),
    ]
