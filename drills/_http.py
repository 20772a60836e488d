"""HTTP helpers shared by the bad-input and security drills: a logged-in browser over
``requests`` (a test extra, installed by scripts/test.sh), a tally of every answer, and the
checks every answer must pass (no 5xx, security headers, a Chinese message on a refusal)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import requests

from drills.common import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CJK = re.compile(r"[\u4e00-\u9fff]")
# A request the drill expects gunicorn itself to refuse (a request line over its limit): the
# app never sees it, so its headers cannot be there.
RAW_SERVER = "X-Drill-Expect-Server-Refusal"
SCRIPT_MARKERS = ("<script>alert", "<img src=x")
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


def missing_security_headers(response: requests.Response) -> list[str]:
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    csp = response.headers.get("Content-Security-Policy", "")
    if "Content-Security-Policy" not in missing and "frame-ancestors 'none'" not in csp:
        missing.append("frame-ancestors")
    if response.headers.get("X-Content-Type-Options", "nosniff") != "nosniff":
        missing.append("X-Content-Type-Options=nosniff")
    return missing


def chinese_message(response: requests.Response) -> str | None:
    """The refusal's message if it is in Chinese (JSON ``message`` or the page's text)."""
    text = response.text
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            return None
        text = str(body.get("message", "")) if isinstance(body, dict) else ""
    return text if CJK.search(text) else None


@dataclass
class Tally:
    """Every answer the drill got: counts by status, and what broke a rule."""

    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def see(self, what: str, response: requests.Response) -> requests.Response:
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.problems.append(f"{what}: {response.status_code} {response.text[:200]!r}")
        missing = missing_security_headers(response)
        if missing and not response.request.headers.get(RAW_SERVER):
            self.problems.append(f"{what}: security headers missing: {', '.join(missing)}")
        if "html" in response.headers.get("Content-Type", ""):
            raw = [marker for marker in SCRIPT_MARKERS if marker in response.text]
            if raw:
                self.problems.append(f"{what}: unescaped markup in the page: {raw}")
        return response

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def summary(self) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        detail = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        classes = ", ".join(f"{c} {n}" for c, n in sorted(by_class.items()))
        return f"{self.requests} requests ({classes}; {detail})"


class Browser:
    """One person's browser: its own cookie jar, never following redirects by itself."""

    def __init__(self, base: str, tally: Tally, name: str = "anonymous") -> None:
        self.base, self.tally, self.name = base, tally, name
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "hotline-drill"
        self.csrf_token: str | None = None

    def request(self, method: str, path: str, what: str | None = None, **kw: Any):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        response = self.http.request(method, self.base + path, **kw)
        return self.tally.see(what or f"{self.name} {method} {path[:80]}", response)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path).text
        found = CSRF_FIELD.search(page) or CSRF_META.search(page)
        if not found:
            raise RuntimeError(f"no CSRF token on {path}")
        return found.group(1)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        token = self.csrf("/login")
        self.name = username
        return self.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
        )

    def logged_in(self, username: str) -> Browser:
        response = self.login(username)
        if response.status_code != 302:
            raise RuntimeError(f"log-in as {username}: {response.status_code}")
        return self

    @property
    def session_cookie(self) -> str | None:
        return self.http.cookies.get("session")


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            # A form without an action posts to the page's own URL.
            self.inside = a.get("action", "") in ("", self.action)
        elif not self.inside:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(page: str, action: str) -> dict[str, str]:
    """What a browser would submit from the form posting to ``action`` as the page shows it."""
    reader = _FormReader(action)
    reader.feed(page)
    return reader.values
