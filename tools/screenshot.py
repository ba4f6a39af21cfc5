#!/usr/bin/env python
"""Full-page screenshot of a yidi page with Debian's chromium, optionally after logging in.

    .venv/bin/python tools/screenshot.py http://127.0.0.1:8000/ /tmp/workbench.png --width 375 --login dispatcher:PASSWORD

Needs `apt-get install chromium fonts-noto-cjk` and `pip install playwright` (never `playwright install`:
the browser is the system one). Console errors and Content-Security-Policy violations are printed to
stderr; with --strict they make the exit status 1.
"""

import argparse
import sys
from contextlib import contextmanager
from urllib.parse import urljoin

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
]


@contextmanager
def browser_page(width: int, height: int = 900):
    """A fresh page of a headless system chromium; collects console problems in page.problems."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=1, locale="zh-CN"
            )
            page = context.new_page()
            problems: list[str] = []
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
            page.on(
                "response",
                lambda response: (
                    problems.append(f"HTTP {response.status}: {response.url}")
                    if response.status >= 400 and response.request.resource_type != "document"
                    else None
                ),
            )
            page.problems = problems
            yield page
        finally:
            browser.close()


def save_full_page(page, out: str, slice_height: int | None = None) -> list[str]:
    """Full-page PNG at `out`; with slice_height also OUT-1.png, OUT-2.png … of that height each
    (a long page shrunk to fit an image viewer becomes unreadable; slices stay at 1:1)."""
    page.screenshot(path=out, full_page=True)
    written = [out]
    if slice_height:
        total = page.evaluate("document.documentElement.scrollHeight")
        width = page.viewport_size["width"]
        stem = out[:-4] if out.endswith(".png") else out
        for number, top in enumerate(range(0, total, slice_height), start=1):
            clip = {"x": 0, "y": top, "width": width, "height": min(slice_height, total - top)}
            path = f"{stem}-{number}.png"
            page.screenshot(path=path, full_page=True, clip=clip)
            written.append(path)
    return written


def log_in(page, url: str, credentials: str, login_url: str | None) -> None:
    """Open the log-in form (the given one, or wherever `url` redirects an anonymous user) and submit it."""
    username, _, password = credentials.partition(":")
    page.goto(login_url or url, wait_until="networkidle")
    if page.locator('input[name="username"]').count() == 0:
        page.goto(urljoin(url, "/accounts/login/"), wait_until="networkidle")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    with page.expect_navigation(wait_until="networkidle"):
        page.locator('form:has(input[name="password"]) [type="submit"]').first.click()
    if page.locator('input[name="password"]').count():
        raise SystemExit(f"log-in as {username!r} failed (still on the log-in page: {page.url})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in CSS px (1280 or 375)")
    parser.add_argument(
        "--height", type=int, default=900, help="viewport height; the shot is full-page anyway"
    )
    parser.add_argument("--login", metavar="USER:PASS", help="log in through the log-in form first")
    parser.add_argument("--login-url", help="log-in page (default: where the URL redirects to)")
    parser.add_argument("--slice", type=int, metavar="PX", help="also write slices of this height")
    parser.add_argument("--strict", action="store_true", help="exit 1 on console errors or CSP violations")
    args = parser.parse_args(argv)

    with browser_page(args.width, args.height) as page:
        if args.login:
            log_in(page, args.url, args.login, args.login_url)
        response = page.goto(args.url, wait_until="networkidle")
        save_full_page(page, args.out, args.slice)
        status = response.status if response else "?"
        print(f"{args.out}: {args.url} (HTTP {status}, {args.width}px)")
        for problem in page.problems:
            print(problem, file=sys.stderr)
        return 1 if args.strict and page.problems else 0


if __name__ == "__main__":
    sys.exit(main())
