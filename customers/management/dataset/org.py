"""A sales organisation of any size: departments three levels deep, teams of ten, every role.

    销售部 (manager0: Sales manager, sees the whole tree)
      ├─ 华东大区 (manager1)                          one region per ~100 staff
      │    ├─ 华东大区一分部 ─ teams 华东大区一分部1组 ... (lead + 9 reps each)
      │    └─ 华东大区二分部 ─ ...
      └─ 华北大区 (manager2) ...
    人力资源部 (hr1..), 法务部 (legal1..), 内审部 (auditor1..), 信息安全部 (security1)
    admin (superuser), wecom-sync (ingest only)

Roles are assigned the way seed_demo does it: the role groups (scrm.staff.roles) looked up by
name and added to each account. Staff rows are few (hundreds), so the ORM is fast enough here.
A couple of reps are in their notice period and one has departed, so the HR scope and the
offboarding benchmark find leavers with customers.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from scrm.staff import roles
from scrm.staff.models import Department, Staff, Team
from scrm.staff.roles import ensure_role_groups

REGIONS = ["华东大区", "华北大区", "华南大区", "西南大区", "华中大区", "西北大区", "东北大区"]
BRANCHES = ["一分部", "二分部"]
TEAM_SIZE = 10  # a lead and nine reps
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰飞鹏辉宇浩"
SERVICE_ACCOUNT = "wecom-sync"


@dataclass
class Org:
    """Who is who, as ids: what the customer and message generators need."""

    sellers: list[int] = field(default_factory=list)  # reps and leads: customer owners
    seller_weights: list[float] = field(default_factory=list)
    wecom: dict[int, str] = field(default_factory=dict)  # staff id -> wecom_userid
    usernames: dict[str, int] = field(default_factory=dict)


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(SURNAMES), "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def build_org(*, staff: int, password: str, seed: int) -> Org:
    """Create departments, teams and `staff` accounts (at least 30); returns their ids."""
    ensure_role_groups()
    rng = random.Random(seed)
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL_ROLES)}
    hashed = make_password(password)
    org = Org()
    hired = date(2016, 1, 1)

    def add(username, role, department=None, team=None, supervisor=None, **extra) -> Staff:
        last, first = _person(rng)
        member = Staff.objects.create(
            username=username,
            password=hashed,
            first_name=first,
            last_name=last,
            email=f"{username}@bench.scrm.example",
            is_staff=role is not None,
            department=department,
            team=team,
            supervisor=supervisor,
            wecom_userid=username if role else None,
            hired_on=hired + timedelta(days=rng.randrange(3000)),
            **extra,
        )
        if role:
            member.groups.add(groups[role])
        org.usernames[username] = member.pk
        if member.wecom_userid:
            org.wecom[member.pk] = member.wecom_userid
        return member

    add("admin", None, is_superuser=True)
    service = Staff.objects.create(username=SERVICE_ACCOUNT, password=hashed, is_staff=False)
    service.user_permissions.add(
        Permission.objects.get(content_type__app_label="chats", codename="ingest_message")
    )
    org.usernames[SERVICE_ACCOUNT] = service.pk
    support = max(4, staff // 50)  # HR, legal, audit, security
    for name, role, count in (
        ("人力资源部", roles.HR, support // 2),
        ("法务部", roles.LEGAL, max(1, support // 4)),
        ("内审部", roles.AUDITOR, max(1, support // 4)),
        ("信息安全部", roles.SECURITY_OFFICER, 1),
    ):
        department = Department.objects.create(name=name)
        prefix = {roles.HR: "hr", roles.LEGAL: "legal", roles.AUDITOR: "auditor"}.get(
            role, "security"
        )
        for number in range(1, max(1, count) + 1):
            add(f"{prefix}{number}", role, department)

    sales = Department.objects.create(name="销售部")
    head = add("manager0", roles.SALES_MANAGER, sales)
    left = max(staff, 30) - len(org.usernames)
    regions = max(1, min(len(REGIONS), round(left / 100)))
    left -= regions
    teams_total = max(regions * len(BRANCHES), left // TEAM_SIZE)
    lead_number = rep_number = 0
    for r in range(regions):
        region = Department.objects.create(name=REGIONS[r], parent=sales)
        manager = add(f"manager{r + 1}", roles.SALES_MANAGER, region, supervisor=head)
        for b, branch_name in enumerate(BRANCHES):
            branch = Department.objects.create(name=REGIONS[r] + branch_name, parent=region)
            # Teams are dealt round-robin over every branch of every region.
            own = range(r * len(BRANCHES) + b, teams_total, regions * len(BRANCHES))
            for t, _ in enumerate(own, start=1):
                team = Team.objects.create(name=f"{branch.name}{t}组", department=branch)
                lead_number += 1
                lead = add(f"lead{lead_number}", roles.TEAM_LEAD, branch, team, manager)
                org.sellers.append(lead.pk)
                org.seller_weights.append(0.3)  # leads keep a few key accounts themselves
                size = TEAM_SIZE - 1 + (1 if lead_number <= left % TEAM_SIZE else 0)
                for _ in range(size):
                    rep_number += 1
                    add_rep(add, org, rng, rep_number, branch, team, lead)
    return org


def add_rep(add, org: Org, rng: random.Random, number: int, branch, team, lead) -> None:
    extra = {}
    if number in (7, 23):  # two reps are serving their notice period
        extra = {"employment_status": Staff.Status.NOTICE, "notice_date": date.today()}
    elif number == 41:  # and one has left without an offboarding yet
        extra = {
            "employment_status": Staff.Status.DEPARTED,
            "departed_at": timezone.now(),
            "is_active": False,
        }
    rep = add(f"rep{number}", roles.SALES_REP, branch, team, lead, **extra)
    org.sellers.append(rep.pk)
    # Books differ: a few reps hold three times the average, some a third of it.
    org.seller_weights.append(rng.lognormvariate(0, 0.5))
