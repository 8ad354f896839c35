"""EXPLAIN ANALYZE every slow query of one API request, as a given user.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scrm_bench \\
        .venv/bin/python bench/explain_slow.py manager0 /api/v1/customers/ [--min-ms 5]
        .venv/bin/python bench/explain_slow.py legal1 '/api/v1/chats/search/?q=好'
        .venv/bin/python bench/explain_slow.py rep12 /api/v1/customers/42/reveal/ \\
            --post '{"field": "mobile", "reason": "x"}'

Sends the request once to warm caches, once more capturing its queries (django's
CaptureQueriesContext, SQL with the parameters bound as executed), then runs
EXPLAIN (ANALYZE, BUFFERS) on each query that took at least --min-ms (SELECTs only: writes are
shown with their time but not re-executed). This is how the plans in docs/benchmarks.md were
taken.
"""

import argparse
import json

import benchlib
from django.db import connection
from django.test.utils import CaptureQueriesContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username")
    parser.add_argument("url")
    parser.add_argument("--post", help="JSON body: send a POST instead of a GET")
    parser.add_argument("--min-ms", type=float, default=5.0)
    args = parser.parse_args()
    benchlib.require_bench_database()
    client = benchlib.jwt_client(benchlib.staff(args.username))

    def send():
        if args.post:
            return client.post(args.url, json.loads(args.post), content_type="application/json")
        return client.get(args.url)

    send()
    with CaptureQueriesContext(connection) as captured:
        response = send()
    print(f"{response.status_code} {args.url}: {len(captured)} queries")
    for number, query in enumerate(captured.captured_queries, start=1):
        took = float(query["time"]) * 1000
        sql = query["sql"]
        print(f"\n#{number} {took:.1f} ms  {sql[:160]}{'...' if len(sql) > 160 else ''}")
        if took < args.min_ms or not sql.lstrip().upper().startswith("SELECT"):
            continue
        print(sql)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            for (line,) in cursor.fetchall():
                print("    " + line)


if __name__ == "__main__":
    main()
