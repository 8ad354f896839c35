"""What of chats follows a customer on a hand-over (registered in customers.ownership).

The previous owner's side of the customer's conversations moves; a colleague's own chat with
the customer is not part of the hand-over, and messages keep their historical staff side.
"""

from chats.models import Conversation
from customers.ownership import follow_the_customer


def hand_over_conversations(
    *, customer_ids: list[int], from_owner_id: int, to_owner_id: int
) -> int:
    return follow_the_customer(
        Conversation,
        "owner_id",
        leaver_id=from_owner_id,
        fallback_id=to_owner_id,
        customer_ids=customer_ids,
    )
