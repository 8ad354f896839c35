"""Locust users for benchmark 6 (started by bench/load_test.py, which also starts gunicorn).

Each simulated user is a different staff member (reps, team leads, sales managers, legal), with
an access token minted beforehand by load_test.py (BENCH_TOKENS: a JSON file of
{"username", "role", "token"}), so the run measures the API, not PBKDF2 logins. A user first
lists its customers to learn some ids, then mixes list (4), detail (3), search (2) and reveal
(1), with 0.5-1.5 s between requests (BENCH_WAIT="min,max" seconds changes it).
"""

import itertools
import json
import os
import random

from locust import HttpUser, between, task

KEYWORDS = ["好", "价", "合同", "退款", "企业微信", "会话存档"]
with open(os.environ["BENCH_TOKENS"], encoding="utf-8") as handle:
    ACCOUNTS = json.load(handle)
_next_account = itertools.count()


WAIT = [float(x) for x in os.environ.get("BENCH_WAIT", "0.5,1.5").split(",")]


class StaffUser(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.client.headers["Authorization"] = f"Bearer {account['token']}"
        page = self.client.get("/api/v1/customers/?page_size=200", name="list (ids)").json()
        self.ids = [row["id"] for row in page.get("results", [])] or [1]
        # Reveal what the role may reveal: a share opens a customer to view, not to reveal, so
        # reps and leads reveal from their own / their team's customers (the filters narrow
        # the list; the scope still applies).
        narrow = {"Sales rep": f"owner={account['id']}", "Team lead": f"team={account['team']}"}
        query = narrow.get(account["role"])
        if query:
            own = self.client.get(f"/api/v1/customers/?page_size=200&{query}", name="list (ids)")
            self.revealable = [row["id"] for row in own.json().get("results", [])] or self.ids
        else:
            self.revealable = self.ids

    @task(4)
    def list_customers(self):
        self.client.get(f"/api/v1/customers/?page={random.randint(1, 3)}", name="list")

    @task(3)
    def detail(self):
        self.client.get(f"/api/v1/customers/{random.choice(self.ids)}/", name="detail")

    @task(2)
    def search(self):
        self.client.get(f"/api/v1/chats/search/?q={random.choice(KEYWORDS)}", name="search")

    @task(1)
    def reveal(self):
        self.client.post(
            f"/api/v1/customers/{random.choice(self.revealable)}/reveal/",
            json={"field": "mobile", "reason": "load test: calling back"},
            name="reveal",
        )
