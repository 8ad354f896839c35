"""The daily purge's beat task is named and described in the product language (zh-hans): the
admin lists it among the scheduled tasks. Names only; the task and its schedule are unchanged."""

from django.db import migrations

OLD = (
    "Purge expired chat messages",
    "Daily: delete chat messages past retention, except under legal hold.",
)
NEW = ("清理过期会话消息", "每天：删除超过保留期限的会话消息，法律保全中的除外。")


def rename(apps, frm, to):
    tasks = apps.get_model("django_celery_beat", "PeriodicTask").objects
    tasks.filter(name=frm[0]).update(name=to[0], description=to[1])


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0009_translatable_labels"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, _: rename(apps, OLD, NEW), lambda apps, _: rename(apps, NEW, OLD)
        ),
    ]
