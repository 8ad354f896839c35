"""Benchmark 7: what recording every read costs per request, and how fast the audit tables grow.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python bench/audit_cost.py [--requests 1000]

Three figures:
- `record_access` alone, called directly (one INSERT of one AccessEvent row);
- the customer list with and without its access event, interleaved, the difference being the
  cost a user pays per request (the no-event variant patches `record_access` out of the viewset
  for those requests only);
- the growth of `audit_accessevent` (rows and bytes, table + indexes + TOAST) per 1,000 list
  requests (page of 50 ids per event), per 1,000 detail views (1 id) and per 1,000 searches.
  `auditlog_logentry` is measured too: reads must not write to it.
"""

import argparse
from unittest import mock

import benchlib
from django.db import connection

from customers.models import Customer
from scrm.audit.models import AccessEvent, Channel
from scrm.audit.services import record_access

TABLES = ("audit_accessevent", "auditlog_logentry")


def sizes() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        out = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")
            out[table] = cursor.fetchone()
        return out


def growth(before, after, requests: int) -> dict:
    scale = 1000 / requests
    return {
        table: {
            "rows_per_1000": round((after[table][0] - before[table][0]) * scale),
            "kib_per_1000": round((after[table][1] - before[table][1]) * scale / 1024, 1),
        }
        for table in TABLES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--label", default="latest")
    args = parser.parse_args()
    benchlib.require_bench_database()
    lead = benchlib.staff("lead1")
    client = benchlib.jwt_client(lead)
    ids = list(Customer.objects.visible_to(lead).values_list("pk", flat=True)[:50])

    direct = benchlib.timed(
        lambda i: record_access(
            actor=lead,
            action="list",
            model=Customer,
            object_ids=ids,
            channel=Channel.API,
            query={"page": "1"},
        ),
        requests=args.requests,
    )
    print(f"record_access alone: {benchlib.summarize(direct)}", flush=True)

    def without_event(i):
        with mock.patch("scrm.api.viewsets.record_access"):
            return benchlib.expect_ok(client.get("/api/v1/customers/"))

    paired = benchlib.interleaved(
        {
            "with event": lambda i: benchlib.expect_ok(client.get("/api/v1/customers/")),
            "without event": without_event,
        },
        requests=min(args.requests, 400),
    )
    with_event = benchlib.summarize(paired["with event"])
    no_event = benchlib.summarize(paired["without event"])
    print(f"list with event {with_event}\nlist without event {no_event}", flush=True)

    grown = {}
    searches = ["合同", "企业微信", "价"]
    for name, call in (
        ("list (50 ids)", lambda i: client.get("/api/v1/customers/")),
        ("detail (1 id)", lambda i: client.get(f"/api/v1/customers/{ids[i % len(ids)]}/")),
        ("search (50 ids)", lambda i: client.get(f"/api/v1/chats/search/?q={searches[i % 3]}")),
    ):
        before = sizes()
        requests = args.requests if name != "search (50 ids)" else min(args.requests, 300)
        benchlib.timed(
            lambda i, call=call: benchlib.expect_ok(call(i)), requests=requests, warmup=0
        )
        grown[name] = growth(before, sizes(), requests)
        print(f"growth per 1,000 {name}: {grown[name]}", flush=True)

    event = AccessEvent.objects.order_by("-pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(e.*) FROM audit_accessevent e WHERE id = %s", [event.pk]
        )
        row_bytes = cursor.fetchone()[0]
    benchlib.save(
        "audit_cost",
        {
            "record_access_alone": benchlib.summarize(direct),
            "list_with_event": with_event,
            "list_without_event": no_event,
            "event_cost_p50_ms": round(with_event["p50_ms"] - no_event["p50_ms"], 2),
            "growth": grown,
            "last_event_row_bytes": row_bytes,
            "events_total": sizes()["audit_accessevent"][0],
        },
        label=args.label,
    )


if __name__ == "__main__":
    main()
