"""Render bench/results/<label>/*.json as Markdown and put it into docs/benchmarks.md.

    .venv/bin/python bench/report.py --label quick            # replace that run's section
    .venv/bin/python bench/report.py --label quick --print    # only print it

The section sits between `<!-- bench:<label>:begin -->` and `<!-- bench:<label>:end -->`; it is
replaced on every run and appended at the end the first time. Everything outside the markers
(the analysis, the before/after tables at full scale) is left alone. No Django needed.
"""

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def ms(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def load(label: str) -> dict[str, dict]:
    folder = RESULTS / label
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def dataset_line(results: dict) -> str:
    any_result = next(iter(results.values()))
    d = any_result["dataset"]
    return (
        f"Dataset `{d['database']}`: {d['customers']:,} customers, {d['messages']:,} messages, "
        f"{d['staff']} staff, database {d['db_size_gib']} GiB (at the time of the first result)."
    )


def api_section(data: dict) -> list[str]:
    out = [f"**1. Customer list, page of 50** ({data['requests']} requests per row, ms)", ""]
    rows = []
    for r in data["list"]:
        q = r["queries"]
        counts = "/".join(str(q[f"protected page_size={s}"]) for s in (10, 50, 200))
        rows.append(
            [
                r["user"],
                f"{r['visible']:,}" + ("" if r.get("count_exact", True) else "+"),
                ms(r["protected"]["p50_ms"]),
                ms(r["protected"]["p95_ms"]),
                ms(r["bare"]["p50_ms"]),
                ms(r["bare"]["p95_ms"]),
                f"{r['ratio_p95']:.2f}x",
                counts,
                q["bare page_size=50"],
            ]
        )
    out += table(
        [
            "user",
            "visible",
            "p50",
            "p95",
            "bare p50",
            "bare p95",
            "p95 ratio",
            "queries (page 10/50/200)",
            "bare queries",
        ],  # fmt: skip
        rows,
    )
    out += ["", "**2. Customer detail and reveal** (ms)", ""]
    rows = []
    for r in data["detail"]:
        reveal = r.get("reveal")
        rows.append(
            [
                r["user"],
                ms(r["detail"]["p50_ms"]),
                ms(r["detail"]["p95_ms"]),
                ms(r["bare detail"]["p95_ms"]),
                r["detail queries"],
                ms(reveal["p50_ms"]) if reveal else "–",
                ms(reveal["p95_ms"]) if reveal else "–",
                r.get("reveal queries", "–"),
            ]
        )
    out += table(
        [
            "user",
            "detail p50",
            "detail p95",
            "bare detail p95",
            "queries",
            "reveal p50",
            "reveal p95",
            "reveal queries",
        ],  # fmt: skip
        rows,
    )
    return out


def search_section(data: dict) -> list[str]:
    out = ["", f"**3. Chat search** (up to {data['requests']} requests per row, ms)", ""]
    rows = [
        [
            r["user"],
            r["keyword"],
            r["chars"],
            f"{r['hit_share']:.2%}",
            f"{r['visible_matches']:,}" + ("" if r.get("count_exact", True) else "+"),
            ms(r["p50_ms"]),
            ms(r["p95_ms"]),
            r["n"],
            r["queries"],
        ]
        for r in data["results"]
    ]
    return out + table(
        ["user", "keyword", "chars", "hit rate", "visible matches", "p50", "p95", "n", "queries"],
        rows,
    )


def ingest_section(data: dict) -> list[str]:
    api, imported = data["api"], data["import_chats"]
    return [
        "",
        "**5. Chat ingest**",
        "",
        *table(
            ["path", "messages", "seconds", "messages/s", "note"],
            [
                [
                    "batch API (1,000 per call)",
                    f"{api['messages']:,}",
                    api["seconds"],
                    f"{api['per_second']:,}",
                    f"per batch p50 {api['batch']['p50_ms']:.0f} ms, p95 "
                    f"{api['batch']['p95_ms']:.0f} ms; re-sent batch "
                    f"{api['duplicate_batch_seconds']} s, {api['duplicates_reported']} duplicates",
                ],
                [
                    "import_chats (JSON lines)",
                    f"{imported['messages']:,}",
                    imported["seconds"],
                    f"{imported['per_second']:,}",
                    "",
                ],
                *(
                    [
                        [
                            f"batch API over HTTP, {http['clients']} clients at once",
                            f"{http['messages']:,}",
                            http["seconds"],
                            f"{http['per_second']:,}",
                            f"gunicorn, {http['clients']} workers",
                        ]
                    ]
                    if (http := data.get("api_http"))
                    else []
                ),
                *(
                    [
                        [
                            f"import_chats --workers {parallel['workers']}",
                            f"{parallel['messages']:,}",
                            parallel["seconds"],
                            f"{parallel['per_second']:,}",
                            "",
                        ]
                    ]
                    if (parallel := data.get("import_chats_workers"))
                    else []
                ),
            ],
        ),
    ]


def load_section(data: dict) -> list[str]:
    rows = [
        [
            name,
            f"{r['requests']:,}",
            r["failures"],
            r["rps"],
            ms(r["p50_ms"]),
            ms(r["p95_ms"]),
            ms(r["p99_ms"]),
        ]
        for name, r in data["stats"].items()
    ]
    lines = [
        "",
        f"**6. Load**: gunicorn {data['workers']} workers, locust {data['users']} users, "
        f"{data['duration']}, {data.get('wait', '0.5,1.5').replace(',', '-')} s between a "
        f"user's requests",
        "",
        *table(["request", "count", "errors", "req/s", "p50", "p95", "p99"], rows),
    ]
    if cpu := data.get("cpu"):
        lines += [
            "",
            f"CPU over {cpu['wall_seconds']} s on {cpu['cores']} cores: gunicorn workers "
            f"{cpu['gunicorn_cpu_seconds']} s, "
            f"PostgreSQL backends {cpu['postgres_cpu_seconds']} s.",
        ]
    return lines


def audit_section(data: dict) -> list[str]:
    rows = [
        [
            name,
            g["audit_accessevent"]["rows_per_1000"],
            g["audit_accessevent"]["kib_per_1000"],
            g["auditlog_logentry"]["rows_per_1000"],
        ]
        for name, g in data["growth"].items()
    ]
    return [
        "",
        "**7. Access events**",
        "",
        f"- `record_access` alone: p50 {ms(data['record_access_alone']['p50_ms'])} ms, "
        f"p95 {ms(data['record_access_alone']['p95_ms'])} ms",
        f"- customer list with its event p50 {ms(data['list_with_event']['p50_ms'])} ms, "
        f"without {ms(data['list_without_event']['p50_ms'])} ms: "
        f"{data['event_cost_p50_ms']:.1f} ms per request",
        f"- one list event row: {data['last_event_row_bytes']} bytes; "
        f"{data['events_total']:,} events in the table after the run",
        "",
        *table(
            ["per 1,000 requests", "access event rows", "KiB (table+indexes)", "logentry rows"],
            rows,
        ),
    ]


def purge_section(data: dict) -> list[str]:
    before, after, dry, real = data["before"], data["after"], data["dry_run"], data["purge"]
    return [
        "",
        f"**Retention purge** (default 180 days, batches of {data['batch_size']:,}; run last, "
        "it deletes)",
        "",
        *table(
            ["step", "messages", "s", "messages/s", "WAL MiB"],
            [
                ["dry run", f"{dry['messages']:,}", dry["seconds"], f"{dry['per_second']:,}", ""],
                [
                    "purge",
                    f"{real['deleted']:,}",
                    real["seconds"],
                    f"{real['per_second']:,}",
                    f"{real['wal_mib']:,}",
                ],
            ],
        ),
        "",
        f"Message table: {before['messages']:,} rows, {before['table_mib']:,} MiB with indexes "
        f"before; {after['messages']:,} rows, {after['table_mib']:,} MiB after (space is reused, "
        "not returned, until a VACUUM FULL).",
    ]


def render(label: str) -> str:
    results = load(label)
    if not results:
        raise SystemExit(f"no results in {RESULTS / label}")
    loads = sorted({tuple(r["loadavg"]) for r in results.values() if "loadavg" in r})
    lines = [f"### `make bench` run: {label}", "", dataset_line(results), ""]
    if loads:
        lines += [f"Load average (1/5/15 min) when each script ended: {loads}.", ""]
    if "generate" in results:
        g = results["generate"]
        lines += [f"Generation: {g['seconds']:.0f} s, database {g['db_size_gib']} GiB.", ""]
    if "api_latency" in results:
        lines += api_section(results["api_latency"])
    if "search" in results:
        lines += search_section(results["search"])
    lines += ["", "**4. Offboarding**: see `bench/offboarding_bench.py` (owned separately)."]
    if "ingest" in results:
        lines += ingest_section(results["ingest"])
    for name in sorted(n for n in results if n.startswith("load")):
        lines += load_section(results[name])
    if "audit_cost" in results:
        lines += audit_section(results["audit_cost"])
    if "purge" in results:
        lines += purge_section(results["purge"])
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="quick")
    parser.add_argument("--print", action="store_true", help="print only, leave the doc alone")
    args = parser.parse_args()
    section = render(args.label)
    if args.print:
        print(section)
        return
    begin, end = f"<!-- bench:{args.label}:begin -->", f"<!-- bench:{args.label}:end -->"
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section}{end}"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc)
    print(f"{DOC.relative_to(ROOT)}: section {args.label} updated")


if __name__ == "__main__":
    main()
