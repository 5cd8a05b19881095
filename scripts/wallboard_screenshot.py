#!/usr/bin/env python3
"""Take the README's picture of the wallboard: `docs/wallboard.png`, 1600x900, with live data.

    .venv/bin/python scripts/wallboard_screenshot.py [OUT.png]

Starts a real `hotline serve` in a temporary folder (never the checkout's var/), staffs a few
operators and queues contacts over the API as a switch and a supervisor would (some answered and
being handled, some abandoned, some waiting), opens /wallboard in headless Chromium
(`scripts/browser.py`), enters a supervisor token and saves the page once it shows the figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests
from browser import missing, open_chromium
from launch import ROOT, Server, create_token

OUT = ROOT / "docs" / "wallboard.png"
WIDTH, HEIGHT = 1600, 900
TIMEOUT_S = 10.0
CERTIFIED = (date.today() + timedelta(days=365)).isoformat()
# id, skills, presence after the contacts are queued ("" stays offline)
OPERATORS = (
    ("op-anna", {"payments": 3, "applications": 2}, "ready"),
    ("op-boris", {"documents": 3, "applications": 2}, "ready"),
    ("op-vera", {"technical": 3, "registration": 2}, "ready"),
    ("op-gleb", {"payments": 2, "account_blocked": 2}, "break"),
    ("op-dina", {"signature": 3}, ""),
    ("op-egor", {"personal_data": 3, "documents": 1}, "ready"),
)
TOPICS = (
    "payments",
    "documents",
    "technical",
    "registration",
    "payments",
    "applications",
    "account_blocked",
    "signature",
    "documents",
    "payments",
    "technical",
    "emergency",
)


class Api:
    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.url = url
        self.tokens = tokens

    def call(self, role: str, method: str, path: str, body: object = None) -> object:
        answer = requests.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=TIMEOUT_S,
        )
        answer.raise_for_status()
        return answer.json()


def seed(api: Api) -> None:
    for operator_id, skills, _ in OPERATORS:
        body = {
            "name": operator_id,
            "skills": skills,
            "languages": ["ru"],
            "certified_until": CERTIFIED,
        }
        api.call("supervisor", "PUT", f"/v1/operators/{operator_id}", body)
    contacts = []
    for n, topic in enumerate(TOPICS):
        body = {"channel": "chat", "topic": topic, "phone": f"+7912555{n:04d}"}
        contacts.append(api.call("integration", "POST", "/v1/contacts", body))
    time.sleep(6)  # past the short-abandon limit: these two count in the abandon rate
    for contact in contacts[-2:]:
        api.call("integration", "POST", f"/v1/contacts/{contact['id']}/abandon", {})  # type: ignore[index]
    for operator_id, _, presence in OPERATORS:
        if presence:
            api.call(
                "supervisor", "POST", f"/v1/operators/{operator_id}/state", {"state": presence}
            )
    for n, (operator_id, _, presence) in enumerate(OPERATORS):
        if presence != "ready":
            continue
        offers = api.call("supervisor", "GET", f"/v1/operators/{operator_id}/offers")
        for offer in offers["offers"]:  # type: ignore[index]
            path = f"/v1/contacts/{offer['contact_id']}"
            api.call("supervisor", "POST", f"{path}/accept", {"operator_id": operator_id})
            if n % 2 == 0:  # half of them done and in wrap-up
                body = {"operator_id": operator_id, "outcome": "Консультация"}
                api.call("supervisor", "POST", f"{path}/complete", body)


def shoot(url: str, token: str, out: Path, profile: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with open_chromium(profile, width=WIDTH, height=HEIGHT) as driver:
        driver.get(f"{url}/wallboard")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        WebDriverWait(driver, TIMEOUT_S).until(
            lambda d: (
                d.find_element(By.ID, "link").text == "на связи"
                and d.find_element(By.ID, "waiting").text not in ("—", "0")
            )
        )
        time.sleep(1.5)  # a second's worth of waiting time on the tiles
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(driver.get_screenshot_as_png())


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    if (reason := missing()) is not None:
        print(f"wallboard_screenshot: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="hotline-wallboard-") as tmp:
        folder = Path(tmp)
        server = Server.start(folder)
        try:
            tokens = {role: create_token(server.db, role) for role in ("supervisor", "integration")}
            seed(Api(server.url, tokens))
            shoot(server.url, tokens["supervisor"], out, folder / "profile")
        finally:
            server.stop()
    print(f"wallboard_screenshot: {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
