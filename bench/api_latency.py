"""Benchmarks 1 and 2: the customer list, detail and reveal, against a bare DRF baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python bench/api_latency.py [--requests 200] [--label full]

Runs in-process through django.test.Client, so every request goes through the whole stack:
middleware, JWT authentication (a real access token per user), throttling, the visibility
scope, masking, pagination and the access event. The baseline is a bare DRF ListAPIView /
RetrieveAPIView defined here, over the same rows (the owner-based part of each role's scope,
as plain filters) with stock DRF pagination and a plain ModelSerializer: no scope, masking or
access event. Protected and bare requests alternate, so both see the same cache state.

Users (from generate_dataset): the rep with the median book, lead1 (a team), manager1 (a
region, ~1/5 of the customers), manager0 (the whole sales tree, ~all customers), legal1
(everything, no owner filter at all).
"""

import argparse
import random
import types

import benchlib
from django.conf import settings
from django.db.models import Count, Q
from django.urls import clear_url_caches, include, path
from rest_framework import generics, serializers

from customers.models import Customer
from customers.serializers import CustomerSerializer
from scrm.staff import roles

REVEAL_BODY = {"field": "mobile", "reason": "benchmark: calling the customer back"}


# --- the baseline ------------------------------------------------------------------------------


def same_rows(user) -> Q:
    """The owner-based rows of the user's role scope, as a plain filter (no grants)."""
    names = user.role_names
    if roles.LEGAL in names or roles.AUDITOR in names:
        return Q()
    if roles.SALES_MANAGER in names:
        return Q(owner__department_id__in=user.department.descendant_ids())
    if roles.TEAM_LEAD in names:
        return Q(owner__team_id=user.team_id)
    return Q(owner_id=user.pk)


class BareCustomerSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    owner_name = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Customer
        fields = CustomerSerializer.Meta.fields


class BareCustomerList(generics.ListAPIView):
    serializer_class = BareCustomerSerializer

    def get_queryset(self):
        return (
            Customer.objects.filter(same_rows(self.request.user))
            .select_related("owner")
            .prefetch_related("tags")
        )


class BareCustomerDetail(generics.RetrieveAPIView):
    serializer_class = BareCustomerSerializer

    def get_queryset(self):
        return Customer.objects.select_related("owner").prefetch_related("tags")


def install_baseline_urls() -> None:
    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [
        path("bench/bare/customers/", BareCustomerList.as_view()),
        path("bench/bare/customers/<int:pk>/", BareCustomerDetail.as_view()),
        path("", include("scrm.urls")),
    ]
    settings.ROOT_URLCONF = urls
    clear_url_caches()


# --- users and ids -----------------------------------------------------------------------------


def median_rep():
    reps = (
        benchlib.Staff.objects.filter(
            groups__name=roles.SALES_REP, is_active=True, employment_status="active"
        )
        .annotate(book=Count("customers"))
        .order_by("book", "pk")
    )
    listed = list(reps)
    return listed[len(listed) // 2]


def bench_users() -> list[tuple[str, object]]:
    users = [("rep (median book)", median_rep())]
    for label, username in (
        ("team lead", "lead1"),
        ("sales manager, region", "manager1"),
        ("sales manager, all sales", "manager0"),
        ("legal (all)", "legal1"),
    ):
        users.append((label, benchlib.staff(username)))
    return users


def sample_ids(user, count: int, seed: int, action: str = "view") -> list[int]:
    """Random customer ids open to `action`, drawn without loading the scope: random probes."""
    visible = Customer.objects.visible_to(user, action)
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng, found = random.Random(seed), []
    owned = list(visible.order_by("-pk").values_list("pk", flat=True)[: count * 4])
    if len(owned) < count * 4:  # a small book: take it all
        rng.shuffle(owned)
        return (owned * (count // max(len(owned), 1) + 1))[:count]
    while len(found) < count:
        probe = rng.randrange(1, top + 1)
        pk = visible.filter(pk__gte=probe).order_by("pk").values_list("pk", flat=True).first()
        if pk:
            found.append(pk)
    return found


# --- measurements ------------------------------------------------------------------------------


def measure_list(label, user, requests: int) -> dict:
    client = benchlib.jwt_client(user)
    calls = {
        "protected": lambda i: benchlib.expect_ok(client.get("/api/v1/customers/")),
        "bare": lambda i: benchlib.expect_ok(client.get("/bench/bare/customers/")),
    }
    samples = benchlib.interleaved(calls, requests=requests)
    first = client.get("/api/v1/customers/").json()
    queries = {
        f"protected page_size={size}": benchlib.count_queries(
            lambda size=size: client.get(f"/api/v1/customers/?page_size={size}")
        )[0]
        for size in (10, 50, 200)
    }
    queries["bare page_size=50"] = benchlib.count_queries(
        lambda: client.get("/bench/bare/customers/")
    )[0]
    protected, bare = (benchlib.summarize(samples[k]) for k in ("protected", "bare"))
    return {
        "user": label,
        "username": user.username,
        "visible": first["count"],
        "count_exact": first.get("count_exact", True),
        "protected": protected,
        "bare": bare,
        "ratio_p95": round(protected["p95_ms"] / bare["p95_ms"], 2),
        "queries": queries,
    }


def measure_detail_and_reveal(label, user, requests: int, reveal: bool) -> dict:
    client = benchlib.jwt_client(user)
    # Revealable ids: a share opens a customer to view, not to reveal (scrm.access.scope).
    ids = sample_ids(user, requests + 5, seed=user.pk, action="reveal" if reveal else "view")
    calls = {
        "detail": lambda i: benchlib.expect_ok(client.get(f"/api/v1/customers/{ids[i]}/")),
        "bare detail": lambda i: benchlib.expect_ok(client.get(f"/bench/bare/customers/{ids[i]}/")),
    }
    samples = benchlib.interleaved(calls, requests=requests, warmup=5)
    result = {
        "user": label,
        "username": user.username,
        "detail": benchlib.summarize(samples["detail"]),
        "bare detail": benchlib.summarize(samples["bare detail"]),
        "detail queries": benchlib.count_queries(
            lambda: client.get(f"/api/v1/customers/{ids[0]}/")
        )[0],
    }
    if reveal:
        url = "/api/v1/customers/{}/reveal/"
        reveal_samples = benchlib.timed(
            lambda i: benchlib.expect_ok(
                client.post(url.format(ids[i]), REVEAL_BODY, content_type="application/json")
            ),
            requests=requests,
        )
        result["reveal"] = benchlib.summarize(reveal_samples)
        result["reveal queries"] = benchlib.count_queries(
            lambda: client.post(url.format(ids[1]), REVEAL_BODY, content_type="application/json")
        )[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--users", help="comma-separated subset of usernames")
    args = parser.parse_args()
    benchlib.require_bench_database()
    install_baseline_urls()
    users = bench_users()
    if args.users:
        wanted = set(args.users.split(","))
        users = [(label, user) for label, user in users if user.username in wanted]

    lists, details = [], []
    for label, user in users:
        result = measure_list(label, user, args.requests)
        lists.append(result)
        print(
            f"list  {label:<26} visible {result['visible']:>9,}  protected p50 "
            f"{result['protected']['p50_ms']:7.1f} p95 {result['protected']['p95_ms']:7.1f} | bare "
            f"p50 {result['bare']['p50_ms']:7.1f} p95 {result['bare']['p95_ms']:7.1f} | "
            f"x{result['ratio_p95']:.2f} | queries {result['queries']}",
            flush=True,
        )
    for label, user in users:
        can_reveal = label.startswith(("rep", "legal", "team"))
        result = measure_detail_and_reveal(label, user, args.requests, reveal=can_reveal)
        details.append(result)
        reveal = result.get("reveal")
        print(
            f"detail {label:<25} p50 {result['detail']['p50_ms']:6.1f} p95 "
            f"{result['detail']['p95_ms']:6.1f} (bare p95 {result['bare detail']['p95_ms']:.1f}, "
            f"{result['detail queries']} queries)"
            + (
                f"  reveal p50 {reveal['p50_ms']:.1f} p95 {reveal['p95_ms']:.1f} "
                f"({result['reveal queries']} queries)"
                if reveal
                else ""
            ),
            flush=True,
        )
    benchlib.save(
        "api_latency",
        {"requests": args.requests, "list": lists, "detail": details},
        label=args.label,
    )


if __name__ == "__main__":
    main()
