from django.conf import settings
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from scrm.access.scope import scope_q
from scrm.crypto.fields import EncryptedTextField
from scrm.crypto.keyring import blind_index
from scrm.masking.masks import mask_name
from scrm.masking.validation import normalize_mobile


def mobile_index(value: str) -> str:
    return blind_index("mobile", normalize_mobile(value))


def id_number_index(value: str) -> str:
    return blind_index("id_number", (value or "").strip().upper())


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view") -> "CustomerQuerySet":
        """The only door to customers: rows `user` may see (or `action`) right now."""
        return self.filter(scope_q(user, action))


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Stage(models.TextChoices):
        LEAD = "lead", "Lead"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        NEGOTIATION = "negotiation", "Negotiation"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        WECOM = "wecom", "WeCom"
        WECHAT = "wechat", "WeChat"
        PHONE = "phone", "Phone"
        WEB = "web", "Website"
        REFERRAL = "referral", "Referral"
        EVENT = "event", "Event"
        OTHER = "other", "Other"

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

    name = models.CharField(max_length=100)
    mobile = EncryptedTextField(blank=True, default="")
    mobile_bidx = models.CharField(max_length=64, blank=True, default="", db_index=True)
    wechat_id = EncryptedTextField("WeChat ID", blank=True, default="")
    email = EncryptedTextField(blank=True, default="")
    id_number = EncryptedTextField("resident ID number", blank=True, default="")
    id_number_bidx = models.CharField(max_length=64, blank=True, default="", db_index=True)
    address = EncryptedTextField(blank=True, default="")
    company = models.CharField(max_length=200, blank=True, default="")
    source_channel = models.CharField(max_length=10, choices=Source.choices, default=Source.OTHER)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.LEAD)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    wecom_external_userid = models.CharField(
        "WeCom external user id", max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("reveal_basic", "Can reveal basic fields (name)"),
            ("reveal_contact", "Can reveal contact fields"),
            ("reveal_identity", "Can reveal identity fields"),
            ("share_customer", "Can share customers with colleagues"),
            ("transfer_customer", "Can transfer customers to another owner"),
            ("export_raw", "Can export unmasked data"),
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


class CustomerUserObjectPermission(UserObjectPermissionBase):
    """A share: guardian's direct foreign-key grant, extended with who granted it and until when."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "customer share"


class CustomerGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)


class FollowUp(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="follow_ups")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField()
    due_at = models.DateTimeField(null=True, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Follow-up #{self.pk}"


class Transaction(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="transactions")
    date = models.DateField()
    product = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.product} {self.amount}"


class OwnershipTransfer(models.Model):
    """Who owned which customer when: one row per change of owner, never edited."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ownership")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500)
    case = models.ForeignKey(
        "offboarding.OffboardingCase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="ownership_customer_at")]

    def __str__(self) -> str:
        return (
            f"{self.customer_id}: {self.from_owner_id} -> {self.to_owner_id} at {self.at:%Y-%m-%d}"
        )
