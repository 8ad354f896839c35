"""factory-boy factories for the scrm models.

Every customer gets valid, unique sensitive values (mainland mobile, checksummed 18-digit ID,
WeChat ID, email, Chinese name, Shanghai address) so masking and encryption tests have real
raw values to look for.
"""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from customers.models import Customer, FollowUp, Transaction
from scrm.masking.validation import id_checksum_char
from scrm.staff.models import Department, Staff, Team

TEST_PASSWORD = "pw-test-1234"

CHINESE_NAMES = ("张三丰", "李四光", "王小明", "欧阳娜娜", "赵敏", "司马相如", "陈静怡", "刘德华")


def make_id_number(n: int) -> str:
    """A valid 18-digit resident ID (Pudong, born 1980 + n days) with the GB 11643 check char."""
    born = date(1980, 1, 1) + timedelta(days=n % 10_000)
    first17 = f"310115{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_checksum_char(first17)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    parent = None


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    department = factory.SubFactory(DepartmentFactory)


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff member; `roles=[...]` adds the role groups by name (see scrm.staff.roles)."""

    class Meta:
        model = Staff
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@staff.example.com")
    first_name = ""
    last_name = ""
    password = factory.django.Password(TEST_PASSWORD)
    is_staff = True
    is_active = True
    team = None
    department = factory.LazyAttribute(lambda o: o.team.department if o.team else None)
    employment_status = Staff.Status.ACTIVE

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        self.groups.add(*Group.objects.filter(name__in=list(extracted)))
        # role_names / the permission cache may have been computed before the groups existed.
        self.__dict__.pop("role_names", None)
        for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
            self.__dict__.pop(cache, None)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: CHINESE_NAMES[n % len(CHINESE_NAMES)])
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    id_number = factory.Sequence(make_id_number)
    wechat_id = factory.Sequence(lambda n: f"wxid_c{n:06d}")
    email = factory.Sequence(lambda n: f"cust{n}@example.com")
    address = factory.Sequence(lambda n: f"上海市浦东新区张江路{n}号")
    company = factory.Sequence(lambda n: f"Company {n}")
    stage = Customer.Stage.LEAD
    source_channel = Customer.Source.WECOM
    owner = factory.SubFactory(StaffFactory)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        from customers.models import Tag

        self.tags.set([Tag.objects.get_or_create(name=name)[0] for name in extracted])


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    staff = factory.LazyAttribute(lambda o: o.customer.owner)
    note = factory.Sequence(lambda n: f"Called about offer {n}.")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    customer = factory.SubFactory(CustomerFactory)
    date = factory.LazyFunction(date.today)
    product = factory.Sequence(lambda n: f"Product {n}")
    amount = Decimal("1999.00")
