"""The benchmark dataset generator behind `manage.py generate_dataset` (see that command).

Split by subject: `org` (departments, teams, staff and their roles), `people` (customer rows
with real ciphertext and blind indexes), `chat_text` (sales-chat sentences drawn from a fixed
vocabulary, so keyword hit rates are stable), `messages` (conversations and time-ordered
messages), `copy` (PostgreSQL COPY helpers: text escaping, index drop/rebuild).
"""
