from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from chats.patterns import PatternError, compile_pattern
from customers.models import Customer, Tag
from scrm.access.querysets import ScopedQuerySet
from scrm.access.scope import VIEW, Scope, scope_for
from scrm.staff.models import Department, Staff
from scrm.staff.roles import ALL_ROLES, ROLE_LABELS, role_label

if TYPE_CHECKING:
    from scrm.staff.types import Actor, Viewer


class Channel(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    WECHAT = "wechat", _("WeChat")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    OTHER = "other", _("Other")


# Up to this many owners a scope is "a book" the planner should start from (see below).
SMALL_SCOPE_OWNERS = 3


def visible_customer_q(user: "Viewer", action: str = VIEW) -> Q:
    """`customer_id` within the user's customer scope, for tables that point at customers."""
    return scope_customer_q(scope_for(user, action))


def is_book(scope: Scope) -> bool:
    """A few owners' customers (a rep's book), which message queries start from."""
    return not scope.everything and len(scope.owners) <= SMALL_SCOPE_OWNERS


def scope_customer_q(scope: Scope) -> Q:
    """`customer_id` within `scope`, for tables that point at customers.

    The same rows as `customer_id IN (SELECT id FROM customers WHERE <scope>)`, in shapes the
    planner runs cheaply at 10 M messages (one subquery holding the scope's OR could use no
    index and fetched every candidate customer row from the heap):
    - a scope over every customer (legal, auditors) is `customer_id IS NOT NULL` (the foreign
      key guarantees the customer exists): no semi-join against the whole customer table;
    - a few owners (a rep): owned UNION ALL shared customers, as one semi-join;
    - many owners: the owned customers as a hashed subquery, OR the shares.
    """
    if scope.everything:
        return Q(customer_id__isnull=False)
    owned = Customer.objects.filter(owner_id__in=scope.owners).order_by().values("pk")
    if is_book(scope):
        # A rep's book (a few thousand customers): one semi-join, which the planner runs from
        # the customers through the (customer_id, sent_at) index instead of walking the
        # archive's newest messages for theirs (docs/benchmarks.md#chat-scope-of-a-book).
        if isinstance(scope.shared, tuple) and not scope.shared:
            return Q(customer_id__in=owned)
        shared = Customer.objects.filter(pk__in=scope.shared).order_by().values("pk")
        return Q(customer_id__in=owned.union(shared, all=True))
    # A team or a department (tens of thousands to a million customers): the owned customers
    # as a subquery of that condition alone, which PostgreSQL hashes once from an index-only
    # scan while it walks the messages; the shares (an id list, or past GRANT_IDS_INLINE a
    # subquery; empty adds nothing) tested on customer_id directly.
    return Q(customer_id__in=owned) | Q(customer_id__in=scope.shared)


# Up to this many group rooms are inlined as ids into a scope; past it, a subquery.
ROOM_IDS_INLINE = 1000
IS_ROOM = ~Q(room_id="")  # the same expression as the partial index "conversation_room"


def scope_room_ids(scope: Scope) -> tuple[int, ...] | QuerySet:
    """The group rooms a scope sees: every room for an "everything" scope, otherwise the rooms
    one of the scope's owners is a member of (a staff participant, or the room's owner).

    A room is the room's, not a customer's: the customer scope (owned or shared customers)
    opens no room, so a rep whose customer spoke in a room they were not in never sees it.
    Loaded as ids (usually none or a few) so the scope stays plain index conditions and, when
    there are none, the private-chat scope is exactly what it was (see visible_message_q).
    """
    rooms = Conversation.objects.filter(IS_ROOM).order_by()
    if scope.everything:
        return rooms.values("pk")
    if not scope.owners:
        return ()
    members = Conversation.staff.through.objects.filter(
        staff_id__in=scope.owners, conversation__in=rooms.values("pk")
    ).values_list("conversation_id", flat=True)
    owned = rooms.filter(owner_id__in=scope.owners).values_list("pk", flat=True)
    either = members.union(owned)  # one query (UNION: distinct ids)
    ids = tuple(sorted(either[: ROOM_IDS_INLINE + 1]))
    return either if len(ids) > ROOM_IDS_INLINE else ids


def _with_rooms(customer_q: Q, rooms, column: str) -> Q:
    """The customer branch, OR `column IN rooms` when there are rooms to add."""
    if isinstance(rooms, tuple) and not rooms:
        return customer_q
    return customer_q | Q(**{f"{column}__in": rooms})


def visible_message_q(user: "Viewer", action: str = VIEW) -> Q:
    """Messages of the user's customer scope (private chats, through `Message.customer`) or of
    the group rooms the scope sees (through `conversation_id`; room messages have no customer).

    The customer branch is scope_customer_q unchanged, so private chats keep the plans tuned at
    10 M messages; the room branch is an extra OR only when the scope has rooms, as an id list
    the database checks against the (conversation, sent_at) index.
    """
    return scope_message_q(scope_for(user, action))


def scope_message_q(scope: Scope) -> Q:
    """visible_message_q for a scope already built."""
    return _with_rooms(scope_customer_q(scope), scope_room_ids(scope), "conversation_id")


def customer_messages_q(customer_id: int) -> Q:
    """One customer's messages: their private chats and the group rooms they are a member of."""
    rooms = tuple(
        ConversationCustomer.objects.filter(customer_id=customer_id).values_list(
            "conversation_id", flat=True
        )
    )
    return _with_rooms(Q(customer_id=customer_id), rooms, "conversation_id")


class ConversationQuerySet(ScopedQuerySet):
    """`visible_to(user, action)`: the door, with `conversation_rows` (chats.access)."""


def conversation_rows(queryset: QuerySet, scope: Scope, user: "Viewer") -> QuerySet:
    """Who sees a customer sees its private conversations; a group room is seen through the
    scopes of its staff members (scope_room_ids)."""
    return queryset.filter(_with_rooms(scope_customer_q(scope), scope_room_ids(scope), "pk"))


class Conversation(models.Model):
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    external_id = models.CharField(max_length=128, verbose_name=_("external id"))
    # One customer for a private chat. Empty for a group room (room_id set): a room belongs
    # to no single customer; its external members are `customers` (ConversationCustomer).
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("customer"),
    )
    room_id = models.CharField(max_length=128, blank=True, default="", verbose_name=_("room id"))
    # The staff participants (for a room: its members, whose scopes see it; scope_room_ids).
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("staff")
    )
    customers: "models.ManyToManyField[Customer, ConversationCustomer]" = models.ManyToManyField(
        Customer,
        through="ConversationCustomer",
        blank=True,
        related_name="rooms",
        verbose_name=_("customers"),
    )
    # The staff side that owns the conversation (moves with the customer on transfer).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    title = models.CharField(max_length=200, blank=True, default="", verbose_name=_("title"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_message_at = models.DateTimeField(
        null=True, blank=True, db_index=True, verbose_name=_("last message at")
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="conversation_ext_uniq")
        ]
        # The rooms alone, for "every room" in an everything scope (scope_room_ids): an
        # index-only scan of the few rooms instead of a walk over every conversation.
        indexes = [models.Index(fields=["id"], condition=IS_ROOM, name="conversation_room")]

    def __str__(self) -> str:
        return gettext("%(channel)s conversation #%(pk)s") % {
            "channel": self.get_channel_display(),
            "pk": self.pk,
        }


class ConversationCustomer(models.Model):
    """An external member of a group room, linked to their customer at ingest."""

    # The unique constraint's index starts with the conversation; the customer's own index
    # serves a customer's rooms (timeline, legal holds).
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("conversation"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )

    class Meta:
        verbose_name = _("room member")
        verbose_name_plural = _("room members")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "customer"], name="conversation_customer_uniq"
            )
        ]

    def __str__(self) -> str:
        return gettext("Customer #%(customer)s in conversation #%(conversation)s") % {
            "customer": self.customer_id,
            "conversation": self.conversation_id,
        }


class HistoryWindow(models.Model):
    """How far back a role may read chat history; no row (or no days) means without limit."""

    role = models.CharField(
        max_length=40,
        choices=[(r, ROLE_LABELS[r]) for r in ALL_ROLES],
        unique=True,
        verbose_name=_("role"),
    )
    days = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: no limit."), verbose_name=_("days")
    )

    class Meta:
        verbose_name = _("chat history window")
        verbose_name_plural = _("chat history windows")

    def __str__(self) -> str:
        if not self.days:
            return gettext("%(role)s: no limit") % {"role": role_label(self.role)}
        return gettext("%(role)s: %(days)s days") % {
            "role": role_label(self.role),
            "days": self.days,
        }

    @classmethod
    def days_for(cls, user: "Actor") -> int | None:
        """The widest window among the user's roles (None: everything)."""
        if user.is_superuser:
            return None
        windows = dict(cls.objects.filter(role__in=user.role_names).values_list("role", "days"))
        if any(role not in windows or windows[role] is None for role in user.role_names):
            return None
        return max(windows.values(), default=None)


class MessageQuerySet(ScopedQuerySet):
    """`visible_to(user, action)`: the door, with `message_rows` (chats.access)."""


def message_rows(queryset: QuerySet, scope: Scope, user: "Viewer") -> QuerySet:
    """Messages of visible customers, inside the user's history window, not hidden by them.
    (Registered as requiring chats.view_message: seeing a customer, e.g. in its timeline, does
    not open its chat archive to a role without it.)"""
    if not isinstance(user, Staff):  # not reached: the door asks chats.view_message first
        return queryset.none()
    queryset = queryset.filter(scope_message_q(scope))
    days = HistoryWindow.days_for(user)
    if days is not None:
        queryset = queryset.filter(sent_at__gte=timezone.now() - timedelta(days=days))
    hidden = MessageHide.objects.filter(message=OuterRef("pk"), staff_id=user.pk)
    return queryset.filter(~Exists(hidden))


class Message(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        VOICE = "voice", _("Voice")
        VIDEO = "video", _("Video")
        FILE = "file", _("File")
        LINK = "link", _("Link")
        CARD = "card", _("Card")
        REVOKE = "revoke", _("Revoke")
        SYSTEM = "system", _("System")

    # No single-column indexes on conversation, customer and staff: the composite indexes below
    # start with them, and every extra index is rewritten when offboarding moves messages.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
        verbose_name=_("conversation"),
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    external_id = models.CharField(max_length=128, verbose_name=_("external id"))
    # customer: denormalised from the conversation so the scope is a single-table condition;
    # empty for a group room's messages, which are seen through the room (visible_message_q)
    # and belong to their members' timelines through ConversationCustomer; sender_customer
    # still names the customer who spoke.
    # staff: who held the conversation when the message was sent. History, like the sender:
    # offboarding moves Conversation.owner, not this (see offboarding.steps.conversations).
    # These four carry no database constraint (db_constraint=False): ingest copies them from
    # rows it has just read, Django's PROTECT still refuses deleting a customer or staff member
    # they point at, and staff are never deleted. The four checks cost more per inserted
    # message than the row and its indexes (docs/benchmarks.md#chat-ingest). The
    # conversation, the message's parent, keeps its constraint.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("customer"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("staff"),
    )
    # No index on the staff sender: it only served deleting staff, which never happens.
    sender_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("sender staff"),
    )
    sender_customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        verbose_name=_("sender customer"),
    )
    sent_at = models.DateTimeField(verbose_name=_("sent at"))
    msg_type = models.CharField(
        max_length=10, choices=Type.choices, default=Type.TEXT, verbose_name=_("msg type")
    )
    text = models.TextField(blank=True, default="", verbose_name=_("text"))
    attachment = models.FileField(
        upload_to="chat/%Y/%m/", blank=True, default="", verbose_name=_("attachment")
    )
    attachment_name = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("attachment name")
    )
    attachment_size = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("attachment size")
    )
    attachment_content_type = models.CharField(
        max_length=100, blank=True, default="", verbose_name=_("attachment content type")
    )
    attachment_sha256 = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("attachment sha256")
    )
    # SHA-256 of the canonical message, computed once at ingest and never changed.
    digest = models.CharField(max_length=64, verbose_name=_("digest"))
    # Distinct characters and character bigrams of the text, space separated (see chats.search).
    search_tokens = models.TextField(blank=True, default="", verbose_name=_("search tokens"))
    # The text as a viewer without chats.reveal_message sees it (mask_text), so their search
    # matches only what they are shown (chats.search): "" when it equals the text, NULL until
    # computed (such a message is not found by a masked search: fail closed).
    masked_text = models.TextField(null=True, blank=True, verbose_name=_("masked text"))  # noqa: DJ001 (NULL: not computed)
    # tokens_for(masked_text) when masked_text differs from the text, else "".
    masked_search_tokens = models.TextField(
        blank=True, default="", verbose_name=_("masked search tokens")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    ingested_at = models.DateTimeField(default=timezone.now, verbose_name=_("ingested at"))

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["-sent_at", "-id"]
        permissions = [
            ("ingest_message", gettext_noop("Can ingest chat messages (archive sync)")),
            ("export_message", gettext_noop("Can export chat messages")),
            ("reveal_message", gettext_noop("Can read chat content unmasked")),
            ("manage_legal_hold", gettext_noop("Can place and release legal holds")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="message_ext_uniq")
        ]
        indexes = [
            models.Index(fields=["customer", "-sent_at"], name="message_customer_sent"),
            models.Index(fields=["conversation", "sent_at"], name="message_conversation_sent"),
            models.Index(fields=["sent_at"], name="message_sent"),
        ]

    def __str__(self) -> str:
        return gettext("%(type)s message #%(pk)s") % {
            "type": self.get_msg_type_display(),
            "pk": self.pk,
        }


class MessageHide(models.Model):
    """A staff member "deleted" a message in their client: hidden from them, kept in the archive."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="+", verbose_name=_("message")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff"),
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))

    class Meta:
        verbose_name = _("hidden message")
        verbose_name_plural = _("hidden messages")
        constraints = [
            models.UniqueConstraint(fields=["message", "staff"], name="message_hide_uniq")
        ]

    def __str__(self) -> str:
        return gettext("Message #%(message)s hidden by staff #%(staff)s") % {
            "message": self.message_id,
            "staff": self.staff_id,
        }


class LegalHold(models.Model):
    """Exempts a customer's or a conversation's messages from purging until released."""

    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_holds",
        verbose_name=_("customer"),
    )
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_holds",
        verbose_name=_("conversation"),
    )
    reason = models.TextField(verbose_name=_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("placed by"),
    )
    placed_at = models.DateTimeField(default=timezone.now, verbose_name=_("placed at"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("released by"),
    )
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    release_reason = models.TextField(blank=True, default="", verbose_name=_("release reason"))

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(conversation__isnull=False),
                name="legal_hold_has_target",
            )
        ]

    def __str__(self) -> str:
        if self.customer_id:
            text = gettext("Legal hold on customer #%(pk)s") % {"pk": self.customer_id}
        else:
            text = gettext("Legal hold on conversation #%(pk)s") % {"pk": self.conversation_id}
        return gettext("%(hold)s (released)") % {"hold": text} if self.released_at else text


class RetentionPolicy(models.Model):
    """Keep matching messages `days` days from sending; the longest applicable policy wins."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    days = models.PositiveIntegerField(verbose_name=_("days"))
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("department")
    )
    channel = models.CharField(
        max_length=10, choices=Channel.choices, blank=True, default="", verbose_name=_("channel")
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("tag")
    )

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | ~Q(channel="") | Q(tag__isnull=False),
                name="retention_policy_has_scope",
            )
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (%(days)s days)") % {"name": self.name, "days": self.days}


class PurgeLog(models.Model):
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    dry_run = models.BooleanField(default=False, verbose_name=_("dry run"))
    deleted = models.PositiveIntegerField(default=0, verbose_name=_("deleted"))
    held = models.PositiveIntegerField(default=0, verbose_name=_("held"))
    attachments_deleted = models.PositiveIntegerField(
        default=0, verbose_name=_("attachments deleted")
    )
    counts_by_policy = models.JSONField(
        default=dict, blank=True, verbose_name=_("counts by policy")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who started the purge; empty for the scheduled task."),
        verbose_name=_("actor"),
    )
    last_message_id = models.BigIntegerField(
        default=0,
        help_text=_("Progress: every expired message up to this id has been handled."),
        verbose_name=_("last message id"),
    )

    class Meta:
        verbose_name = _("purge log")
        verbose_name_plural = _("purge logs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return gettext("Purge of %(at)s: %(deleted)s deleted") % {
            "at": f"{self.started_at:%Y-%m-%d %H:%M}",
            "deleted": self.deleted,
        }


class SensitiveWordRule(models.Model):
    class Kind(models.TextChoices):
        KEYWORD = "keyword", _("Keyword")
        REGEX = "regex", _("Regular expression")

    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.KEYWORD, verbose_name=_("kind")
    )
    pattern = models.CharField(max_length=300, verbose_name=_("pattern"))
    severity = models.CharField(
        max_length=10,
        choices=[("low", _("Low")), ("medium", _("Medium")), ("high", _("High"))],
        default="medium",
        verbose_name=_("severity"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("sensitive word rule")
        verbose_name_plural = _("sensitive word rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.pattern}"

    def clean_fields(self, exclude=None) -> None:
        # Checked with the engine that runs it (chats.patterns, RE2): a pattern RE2 refuses
        # (backreferences, lookaround) would otherwise be saved and silently never match.
        # A field check (not clean()), so a form without the pattern (list_editable) skips it.

        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if self.pattern and "pattern" not in (exclude or ()) and "pattern" not in errors:
            try:
                compile_pattern(self.pattern, literal=self.kind != self.Kind.REGEX)
            except PatternError as exc:
                errors["pattern"] = [str(exc)]
        if errors:
            raise ValidationError(errors)
