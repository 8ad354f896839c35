"""Who acts: the type of every `actor` and `user` parameter of the services, the scope, the
masking and the audit.

A signed-in staff member. Every route that reaches these functions requires a sign-in; the
functions that still answer "nothing" for an anonymous or inactive user do so as a guard, not
because such a caller is expected.
"""

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from scrm.staff.models import Staff

Actor: TypeAlias = Staff

# Who asked, where a caller may not be signed in (a refused request, a failed sign-in): the
# functions taking a Viewer check before they read anything of a staff member's.
Viewer: TypeAlias = Staff | AnonymousUser
