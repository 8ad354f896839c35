from chats.admin import messages, retention  # noqa: F401  (registers the admin classes)
