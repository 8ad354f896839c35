"""The ownership engine: the one place a customer changes owner.

The in-service transfer, the admin's bulk reassign, the offboarding run and a recorded refusal
all call `move_customers`, so the history row, the owner column and whatever else follows the
customer are written one way. Callers decide who may move what (scope, limits, successor);
the engine moves, inside the caller's transaction. Apps above customers (chats) register what
follows the customer on a hand-over with `register_hand_over`, so customers imports none of them.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer, FollowUp, OwnershipTransfer

BATCH_SIZE = 1000

# fn(*, customer_ids, from_owner_id, to_owner_id): moves the from-owner's side of these
# customers (their rows of the app's tables) to the new owner.
HandOver = Callable[..., int]
_hand_overs: list[HandOver] = []


def register_hand_over(fn: HandOver) -> HandOver:
    if fn not in _hand_overs:
        _hand_overs.append(fn)
    return fn


def _column(model, name: str) -> str:
    qn = connection.ops.quote_name
    return f"{qn(model._meta.db_table)}.{qn(name)}"


def follow_the_customer(
    model,
    column: str,
    *,
    leaver_id: int,
    fallback_id: int,
    customer_ids: list[int] | None = None,
    where=(),
) -> int:
    """Set `column` of the rows of `model` (which have a customer) that hold `leaver_id` to
    that customer's owner (to the fallback if the customer has no owner or is still the
    leaver's), in one UPDATE ... FROM join (PostgreSQL; SQLite 3.33+): set-based, so the
    offboarding run moves a leaver's whole book in one statement, and a hand-over of a few
    customers (`customer_ids`) takes the same path. `where`: extra (sql, param) conditions.
    Returns the number of rows changed."""
    qn = connection.ops.quote_name
    owner = f"{qn('c')}.{qn('owner_id')}"
    conditions = [
        (f"{qn('c')}.{qn('id')} = {_column(model, 'customer_id')}", None),
        (f"{_column(model, column)} = %s", leaver_id),
        *where,
    ]
    params = [leaver_id, fallback_id, *(p for _, p in conditions if p is not None)]
    sql_conditions = [sql for sql, _ in conditions]
    if customer_ids is not None:
        if not customer_ids:
            return 0
        sql_conditions.append(f"{qn('c')}.{qn('id')} IN ({', '.join(['%s'] * len(customer_ids))})")
        params.extend(customer_ids)
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET {qn(column)} = "
        f"CASE WHEN {owner} IS NULL OR {owner} = %s THEN %s ELSE {owner} END "
        f"FROM {qn(Customer._meta.db_table)} {qn('c')} "
        f"WHERE {' AND '.join(sql_conditions)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Only open follow-ups move; done ones record who did the work.
OPEN_FOLLOW_UPS = ((f"{_column(FollowUp, 'done')} = %s", False),)


def _open_follow_ups(*, customer_ids: list[int], from_owner_id: int, to_owner_id: int) -> int:
    return follow_the_customer(
        FollowUp,
        "staff_id",
        leaver_id=from_owner_id,
        fallback_id=to_owner_id,
        customer_ids=customer_ids,
        where=OPEN_FOLLOW_UPS,
    )


register_hand_over(_open_follow_ups)


@dataclass(frozen=True)
class Moved:
    moved: int
    skipped_already_owned: int


@transaction.atomic
def move_customers(
    *,
    actor_id: int | None,
    customer_ids: Iterable[int],
    to_owner_id: int,
    reason: str,
    case_id: int | None = None,
    hand_over: bool = True,
) -> Moved:
    """Set the owner of these customers to `to_owner_id`, one history row per customer whose
    owner changed, in batches. What the previous owner held of each customer follows it: open
    follow-ups, and what other apps registered (chats: the owner's side of its conversations).
    `hand_over=False` only for the offboarding run, whose conversations step hands the whole
    book over afterwards with the same functions (and counts what it moved)."""
    ids = list(customer_ids)
    now = timezone.now()
    moved = 0
    for start in range(0, len(ids), BATCH_SIZE):
        owners = list(
            Customer.objects.filter(pk__in=ids[start : start + BATCH_SIZE])
            .exclude(owner_id=to_owner_id)
            .values_list("pk", "owner_id")
        )
        OwnershipTransfer.objects.bulk_create(
            OwnershipTransfer(
                customer_id=pk,
                from_owner_id=owner_id,
                to_owner_id=to_owner_id,
                at=now,
                actor_id=actor_id,
                case_id=case_id,
                reason=reason,
            )
            for pk, owner_id in owners
        )
        Customer.objects.filter(pk__in=[pk for pk, _ in owners]).update(
            owner_id=to_owner_id, updated_at=now
        )
        by_owner: dict[int, list[int]] = {}
        for pk, owner_id in owners if hand_over else ():
            if owner_id is not None:
                by_owner.setdefault(owner_id, []).append(pk)
        for from_owner_id, moving in by_owner.items():
            for fn in _hand_overs:
                fn(customer_ids=moving, from_owner_id=from_owner_id, to_owner_id=to_owner_id)
        moved += len(owners)
    return Moved(moved=moved, skipped_already_owned=len(ids) - moved)
