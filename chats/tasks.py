"""Celery tasks of the chat archive: each only calls its service (schedules: migration 0003)."""

from celery import shared_task

from chats import retention


@shared_task
def purge_expired_messages() -> int:
    """The daily purge (the beat row "清理过期会话消息"); returns the PurgeLog id."""
    return retention.purge_expired_messages().pk
