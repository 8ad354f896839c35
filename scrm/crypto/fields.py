from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from scrm.crypto.keyring import decrypt, encrypt


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]  # str in, str out, as TextField
    """A text column holding AES-256-GCM ciphertext; Python code only ever sees plaintext.

    Lookups other than isnull/exact-empty are meaningless on ciphertext: use a blind index.
    """

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
