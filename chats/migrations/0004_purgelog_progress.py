"""PurgeLog records who ran a purge and how far it got, so a crashed run resumes where it stopped."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0003_defaults"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="purgelog",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                help_text="Who started the purge; empty for the scheduled task.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="purgelog",
            name="last_message_id",
            field=models.BigIntegerField(
                default=0,
                help_text="Progress: every expired message up to this id has been handled.",
            ),
        ),
    ]
