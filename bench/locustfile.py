"""Locust users for benchmark 6 (started by bench/load_test.py, which also starts gunicorn).

Each simulated user is a different staff member (reps, team leads, sales managers, legal), with
an access token minted beforehand by load_test.py (BENCH_TOKENS: a JSON file of
{"username", "role", "token"}), so the run measures the API, not PBKDF2 logins. A user first
lists its customers to learn some ids, then mixes list (4), detail (3), search (2) and reveal
(1), with 0.5-1.5 s between requests.
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


class StaffUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.client.headers["Authorization"] = f"Bearer {account['token']}"
        page = self.client.get("/api/v1/customers/?page_size=200", name="list (ids)").json()
        self.ids = [row["id"] for row in page.get("results", [])] or [1]

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
            f"/api/v1/customers/{random.choice(self.ids)}/reveal/",
            json={"field": "mobile", "reason": "load test: calling back"},
            name="reveal",
        )
