"""`manage.py seed_demo`: a realistic demo organisation with the same logins every time.

Idempotent: departments, teams, staff, tags and customers are looked up by their natural keys
(name, username, `wecom_external_userid`) before anything is created, so re-running with the
same `--customers` creates nothing and a larger number only adds the missing customers. The data
is generated from one fixed seed: customer N always gets the same name, mobile and ID number.

On top of that organisation: a WeCom chat archive stored through the ingest service
(customers/management/demo/archive.py; message ids are fixed, so ingest answers "duplicate"
the second time), and the stories told through the services (demo/stories.py): follow-ups due
today, an offboarding case in every state for seven extra reps (rep21-rep27), a legal hold,
reveals and exports of today, a leaver's reads and a locked-out sign-in raising alerts.
"""

import random
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple, TypeVar

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from chats.ingest import MAX_BATCH, ingest_records
from chats.models import Conversation, Message
from customers.management.demo import stories
from customers.management.demo.archive import (
    DEFAULT_MESSAGES,
    LEAVER_SHAPE,
    ROOM_PREFIX,
    ROOM_SHAPE,
    Chat,
    ChatCustomer,
    ChatStaff,
    build_records,
    salutation,
)
from customers.management.demo.scripts import RECENT_PRIVATE, RECENT_ROOM
from customers.models import (
    Customer,
    FollowUp,
    Tag,
    Transaction,
    id_number_index,
    mobile_index,
)
from offboarding.models import OffboardingCase
from scrm.audit.models import AccessEvent, SecurityAlert
from scrm.masking.validation import id_checksum_char
from scrm.staff import mfa, roles
from scrm.staff.models import Department, Staff, Team
from scrm.staff.roles import ensure_role_groups

Choice = TypeVar("Choice", bound=str)

SEED = 2026
BATCH_SIZE = 500
MAX_CUSTOMERS = 1_000_000
MAX_MESSAGES = 1_000_000
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
    # Last, so the accounts above keep the names (and hire dates) they had before these.
    specs += [
        StaffSpec(
            leaver.username, roles.SALES_REP, EAST_SALES, TEAM_OF_LEAD[leaver.lead], leaver.lead
        )
        for leaver in sorted(stories.LEAVERS, key=lambda leaver: int(leaver.username[3:]))
    ]
    return specs


REP_USERNAMES = [f"rep{number}" for number in range(1, 21)]
TEAM_OF_LEAD = {"lead1": TEAM_1, "lead2": TEAM_2}
# The leavers' customers: indices past --customers' range, a fixed book per leaver.
LEAVER_FIRST_INDEX = 1_000_000
# Private chats for the reps' first customers (about 12 each), all of the leavers' customers,
# and a few group rooms: (rep, lead in the room or None, customers, title).
CHAT_CUSTOMERS = 240
LEAVER_CHAT_WEIGHT = 3.0
ROOM_WEIGHT = 3.0
ROOMS = [
    ("rep1", "lead1", 4, "华东渠道客户交流群"),
    ("rep6", None, 3, "门店系统上线项目群"),
    ("rep11", "lead2", 4, "年度续约沟通群"),
    ("rep15", None, 3, "会员积分系统培训群"),
    ("rep21", None, 3, "售后服务群"),
]

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

    def customer(self, index: int, owner: Staff | None, now) -> DemoCustomer:
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
                    staff_id=customer.owner_id,  # type: ignore[misc]  # demo customers have owners
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

    def weighted(self, weights: Mapping[Choice, int]) -> Choice:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def person_name(self) -> tuple[str, str]:
        return self.fake.last_name(), self.fake.first_name()


def external_id(index: int) -> str:
    return f"{EXTERNAL_ID_PREFIX}{index:07d}"


class Command(BaseCommand):
    help = (
        "Create a demo organisation (departments, teams, staff in every role), N fake customers "
        "with follow-ups, a WeCom chat archive and offboarding cases in every state. "
        "Idempotent: re-running creates only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, default=2000, help="How many demo customers (default 2000)."
        )
        parser.add_argument(
            "--messages",
            type=int,
            default=DEFAULT_MESSAGES,
            help=f"How many chat-archive messages (default {DEFAULT_MESSAGES:,}).",
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

    def handle(
        self,
        *args,
        customers: int,
        messages: int,
        password: str | None,
        if_empty: bool,
        **options,
    ):
        password = settings.SCRM_DEMO_PASSWORD if password is None else password
        check_arguments(customers, password, messages)
        if if_empty and Staff.objects.exists():
            self.stdout.write("Staff accounts already exist: demo data not seeded (--if-empty).")
            return
        started = time.monotonic()
        self.show_progress = options["verbosity"] > 0 and sys.stderr.isatty()
        self.counts: dict[str, Counts] = {}
        self.customer_total = customers
        alerts_before = SecurityAlert.objects.count()
        with transaction.atomic():
            ensure_role_groups()  # normally done by migrate; cheap and idempotent
            departments, teams = self.seed_organisation()
            staff = self.seed_staff(departments, teams, password)
            self.seed_tags()
            self.seed_customers(customers, staff)
            self.seed_leavers_customers(staff)
            self.seed_archive(customers, messages, staff)
            self.tally_all("due follow-ups", stories.seed_due_follow_ups(staff, self.book))
            self.seed_cases(staff)
            self.tally_all("legal holds", stories.seed_legal_hold(staff))
            events_before = AccessEvent.objects.count()
            reveals = stories.seed_reveals(staff, self.book)
            exports = stories.seed_exports(staff)
            reads = stories.seed_notice_reads(Staff.objects.get(username=stories.NOTICE_READER))
            sign_ins = stories.seed_failed_sign_ins(stories.LOCKED_OUT)
            self.tally_all("reveals, exports", reveals + exports)
            self.tally_all("leaver reads", reads)
            self.tally_all("failed sign-ins", sign_ins)
            self.counts["access events"] = Counts(
                AccessEvent.objects.count() - events_before, events_before
            )
        alerts_after = SecurityAlert.objects.count()
        self.counts["security alerts"] = Counts(alerts_after - alerts_before, alerts_before)
        if options["verbosity"] > 0:
            self.print_summary(time.monotonic() - started)
            self.print_archive()
            self.print_logins(password, customers)

    def tally_all(self, label: str, created: list[bool]) -> None:
        counts = self.counts.setdefault(label, Counts())
        counts.created += sum(created)
        counts.existing += len(created) - sum(created)

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
                department = Department.objects.create(
                    name=name, parent=departments.get(parent) if parent else None
                )
                self.tally("departments", True)
            else:
                self.tally("departments", False)
            departments[name] = department
        teams: dict[str, Team] = {}
        for name, department_name in TEAMS:
            teams[name], created = Team.objects.get_or_create(
                name=name, department=departments[department_name]
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
                    "supervisor": staff.get(spec.supervisor) if spec.supervisor else None,
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
        reps = [staff[username] for username in REP_USERNAMES]
        owners = {index: reps[index % len(reps)] for index in range(total)}
        self.insert_customers("customers", owners, desc="Customers")

    def seed_leavers_customers(self, staff: dict[str, Staff]) -> None:
        """Each leaver's book, whatever --customers says (the cases need something to move)."""
        self.insert_customers("leavers' customers", self.leaver_books(staff))

    @staticmethod
    def leaver_books(staff: dict[str, Staff]) -> dict[int, Staff]:
        """Customer index -> leaver, for the fixed indices past --customers' range."""
        books, index = {}, LEAVER_FIRST_INDEX
        for leaver in stories.LEAVERS:
            for _ in range(leaver.customers):
                books[index] = staff[leaver.username]
                index += 1
        return books

    def insert_customers(self, label: str, owners: dict[int, Staff], desc: str = "") -> None:
        wanted = {external_id(index): index for index in owners}
        existing = set(
            Customer.objects.filter(wecom_external_userid__in=list(wanted)).values_list(
                "wecom_external_userid", flat=True
            )
        )
        tags = dict(Tag.objects.filter(name__in=TAGS).values_list("name", "pk"))
        data, now = DemoData(), timezone.now()
        self.counts[label] = Counts(existing=len(existing))
        for other in ("follow-ups", "transactions"):
            self.counts.setdefault(other, Counts())
        missing = [index for key, index in wanted.items() if key not in existing]
        progress = tqdm(
            total=len(missing), desc=desc or label, unit="", disable=not self.show_progress
        )
        for start in range(0, len(missing), BATCH_SIZE):
            batch = [
                data.customer(index, owners[index], now)
                for index in missing[start : start + BATCH_SIZE]
            ]
            self.insert_batch(batch, tags, label)
            progress.update(len(batch))
        progress.close()

    def book(self, rep: Staff) -> list[Customer]:
        """A rep's first three round-robin demo customers (whoever owns them now), or a
        leaver's own customers: what the stories pick from, the same on every run."""
        if rep.username not in REP_USERNAMES:
            return list(Customer.objects.filter(owner=rep).order_by("pk")[:3])
        first = REP_USERNAMES.index(rep.username)
        keys = [external_id(i) for i in range(first, self.customer_total, len(REP_USERNAMES))]
        found = Customer.objects.filter(wecom_external_userid__in=keys[:3])
        return sorted(found, key=lambda customer: customer.wecom_external_userid)

    def insert_batch(self, batch: list[DemoCustomer], tags: dict[str, int], label: str) -> None:
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
        self.counts[label].created += len(customers)
        self.counts["follow-ups"].created += len(follow_ups)
        self.counts["transactions"].created += len(transactions)

    # --- chat archive --------------------------------------------------------------------

    def chat_plan(self, total: int, staff: dict[str, Staff]) -> list[Chat]:
        """The private chats of the reps' first customers and of every leaver's customer,
        and the group rooms, as the demo's generator draws them (no database read)."""
        data, now = DemoData(), timezone.now()

        def person(username: str) -> ChatStaff:
            member = staff[username]
            full_name = member.last_name + member.first_name
            return ChatStaff(username, f"{member.last_name}经理", full_name)

        def customer(index: int) -> ChatCustomer:
            row = data.customer(index, None, now).customer
            key = external_id(index)
            return ChatCustomer(
                key,
                salutation(row.name, key, SEED),
                row.company,
                row.mobile,
                row.id_number,
                row.email,
                row.address,
            )

        chats: list[Chat] = []
        books: dict[str, list[ChatCustomer]] = {}
        for index in range(min(total, CHAT_CUSTOMERS)):
            username = REP_USERNAMES[index % len(REP_USERNAMES)]
            book = books.setdefault(username, [])
            book.append(customer(index))
            recent = RECENT_PRIVATE[(len(book) - 1) % len(RECENT_PRIVATE)]
            chats.append(
                Chat(book[-1].external_id, person(username), [book[-1]], recent_topic=recent)
            )
        for index, leaver in self.leaver_books(staff).items():
            spec = next(s for s in stories.LEAVERS if s.username == leaver.username)
            book = books.setdefault(leaver.username, [])
            book.append(customer(index))
            leaving = spec.state != stories.Status.CANCELLED
            successor = person(spec.successors[0]).salutation if spec.successors else "团队里的同事"
            chats.append(
                Chat(
                    book[-1].external_id,
                    person(leaver.username),
                    [book[-1]],
                    weight=LEAVER_CHAT_WEIGHT,
                    shape=LEAVER_SHAPE,
                    recent_topic=RECENT_PRIVATE[(len(book) - 1) % len(RECENT_PRIVATE)],
                    successor=successor if leaving else "",
                )
            )
        for number, (username, lead, size, title) in enumerate(ROOMS, start=1):
            members = books.get(username, [])[:size]
            if len(members) < 2:
                continue  # a room needs several customers; too few demo customers for this one
            room = f"{ROOM_PREFIX}{number:04d}"
            chats.append(
                Chat(
                    room,
                    person(username),
                    members,
                    weight=ROOM_WEIGHT,
                    shape=ROOM_SHAPE,
                    recent_topic=RECENT_ROOM[number % len(RECENT_ROOM)],
                    room_id=room,
                    title=title,
                    silent=[lead] if lead else [],
                )
            )
        return chats

    def seed_archive(self, customers: int, messages: int, staff: dict[str, Staff]) -> None:
        """Sensitive-word rules first (ingest raises their alerts), then the archive through
        the ingest service in batches, as `import_chats` stores a file."""
        self.tally_all("alert rules", stories.seed_rules())
        chats = self.chat_plan(customers, staff)
        records = build_records(chats, total=messages, now=timezone.now(), seed=SEED)
        rooms = Conversation.objects.filter(room_id__startswith=ROOM_PREFIX)
        rooms_before = rooms.count()
        counts = self.counts.setdefault("chat messages", Counts())
        progress = tqdm(
            total=len(records), desc="Chat archive", unit="", disable=not self.show_progress
        )
        service = staff[SERVICE_ACCOUNT]
        for start in range(0, len(records), MAX_BATCH):
            batch = records[start : start + MAX_BATCH]
            results = ingest_records(records=batch, actor=service)
            errors = [r for r in results if r.status == "error"]
            if errors:
                raise CommandError(f"demo record {errors[0].msgid} refused: {errors[0].reason}")
            counts.created += sum(r.status == "created" for r in results)
            counts.existing += sum(r.status == "duplicate" for r in results)
            progress.update(len(batch))
        progress.close()
        # The archive records carry no room names (WeCom's group-chat API has them).
        for chat in chats:
            if chat.room_id:
                rooms.filter(room_id=chat.room_id, title="").update(title=chat.title)
        self.counts["group rooms"] = Counts(rooms.count() - rooms_before, rooms_before)

    # --- stories -------------------------------------------------------------------------

    def seed_cases(self, staff: dict[str, Staff]) -> None:
        before = OffboardingCase.objects.filter(
            leaver__username__in=[leaver.username for leaver in stories.LEAVERS]
        ).count()
        created = stories.seed_cases(staff)
        self.counts["offboarding cases"] = Counts(len(created), before)

    # --- output --------------------------------------------------------------------------

    def print_summary(self, elapsed: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {elapsed:.1f} s:"))
        width = max(len(label) for label in self.counts) + 2
        for label, counts in self.counts.items():
            self.stdout.write(f"  {label:<{width}} {counts}")

    def print_archive(self) -> None:
        """What the demo holds now (not only what this run added)."""
        messages = stories.demo_messages()
        total = messages.count()
        if total:
            oldest = messages.order_by("sent_at").values_list("sent_at", flat=True).first()
            cutoff = timezone.now() - timedelta(days=settings.SCRM_CHAT_RETENTION_DAYS)
            by_type = messages.order_by().values_list("msg_type").annotate(n=Count("pk"))
            kinds = dict(by_type.values_list("msg_type", "n"))
            days = (timezone.now() - oldest).days
            self.stdout.write(
                f"\nChat archive: {total:,} messages over {days} days, "
                f"{kinds.get(Message.Type.IMAGE, 0)} images, {kinds.get(Message.Type.FILE, 0)} "
                f"files, {messages.filter(revoked_at__isnull=False).count()} revoked, "
                f"{messages.filter(sent_at__lt=cutoff).count()} past the "
                f"{settings.SCRM_CHAT_RETENTION_DAYS}-day retention."
            )
        states = dict(
            OffboardingCase.objects.filter(
                leaver__username__in=[leaver.username for leaver in stories.LEAVERS]
            ).values_list("leaver__username", "status")
        )
        if states:
            cases = ", ".join(f"{name} {state}" for name, state in sorted(states.items()))
            self.stdout.write(f"Offboarding cases: {cases}.")
        alerts = stories.security_alerts()
        if alerts:
            listed = ", ".join(f"{count} {kind}" for kind, count in alerts.items())
            self.stdout.write(f"Security alerts: {listed}.")

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
            ("rep21..rep27", roles.SALES_REP, "leavers: one offboarding case in each state"),
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


def check_arguments(customers: int, password: str, messages: int = DEFAULT_MESSAGES) -> None:
    if not settings.DEBUG:
        raise CommandError(
            "seed_demo creates accounts with a published password; it refuses to run with "
            "DEBUG off."
        )
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise CommandError(f"--customers must be between 0 and {MAX_CUSTOMERS:,}.")
    if not 0 <= messages <= MAX_MESSAGES:
        raise CommandError(f"--messages must be between 0 and {MAX_MESSAGES:,}.")
    try:
        password_validation.validate_password(password)
    except ValidationError as error:
        raise CommandError("--password: " + " ".join(error.messages)) from None
