"""Default history windows (rep 7 days, lead 31) and the daily purge as a visible beat task."""

import json

from django.db import migrations

WINDOWS = {"Sales rep": 7, "Team lead": 31}
TASK_NAME = "Purge expired chat messages"


def create(apps, schema_editor):
    HistoryWindow = apps.get_model("chats", "HistoryWindow")
    for role, days in WINDOWS.items():
        HistoryWindow.objects.get_or_create(role=role, defaults={"days": days})
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "chats.tasks.purge_expired_messages",
            "crontab": schedule,
            "kwargs": json.dumps({}),
            "description": "Daily: delete chat messages past retention, except under legal hold.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()
    apps.get_model("chats", "HistoryWindow").objects.filter(role__in=WINDOWS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0002_search_index"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
