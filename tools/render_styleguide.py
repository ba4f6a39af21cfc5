#!/usr/bin/env python
"""Render the style guide and the public pages without a database, serve them under a strict CSP, and
screenshot them at 1280 and 375 px.

    .venv/bin/python tools/render_styleguide.py [--out /tmp/yidi-shots] [--serve]

The pages are rendered by Django's template engine in a minimal settings.configure() (no models, no
database), written to a temporary folder with a copy of yidi/core/static/, and served on 127.0.0.1 with
`Content-Security-Policy: script-src 'self'; style-src 'self'` so that any inline script or style shows
up as a console error. It also clicks through the JavaScript behaviours (reveal panel, add a formset
row, open the mobile menu). Exit status 1 if the browser reported a problem. --serve keeps the server
running for a look by hand.
"""

import argparse
import contextlib
import shutil
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def configure_django(static_url: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="styleguide-only",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["yidi.core", "django.forms"],
        ROOT_URLCONF=__name__,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        f"{__name__}.site",
                    ],
                },
            }
        ],
        FORM_RENDERER="yidi.core.forms.YidiFormRenderer",
        STATIC_URL=static_url,
        LANGUAGE_CODE="zh-hans",
        USE_I18N=True,
        USE_TZ=False,
        CENTRE_NAME="诸暨市社会矛盾纠纷调处化解中心",
    )
    django.setup()
    globals()["urlpatterns"] = _urlpatterns()  # ROOT_URLCONF is this module


def site(request):
    """Stands in for yidi.core.context_processors.site, which needs the database."""
    from django.conf import settings

    return {"centre_name": settings.CENTRE_NAME}


def _page(request):  # pragma: no cover - only reversed, never called
    raise NotImplementedError


def _urlpatterns():
    from django.urls import path

    return [
        path("", _page, name="workbench"),
        path("login.html", _page, name="login"),
        path("logout/", _page, name="logout"),
    ]


class Message:
    def __init__(self, level_tag: str, text: str) -> None:
        self.level_tag = level_tag
        self.text = text

    def __str__(self) -> str:
        return self.text


def staff_request():
    from django.test import RequestFactory

    request = RequestFactory().get("/styleguide/")
    request.user = SimpleNamespace(
        is_authenticated=True,
        username="zhouqiang",
        display_name="周强",
        unit=SimpleNamespace(name="诸暨市矛调中心指挥调度室"),
        role_labels=["调度员", "部门经办人"],
    )
    return request


def nav_items() -> list[dict]:
    labels = [
        ("工作台", 0),
        ("事项登记", 0),
        ("待我签收", 3),
        ("待我办理", 8),
        ("全部事项", 0),
        ("调解管理", 0),
        ("督办考核", 0),
        ("风险研判", 0),
        ("统计分析", 0),
        ("界面组件样式", 0),
    ]
    return [
        {"label": label, "url": "#", "active": label == "界面组件样式", "count": count}
        for label, count in labels
    ]


def render_pages() -> dict[str, str]:
    from django import forms
    from django.template.loader import render_to_string

    from yidi.core.forms import styleguide_context

    pages = {}
    context = styleguide_context()
    context["nav_items"] = nav_items()
    context["messages"] = [Message("success", "已保存。示例：操作成功的消息显示在页面顶部。")]
    pages["styleguide"] = render_to_string("core/styleguide.html", context, request=staff_request())

    from django.test import RequestFactory

    anonymous = RequestFactory().get("/login.html")
    anonymous.user = SimpleNamespace(is_authenticated=False)

    # The fields of django.contrib.auth's AuthenticationForm, without its User model.
    class LoginForm(forms.Form):
        username = forms.CharField(
            max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
        )
        password = forms.CharField(
            strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
        )

        def clean(self):
            raise forms.ValidationError("请输入正确的用户名和密码。注意两者都区分大小写。")

    login_form = LoginForm(data={"username": "zhouqiang", "password": "wrong"})
    login_form.is_valid()
    pages["login"] = render_to_string("registration/login.html", {"form": LoginForm()}, request=anonymous)
    pages["login-error"] = render_to_string(
        "registration/login.html", {"form": login_form}, request=anonymous
    )
    pages["404"] = render_to_string("404.html", {}, request=anonymous)
    pages["500"] = render_to_string("500.html", {})
    return pages


class CSPHandler(SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        pass


def shoot_docs(base_url: str, docs: Path) -> None:
    """The two small pictures that docs/ui.md shows: the top of the style guide, desktop and phone."""
    from screenshot import browser_page

    docs.mkdir(parents=True, exist_ok=True)
    for width, height, name in ((1280, 760, "ui-desktop.png"), (375, 720, "ui-mobile.png")):
        with browser_page(width, height) as page:
            page.goto(f"{base_url}/styleguide.html", wait_until="networkidle")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(docs / name))
            print(docs / name)


def shoot(base_url: str, out: Path) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from screenshot import browser_page, save_full_page

    problems = []
    for width in (1280, 375):
        with browser_page(width) as page:
            for name in ("styleguide", "login", "login-error", "404", "500"):
                page.goto(f"{base_url}/{name}.html", wait_until="networkidle")
                target = out / f"{name}-{width}.png"
                for written in save_full_page(page, str(target), 1400 if name == "styleguide" else None):
                    print(written)
            # The behaviours of app.js, on the style guide.
            page.goto(f"{base_url}/styleguide.html", wait_until="networkidle")
            page.dialog_message = []
            page.on("dialog", lambda dialog: (page.dialog_message.append(dialog.message), dialog.dismiss()))
            if page.locator("html.js").count() != 1:
                problems.append(f"{width}px: app.js did not run (no html.js)")
            if not page.locator("#action-return").is_hidden():
                problems.append(f"{width}px: the reason panel is not hidden at start")
            page.click('[data-reveal="action-return"]')
            if not page.locator("#action-return").is_visible():
                problems.append(f"{width}px: the reason panel did not open")
            if page.evaluate("document.activeElement.id") != "action-return-reason":
                problems.append(f"{width}px: the reason textarea did not get the focus")
            rows_before = page.locator("[data-formset-row]:visible").count()
            page.click("[data-formset-add]")
            if page.locator("[data-formset-row]:visible").count() != rows_before + 1:
                problems.append(f"{width}px: adding a formset row failed")
            if page.input_value('input[name="parties-TOTAL_FORMS"]') != str(rows_before + 1):
                problems.append(f"{width}px: TOTAL_FORMS was not incremented")
            page.locator("[data-formset-row]").first.locator("[data-formset-remove]").click()
            if page.locator("[data-formset-row]:visible").count() != rows_before:
                problems.append(f"{width}px: removing a formset row failed")
            if not page.locator('input[name="parties-0-DELETE"]').is_checked():
                problems.append(f"{width}px: the removed server row was not marked DELETE")
            if page.locator("#action-not-accept").is_visible():
                problems.append(f"{width}px: opening one panel did not close the other one of its group")
            page.click('[data-reveal="action-not-accept"]')
            page.fill("#action-not-accept-reason", "不属于人民调解受理范围。")
            page.locator('#action-not-accept button[type="submit"]').click()
            if page.dialog_message != ["确定不予受理该事项吗？"]:
                problems.append(f"{width}px: data-confirm did not ask: {page.dialog_message}")
            if width == 375:
                page.evaluate("window.scrollTo(0, 0)")
                page.click("[data-nav-toggle]")
                if not page.locator("#site-nav").is_visible():
                    problems.append("375px: the menu did not open")
                page.screenshot(path=str(out / "nav-open-375.png"))
                print(out / "nav-open-375.png")
            else:
                page.locator("#detail").screenshot(path=str(out / "detail-interactive-1280.png"))
                page.locator("#form").screenshot(path=str(out / "form-interactive-1280.png"))
                print(out / "detail-interactive-1280.png", out / "form-interactive-1280.png")
            problems += [f"{width}px: {p}" for p in page.problems]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "yidi-shots"), help="PNG folder")
    parser.add_argument(
        "--docs", action="store_true", help="also rewrite docs/img/ui-desktop.png and ui-mobile.png"
    )
    parser.add_argument("--serve", action="store_true", help="after the shots, keep serving until Ctrl-C")
    args = parser.parse_args()

    site = Path(tempfile.mkdtemp(prefix="yidi-styleguide-"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(CSPHandler, directory=str(site)))
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    configure_django(static_url="/static/")
    shutil.copytree(REPO / "yidi/core/static", site / "static")
    for name, html in render_pages().items():
        (site / f"{name}.html").write_text(html, encoding="utf-8")
    threading.Thread(target=server.serve_forever, daemon=True).start()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    problems = shoot(base_url, out)
    if args.docs:
        shoot_docs(base_url, REPO / "docs" / "img")
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    if args.serve:
        print(f"serving {site} at {base_url}/styleguide.html (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    server.shutdown()
    shutil.rmtree(site, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
