from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from scrm.access.querysets import ScopedQuerySet
from scrm.crypto.fields import EncryptedTextField
from scrm.crypto.keyring import blind_index
from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_wechat_id,
)
from scrm.masking.policy import BASIC, CONTACT, IDENTITY, register_sensitive_field
from scrm.masking.validation import normalize_mobile

# The customer's personal data, each field in its data class with its mask: the one masking
# policy (scrm.masking.policy) applies them in every serializer, admin page, export and log.
# Registered here, as the model loads, so the table is complete before any class reads it.
for _field, _class, _mask in (
    ("name", BASIC, mask_name),
    ("mobile", CONTACT, mask_mobile),
    ("wechat_id", CONTACT, mask_wechat_id),
    ("email", CONTACT, mask_email),
    ("address", CONTACT, mask_address),
    ("id_number", IDENTITY, mask_id_number),
):
    register_sensitive_field(_field, data_class=_class, mask=_mask)


def mobile_index(value: str) -> str:
    return blind_index("mobile", normalize_mobile(value))


def id_number_index(value: str) -> str:
    return blind_index("id_number", (value or "").strip().upper())


class CustomerQuerySet(ScopedQuerySet):
    """`visible_to(user, action)` is the only door to customers (customers.access)."""


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True, verbose_name=_("name"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Stage(models.TextChoices):
        LEAD = "lead", _("Lead")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        NEGOTIATION = "negotiation", _("Negotiation")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class Source(models.TextChoices):
        WECOM = "wecom", _("WeCom")
        WECHAT = "wechat", _("WeChat")
        PHONE = "phone", _("Phone")
        WEB = "web", _("Website")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event")
        OTHER = "other", _("Other")

    # Data classes per field; sensitive ones are declared in scrm.masking.policy.
    DATA_CLASSES = {
        "name": "basic",
        "company": "basic",
        "mobile": "contact",
        "wechat_id": "contact",
        "email": "contact",
        "address": "contact",
        "id_number": "identity",
        "source_channel": "behaviour",
        "stage": "behaviour",
        "tags": "behaviour",
    }

    name = models.CharField(max_length=100, verbose_name=_("name"))
    mobile = EncryptedTextField(blank=True, default="", verbose_name=_("mobile"))
    mobile_bidx = models.CharField(
        max_length=64, blank=True, default="", db_index=True, verbose_name=_("mobile bidx")
    )
    wechat_id = EncryptedTextField(_("WeChat ID"), blank=True, default="")
    email = EncryptedTextField(blank=True, default="", verbose_name=_("email"))
    id_number = EncryptedTextField(_("resident ID number"), blank=True, default="")
    id_number_bidx = models.CharField(
        max_length=64, blank=True, default="", db_index=True, verbose_name=_("id number bidx")
    )
    address = EncryptedTextField(blank=True, default="", verbose_name=_("address"))
    company = models.CharField(max_length=200, blank=True, default="", verbose_name=_("company"))
    source_channel = models.CharField(
        max_length=10,
        choices=Source.choices,
        default=Source.OTHER,
        verbose_name=_("source channel"),
    )
    stage = models.CharField(
        max_length=12, choices=Stage.choices, default=Stage.LEAD, verbose_name=_("stage")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("owner"),
    )
    wecom_external_userid = models.CharField(
        _("WeCom external user id"), max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        permissions = [
            ("reveal_basic", gettext_noop("Can reveal basic fields (name)")),
            ("reveal_contact", gettext_noop("Can reveal contact fields")),
            ("reveal_identity", gettext_noop("Can reveal identity fields")),
            ("share_customer", gettext_noop("Can share customers with colleagues")),
            ("transfer_customer", gettext_noop("Can transfer customers to another owner")),
            ("export_raw", gettext_noop("Can export unmasked data")),
        ]
        indexes = [models.Index(fields=["owner", "-id"], name="customer_owner_id")]

    def __str__(self) -> str:
        # Admin messages, breadcrumbs and the change log all use str(): never the raw name.
        return f"{mask_name(self.name)} (#{self.pk})"

    def save(self, *args, **kwargs):
        # The blind indexes are derived from the plaintext and must never drift from it.
        self.mobile_bidx = mobile_index(self.mobile)
        self.id_number_bidx = id_number_index(self.id_number)
        super().save(*args, **kwargs)


# The levels of a share (customers.services.SHARE_LEVELS), as people read them.
SHARE_LEVEL_LABELS = {"view": _("may view"), "change": _("may change")}


class CustomerUserObjectPermission(UserObjectPermissionBase):
    """A share: guardian's direct foreign-key grant, extended with who granted it and until when."""

    content_object = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="grants", verbose_name=_("content object")
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(default=timezone.now, verbose_name=_("granted at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name_plural = _("customer shares")
        verbose_name = _("customer share")

    def __str__(self) -> str:
        # guardian's own says "… | view_customer"; the change log keeps this text.
        level = self.permission.codename.removesuffix("_customer")
        return gettext("%(customer)s shared with %(staff)s (%(level)s)") % {
            "customer": self.content_object,
            "staff": self.user,
            "level": SHARE_LEVEL_LABELS.get(level, level),
        }


class CustomerGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(
        Customer, on_delete=models.CASCADE, verbose_name=_("content object")
    )

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("customer group share")
        verbose_name_plural = _("customer group shares")


class FollowUp(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("customer")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff"),
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))
    note = models.TextField(verbose_name=_("note"))
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    done = models.BooleanField(default=False, verbose_name=_("done"))

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-at"]

    def __str__(self) -> str:
        return gettext("Follow-up #%(pk)s") % {"pk": self.pk}


class Transaction(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="transactions", verbose_name=_("customer")
    )
    date = models.DateField(verbose_name=_("date"))
    product = models.CharField(max_length=200, verbose_name=_("product"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    # Who logged the deal (the one who may correct it); empty on rows logged before it was kept.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.product} {self.amount}"


class OwnershipTransfer(models.Model):
    """Who owned which customer when: one row per change of owner, never edited."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="ownership", verbose_name=_("customer")
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from owner"),
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to owner"),
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    reason = models.CharField(max_length=500, verbose_name=_("reason"))
    case = models.ForeignKey(
        "offboarding.OffboardingCase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("case"),
    )

    class Meta:
        verbose_name = _("ownership change")
        verbose_name_plural = _("ownership history")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="ownership_customer_at")]

    def __str__(self) -> str:
        return (
            f"{self.customer_id}: {self.from_owner_id} -> {self.to_owner_id} at {self.at:%Y-%m-%d}"
        )


class PersonalNote(models.Model):
    """A staff member's private note; one attached to a customer is business data and stays.

    Moved from the staff app (the platform points at no domain model); its table keeps its name.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_notes",
        verbose_name=_("staff"),
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("customer"),
    )
    text = models.TextField(verbose_name=_("text"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        db_table = "staff_personalnote"
        verbose_name = _("personal note")
        verbose_name_plural = _("personal notes")

    def __str__(self) -> str:
        return gettext("Note #%(pk)s") % {"pk": self.pk}
