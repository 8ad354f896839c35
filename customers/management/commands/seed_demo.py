"""`manage.py seed_demo`: a realistic demo organisation with the same logins every time.

Idempotent: departments, teams, staff, tags and customers are looked up by their natural keys
(name, username, `wecom_external_userid`) before anything is created, so re-running with the
same `--customers` creates nothing and a larger number only adds the missing customers. The data
is generated from one fixed seed: customer N always gets the same name, mobile and ID number.
"""

import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from customers.models import (
    Customer,
    FollowUp,
    Tag,
    Transaction,
    id_number_index,
    mobile_index,
)
from scrm.masking.validation import id_checksum_char
from scrm.staff import mfa, roles
from scrm.staff.models import Department, Staff, Team
from scrm.staff.roles import ensure_role_groups

SEED = 2026
BATCH_SIZE = 500
MAX_CUSTOMERS = 1_000_000
EXTERNAL_ID_PREFIX = "wmdemo"
SERVICE_ACCOUNT = "wecom-sync"
STAFF_EMAIL_DOMAIN = "demo.scrm.example"  # .example is reserved: no mail can ever be delivered

SALES, EAST_SALES = "销售部", "华东销售一部"
HR_DEPT, LEGAL_DEPT, AUDIT_DEPT, SECURITY_DEPT = "人力资源部", "法务部", "内审部", "信息安全部"
# (name, parent): parents come first. Managers see their department and everything below it.
DEPARTMENTS = [(SALES, None), (EAST_SALES, SALES)] + [
    (name, None) for name in (HR_DEPT, LEGAL_DEPT, AUDIT_DEPT, SECURITY_DEPT)
]
TEAM_1, TEAM_2 = "一组", "二组"
TEAMS = [(TEAM_1, EAST_SALES), (TEAM_2, EAST_SALES)]


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str | None
    department: str | None = None
    team: str | None = None
    supervisor: str | None = None


def staff_specs() -> list[StaffSpec]:
    """Everyone in the demo organisation; supervisors are listed before their reports."""
    specs = [
        StaffSpec("admin", None),
        StaffSpec("manager1", roles.SALES_MANAGER, SALES),
        StaffSpec("lead1", roles.TEAM_LEAD, EAST_SALES, TEAM_1, "manager1"),
        StaffSpec("lead2", roles.TEAM_LEAD, EAST_SALES, TEAM_2, "manager1"),
    ]
    for number in range(1, 21):
        team, lead = (TEAM_1, "lead1") if number <= 10 else (TEAM_2, "lead2")
        specs.append(StaffSpec(f"rep{number}", roles.SALES_REP, EAST_SALES, team, lead))
    specs += [
        StaffSpec("hr1", roles.HR, HR_DEPT),
        StaffSpec("legal1", roles.LEGAL, LEGAL_DEPT),
        StaffSpec("auditor1", roles.AUDITOR, AUDIT_DEPT),
        StaffSpec("security1", roles.SECURITY_OFFICER, SECURITY_DEPT),
    ]
    return specs


REP_USERNAMES = [f"rep{number}" for number in range(1, 21)]

# (city prefix, district, the district's 6-digit administrative code)
DISTRICTS = [
    ("上海市", "浦东新区", "310115"),
    ("上海市", "徐汇区", "310104"),
    ("上海市", "闵行区", "310112"),
    ("北京市", "朝阳区", "110105"),
    ("北京市", "海淀区", "110108"),
    ("广东省深圳市", "南山区", "440305"),
    ("广东省广州市", "天河区", "440106"),
    ("浙江省杭州市", "西湖区", "330106"),
    ("浙江省宁波市", "鄞州区", "330212"),
    ("浙江省湖州市", "安吉县", "330523"),
    ("江苏省南京市", "鼓楼区", "320106"),
    ("江苏省苏州市", "姑苏区", "320508"),
    ("四川省成都市", "武侯区", "510107"),
    ("湖北省武汉市", "洪山区", "420111"),
    ("陕西省西安市", "雁塔区", "610113"),
]
# Mobile network prefixes in use on the mainland (the test regex only needs 1[3-9]).
MOBILE_PREFIXES = [
    *("130", "131", "132", "133", "134", "135", "136", "137", "138", "139"),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "177"),
    *("180", "181", "182", "183", "185", "186", "187", "188", "189", "198", "199"),
]
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com"]
TAGS = ["VIP", "regulated", "渠道客户", "老客户", "高意向", "待回访"]
TAG_WEIGHTS = [8, 4, 10, 12, 15, 20]
STAGE_WEIGHTS = {
    Customer.Stage.LEAD: 30,
    Customer.Stage.CONTACTED: 25,
    Customer.Stage.QUALIFIED: 15,
    Customer.Stage.NEGOTIATION: 10,
    Customer.Stage.WON: 12,
    Customer.Stage.LOST: 8,
}
SOURCE_WEIGHTS = {
    Customer.Source.WECOM: 35,
    Customer.Source.WECHAT: 20,
    Customer.Source.PHONE: 12,
    Customer.Source.WEB: 12,
    Customer.Source.REFERRAL: 10,
    Customer.Source.EVENT: 7,
    Customer.Source.OTHER: 4,
}
PRODUCTS = ["私域运营SaaS年费版", "会员积分系统", "企业微信增值服务", "短信营销包", "数据看板"]
NOTES = [
    "电话沟通，客户对{product}感兴趣，约下周再联系。",
    "微信发送了{product}的产品资料，等待客户反馈。",
    "客户要求报价，已按标准价报给对方。",
    "上门拜访，见了采购负责人，预算在审批中。",
    "客户暂时没有需求，三个月后回访。",
    "演示了{product}，客户希望试用两周。",
    "合同条款已发法务审核。",
]
NOTES_WITH_MOBILE = [
    "客户换了新号码 {mobile}，以后打这个。",
    "已拨打 {mobile} 两次未接通，改为微信联系。",
]


@dataclass
class Counts:
    created: int = 0
    existing: int = 0

    def __str__(self) -> str:
        text = f"{self.created} created"
        return f"{text}, {self.existing} already there" if self.existing else text


class DemoCustomer(NamedTuple):
    customer: Customer
    tag_names: list[str]
    follow_ups: list[FollowUp]
    transactions: list[Transaction]


class DemoData:
    """Deterministic fake data (zh_CN). Each customer is drawn from its own seed, derived from
    its index, so customer N is the same whether it is created in the first run or a later one."""

    def __init__(self, seed: int = SEED):
        self.seed = seed
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)  # per instance: no effect on other Faker users
        self.rng = random.Random(seed)

    def customer(self, index: int, owner: Staff, now) -> DemoCustomer:
        self.rng.seed(self.seed * 10_000_000 + index)
        self.fake.seed_instance(self.seed * 10_000_000 + index)
        mobile, id_number = self.mobile(index), self.id_number()
        customer = Customer(
            name=self.fake.name(),
            mobile=mobile,
            mobile_bidx=mobile_index(mobile),  # bulk_create skips save(), which derives these
            wechat_id=self.wechat_id(),
            email=self.email() if self.rng.random() < 0.8 else "",
            id_number=id_number,
            id_number_bidx=id_number_index(id_number),
            address=self.address(),
            company=self.fake.company() if self.rng.random() < 0.75 else "",
            source_channel=self.weighted(SOURCE_WEIGHTS),
            stage=self.weighted(STAGE_WEIGHTS),
            owner=owner,
            wecom_external_userid=external_id(index),
            created_at=now - timedelta(minutes=self.rng.randrange(730 * 24 * 60)),
        )
        tag_count = self.rng.choices([0, 1, 2], weights=[50, 35, 15])[0]
        tag_names = sorted(set(self.rng.choices(TAGS, weights=TAG_WEIGHTS, k=tag_count)))
        return DemoCustomer(
            customer, tag_names, self.follow_ups(customer, now), self.transactions(customer)
        )

    def mobile(self, index: int) -> str:
        # The last 8 digits are a bijection of the index (the multiplier is coprime with 10**8):
        # no two demo customers share a number, whatever prefix they draw.
        return self.rng.choice(MOBILE_PREFIXES) + f"{(index * 73_939_133 + 5_550_123) % 10**8:08d}"

    def id_number(self) -> str:
        area = self.rng.choice(DISTRICTS)[2]
        birth = date(1960, 1, 1) + timedelta(days=self.rng.randrange(44 * 365))
        first17 = f"{area}{birth:%Y%m%d}{self.rng.randrange(1, 1000):03d}"
        return first17 + id_checksum_char(first17)

    def wechat_id(self) -> str:
        if self.rng.random() < 0.7:
            return "wxid_" + "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=14))
        return f"{self.fake.user_name()}{self.rng.randrange(10, 9999)}"

    def email(self) -> str:
        return f"{self.fake.user_name()}{self.rng.randrange(100)}@{self.rng.choice(EMAIL_DOMAINS)}"

    def address(self) -> str:
        city, district, _ = self.rng.choice(DISTRICTS)
        street = f"{self.fake.street_name()}{self.rng.randrange(1, 999)}号"
        if self.rng.random() < 0.6:
            building, floor, room = (self.rng.randrange(1, n) for n in (30, 33, 9))
            street += f"{building}栋{floor}0{room}室"
        return f"{city}{district}{street}"

    def follow_ups(self, customer: Customer, now) -> list[FollowUp]:
        notes = []
        for _ in range(self.rng.choices([0, 1, 2, 3], weights=[25, 35, 25, 15])[0]):
            if self.rng.random() < 0.04:  # a few notes carry a phone number, as real ones do
                note = self.rng.choice(NOTES_WITH_MOBILE).format(mobile=customer.mobile)
            else:
                note = self.rng.choice(NOTES).format(product=self.rng.choice(PRODUCTS))
            span = max(int((now - customer.created_at).total_seconds()), 1)
            at = customer.created_at + timedelta(seconds=self.rng.randrange(span))
            due = (
                at + timedelta(days=self.rng.randrange(1, 15)) if self.rng.random() < 0.4 else None
            )
            done = due is not None and due < now and self.rng.random() < 0.7
            notes.append(
                FollowUp(
                    customer=customer,
                    staff_id=customer.owner_id,
                    at=at,
                    note=note,
                    due_at=due,
                    done=done,
                )
            )
        return notes

    def transactions(self, customer: Customer) -> list[Transaction]:
        if customer.stage != Customer.Stage.WON:
            return []
        return [
            Transaction(
                customer=customer,
                date=(customer.created_at + timedelta(days=self.rng.randrange(1, 120))).date(),
                product=self.rng.choice(PRODUCTS),
                amount=Decimal(self.rng.randrange(500_00, 200_000_00)) / 100,
            )
            for _ in range(self.rng.randint(1, 3))
        ]

    def weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def person_name(self) -> tuple[str, str]:
        return self.fake.last_name(), self.fake.first_name()


def external_id(index: int) -> str:
    return f"{EXTERNAL_ID_PREFIX}{index:07d}"


class Command(BaseCommand):
    help = (
        "Create a demo organisation (departments, teams, staff in every role) and N fake "
        "customers with follow-ups. Idempotent: re-running creates only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, default=2000, help="How many demo customers (default 2000)."
        )
        parser.add_argument(
            "--password",
            help="Password for new demo accounts (default: settings.SCRM_DEMO_PASSWORD).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has staff accounts (used by `make run`).",
        )

    def handle(self, *args, customers: int, password: str | None, if_empty: bool, **options):
        password = settings.SCRM_DEMO_PASSWORD if password is None else password
        check_arguments(customers, password)
        if if_empty and Staff.objects.exists():
            self.stdout.write("Staff accounts already exist: demo data not seeded (--if-empty).")
            return
        started = time.monotonic()
        self.show_progress = options["verbosity"] > 0 and sys.stderr.isatty()
        self.counts: dict[str, Counts] = {}
        with transaction.atomic():
            ensure_role_groups()  # normally done by migrate; cheap and idempotent
            departments, teams = self.seed_organisation()
            staff = self.seed_staff(departments, teams, password)
            self.seed_tags()
            self.seed_customers(customers, staff)
        if options["verbosity"] > 0:
            self.print_summary(time.monotonic() - started)
            self.print_logins(password, customers)

    def tally(self, label: str, created: bool) -> None:
        counts = self.counts.setdefault(label, Counts())
        counts.created += created
        counts.existing += not created

    # --- organisation --------------------------------------------------------------------

    def seed_organisation(self) -> tuple[dict[str, Department], dict[str, Team]]:
        departments: dict[str, Department] = {}
        for name, parent in DEPARTMENTS:
            # Names are not unique in the model: reuse the oldest department of that name, even
            # if an administrator has since moved it elsewhere in the tree.
            department = Department.objects.filter(name=name).order_by("pk").first()
            if department is None:
                department = Department.objects.create(name=name, parent=departments.get(parent))
                self.tally("departments", True)
            else:
                self.tally("departments", False)
            departments[name] = department
        teams: dict[str, Team] = {}
        for name, department in TEAMS:
            teams[name], created = Team.objects.get_or_create(
                name=name, department=departments[department]
            )
            self.tally("teams", created)
        return departments, teams

    def seed_staff(self, departments, teams, password: str) -> dict[str, Staff]:
        hashed = make_password(password)  # once: hashing per account would dominate the run
        names = DemoData(seed=SEED + 1)
        groups = {group.name: group for group in Group.objects.filter(name__in=roles.ALL_ROLES)}
        staff: dict[str, Staff] = {}
        for index, spec in enumerate(staff_specs()):
            last_name, first_name = names.person_name()
            member, created = Staff.objects.get_or_create(
                username=spec.username,
                defaults={
                    "password": hashed,
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{spec.username}@{STAFF_EMAIL_DOMAIN}",
                    "is_staff": True,
                    "is_superuser": spec.role is None,
                    "department": departments.get(spec.department),
                    "team": teams.get(spec.team),
                    "supervisor": staff.get(spec.supervisor),
                    "wecom_userid": spec.username,
                    "hired_on": date(2018, 3, 1) + timedelta(days=97 * index),
                },
            )
            if spec.role:
                member.groups.add(groups[spec.role])  # idempotent: repairs a lost membership
            if mfa.is_privileged(member):
                self.tally("demo authenticators", mfa.enrol_demo_account(member))
            staff[spec.username] = member
            self.tally("staff accounts", created)
        # The chat-ingest integration's account: API only (no admin), may ingest and nothing else.
        staff[SERVICE_ACCOUNT], created = Staff.objects.get_or_create(
            username=SERVICE_ACCOUNT,
            defaults={"password": hashed, "is_staff": False, "wecom_userid": None},
        )
        staff[SERVICE_ACCOUNT].user_permissions.add(
            Permission.objects.get(content_type__app_label="chats", codename="ingest_message")
        )
        self.tally("staff accounts", created)
        return staff

    def seed_tags(self) -> None:
        for name in TAGS:
            self.tally("tags", Tag.objects.get_or_create(name=name)[1])

    # --- customers -----------------------------------------------------------------------

    def seed_customers(self, total: int, staff: dict[str, Staff]) -> None:
        """Create the missing demo customers 0..total-1, round-robin over the reps, in batches."""
        existing = set(
            Customer.objects.filter(
                wecom_external_userid__startswith=EXTERNAL_ID_PREFIX
            ).values_list("wecom_external_userid", flat=True)
        )
        reps = [staff[username] for username in REP_USERNAMES]
        tags = dict(Tag.objects.filter(name__in=TAGS).values_list("name", "pk"))
        data, now = DemoData(), timezone.now()
        for label in ("customers", "follow-ups", "transactions"):
            self.counts[label] = Counts()
        self.counts["customers"].existing = sum(external_id(i) in existing for i in range(total))
        missing = [i for i in range(total) if external_id(i) not in existing]
        progress = tqdm(
            total=len(missing), desc="Customers", unit="", disable=not self.show_progress
        )
        for start in range(0, len(missing), BATCH_SIZE):
            batch = [
                data.customer(index, reps[index % len(reps)], now)
                for index in missing[start : start + BATCH_SIZE]
            ]
            self.insert_batch(batch, tags)
            progress.update(len(batch))
        progress.close()

    def insert_batch(self, batch: list[DemoCustomer], tags: dict[str, int]) -> None:
        customers = [row.customer for row in batch]
        Customer.objects.bulk_create(customers)
        # Not every backend returns primary keys from bulk_create: read them back by external id.
        ids = dict(
            Customer.objects.filter(
                wecom_external_userid__in=[c.wecom_external_userid for c in customers]
            ).values_list("wecom_external_userid", "pk")
        )
        for customer in customers:
            customer.pk = ids[customer.wecom_external_userid]
        Through = Customer.tags.through
        Through.objects.bulk_create(
            Through(customer_id=row.customer.pk, tag_id=tags[name])
            for row in batch
            for name in row.tag_names
        )
        follow_ups = [note for row in batch for note in row.follow_ups]
        transactions = [item for row in batch for item in row.transactions]
        FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH_SIZE)
        Transaction.objects.bulk_create(transactions, batch_size=BATCH_SIZE)
        self.counts["customers"].created += len(customers)
        self.counts["follow-ups"].created += len(follow_ups)
        self.counts["transactions"].created += len(transactions)

    # --- output --------------------------------------------------------------------------

    def print_summary(self, elapsed: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {elapsed:.1f} s:"))
        for label, counts in self.counts.items():
            self.stdout.write(f"  {label:<15} {counts}")

    def print_logins(self, password: str, customers: int) -> None:
        accounts = self.counts["staff accounts"]
        if not accounts.existing:
            intro = f"password: {password}"
        elif not accounts.created:
            intro = "the accounts existed already and kept their passwords"
        else:
            intro = f"{accounts.created} new account(s) got {password}; the others kept theirs"
        self.stdout.write(f"\nDemo logins ({intro}), for /admin/ and /api/v1/auth/token/:")
        rows = [
            ("admin", "superuser", "everything"),
            ("manager1", roles.SALES_MANAGER, f"{SALES} and its sub-departments"),
            ("lead1", roles.TEAM_LEAD, f"{EAST_SALES} / {TEAM_1} (rep1-rep10)"),
            ("lead2", roles.TEAM_LEAD, f"{EAST_SALES} / {TEAM_2} (rep11-rep20)"),
            ("rep1..rep20", roles.SALES_REP, f"own customers (~{customers // 20} each)"),
            ("hr1", roles.HR, "staff records; masked customers of leavers"),
            ("legal1", roles.LEGAL, "every customer, may reveal"),
            ("auditor1", roles.AUDITOR, "every customer (masked), audit trail"),
            ("security1", roles.SECURITY_OFFICER, "audit trail and security alerts"),
        ]
        for username, role, sees in rows:
            self.stdout.write(f"  {username:<12} {role:<17} {sees}")
        self.stdout.write(
            "Every account but the reps signs in with a second factor too: their demo TOTP "
            "secrets are in README.md, or run `manage.py demo_otp USER` for the current code."
        )


def check_arguments(customers: int, password: str) -> None:
    if not settings.DEBUG:
        raise CommandError(
            "seed_demo creates accounts with a published password; it refuses to run with "
            "DEBUG off."
        )
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise CommandError(f"--customers must be between 0 and {MAX_CUSTOMERS:,}.")
    try:
        password_validation.validate_password(password)
    except ValidationError as error:
        raise CommandError("--password: " + " ".join(error.messages)) from None
