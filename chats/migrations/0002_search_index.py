"""The token index behind chats.search, one per database engine (see chats/search.py)."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX message_search_tokens_gin ON chats_message "
            "USING gin (string_to_array(search_tokens, ' '))"
        )
    elif schema_editor.connection.vendor == "sqlite":
        # unicode61 keeps each space-separated token (a CJK run counts as one word) intact.
        schema_editor.execute(
            "CREATE VIRTUAL TABLE chats_message_fts USING fts5(tokens, tokenize='unicode61')"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS message_search_tokens_gin")
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS chats_message_fts")


class Migration(migrations.Migration):
    dependencies = [("chats", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
