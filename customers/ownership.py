"""The ownership engine: the one place a customer changes owner.

The in-service transfer, the admin's bulk reassign, the offboarding run and a recorded refusal
all call `move_customers`, so the history row, the owner column and whatever else follows the
customer are written one way. Callers decide who may move what (scope, limits, successor);
the engine moves, inside the caller's transaction. Apps above customers (chats) register what
follows the customer on a hand-over with `register_hand_over`, so customers imports none of them.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
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


def _open_follow_ups(*, customer_ids: list[int], from_owner_id: int, to_owner_id: int) -> int:
    return FollowUp.objects.filter(
        customer_id__in=customer_ids, staff_id=from_owner_id, done=False
    ).update(staff_id=to_owner_id)


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
    hand_over: bool = False,
) -> Moved:
    """Set the owner of these customers to `to_owner_id`, one history row per customer whose
    owner changed, in batches. With `hand_over`, what the previous owner held of each customer
    (open follow-ups, and what other apps registered: conversations) follows it."""
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
        if hand_over:
            by_owner: dict[int, list[int]] = {}
            for pk, owner_id in owners:
                if owner_id is not None:
                    by_owner.setdefault(owner_id, []).append(pk)
            for from_owner_id, moving in by_owner.items():
                for fn in _hand_overs:
                    fn(customer_ids=moving, from_owner_id=from_owner_id, to_owner_id=to_owner_id)
        moved += len(owners)
    return Moved(moved=moved, skipped_already_owned=len(ids) - moved)
