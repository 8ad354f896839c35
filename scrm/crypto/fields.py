from django.db import models

from scrm.crypto.keyring import decrypt, encrypt


class EncryptedTextField(models.TextField):
    """A text column holding AES-256-GCM ciphertext; Python code only ever sees plaintext.

    Lookups other than isnull/exact-empty are meaningless on ciphertext: use a blind index.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
