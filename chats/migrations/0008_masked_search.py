"""Masked viewers' search columns (chats.search): the fields, their index, and a backfill.

Not atomic: the backfill commits batch by batch, so on a large archive a stopped migration
resumes where it stopped (rows already computed are skipped) instead of starting over.
"""

from django.db import migrations, models

MASKED_TOKENS = (
    "string_to_array(CASE WHEN masked_text = '' THEN search_tokens "
    "ELSE masked_search_tokens END, ' ')"
)


def forwards(apps, schema_editor):
    from chats.search import refresh_masked_search

    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS chats_message_masked_fts "
            "USING fts5(tokens, tokenize='unicode61')"
        )
    message = apps.get_model("chats", "Message")
    refresh_masked_search(message, using=schema_editor.connection.alias, only_missing=True)
    if vendor == "postgresql":
        # Built after the backfill: one pass over the table instead of an update per row.
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS message_masked_search_tokens_gin ON chats_message "
            f"USING gin ({MASKED_TOKENS})"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS message_masked_search_tokens_gin")
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS chats_message_masked_fts")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("chats", "0007_room_members"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="masked_search_tokens",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="message",
            name="masked_text",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
