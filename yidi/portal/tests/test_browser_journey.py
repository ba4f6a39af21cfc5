"""The citizen's whole journey in a real browser (Debian's chromium through Playwright), against a served
instance on its own SQLite file, as `make demo` runs it: submit from a phone-sized page without an account,
get the code, follow the matter to closure, evaluate it 不满意, see it reopened, and find the return visit on
a staff worklist. Every portal page is kept as a phone-width screenshot under `var/test-artifacts/portal/`.

Skipped when chromium is missing, unless YIDI_REQUIRE_BROWSER=1 (CI), where a missing browser fails.
"""

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("YIDI_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("YIDI_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "portal"
PHONE = {"width": 375, "height": 812}

if not Path(CHROMIUM).exists():
    if os.environ.get("YIDI_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"YIDI_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: run scripts/ensure-browser")
    pytest.skip(f"{CHROMIUM} is not installed (scripts/ensure-browser)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    """A served yidi on a fresh SQLite file, its console captured (the development SMS sender prints there)."""

    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_SETTINGS"))},
            "DJANGO_SETTINGS_MODULE": "yidi.settings",
            "DATABASE_URL": f"sqlite:///{tmp / 'journey.sqlite3'}",
            "YIDI_DATA_DIR": str(tmp),
            "YIDI_ALLOW_INSECURE_KEY": "1",
            "YIDI_SECURE_COOKIES": "0",
            "YIDI_PORTAL_UNIT": "centre",
            "YIDI_PUBLIC_BASE_URL": self.url,
            "YIDI_CENTRE_NAME": "诸暨市社会矛盾纠纷调处化解中心",
            "PYTHONUNBUFFERED": "1",
        }

    def run(self, *args: str) -> str:
        done = subprocess.run([sys.executable, *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def step(self, *args: str) -> str:
        return self.run("-m", "yidi.portal.tests.journey", *args).strip()

    @contextmanager
    def serving(self):
        self.run("manage.py", "migrate", "--noinput", "--verbosity", "0")
        self.step("setup")
        with self.log.open("w") as log:
            server = subprocess.Popen([sys.executable, "-m", "yidi.cli", "serve", "--port", str(self.port)],
                                      env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while "已启动" not in self.log.read_text() and time.monotonic() < deadline:
                    assert server.poll() is None, self.log.read_text()[-3000:]
                    time.sleep(0.2)
                yield self
            finally:
                server.terminate()
                server.wait(timeout=20)

    def last_code_sent(self) -> str:
        """The verification code the development SMS sender printed last."""
        codes = re.findall(r"验证码为\s*(\d{6})", self.log.read_text())
        assert codes, self.log.read_text()[-2000:]
        return codes[-1]


@pytest.fixture
def instance(tmp_path):
    with Instance(tmp_path).serving() as served:
        yield served


@contextmanager
def browser_page(viewport):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--lang=zh-CN"])
        try:
            context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
            page = context.new_page()
            page.problems = []
            # a refused form (400) and a rate limit (429) answer so on purpose, and the browser logs that;
            # anything else is a problem
            page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" and not re.search(
                r"status of (400|429)\b", m.text) else None)
            page.on("pageerror", lambda e: page.problems.append(str(e)))
            yield page
        finally:
            browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    # a phone page never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


# A real (tiny) JPEG photo: the upload check reads the bytes, not the name.
PHOTO = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f"
    "1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000"
    "010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411"
    "05122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445"
    "464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9"
    "aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100"
    "003f00fbd3ffd9"
)
CITIZEN_PHONE = "13957512345"


def verify_phone(page, instance, name: str) -> None:
    """The code step: read the code the development SMS sender printed, and type it."""
    page.wait_for_selector("#portal-verify-code")
    shot(page, name)
    page.fill("input[name=code]", instance.last_code_sent())
    page.click("#portal-verify-code")


def test_a_citizen_submits_from_a_phone_follows_the_matter_reopens_it_and_staff_see_the_return_visit(
    instance, tmp_path
):
    photo = tmp_path / "积水照片.jpg"
    photo.write_bytes(PHOTO)
    with browser_page(PHONE) as page:
        # 1. the landing page, then the phone check: no account, no app
        page.goto(f"{instance.url}/p/")
        shot(page, "01-home")
        page.click("#portal-start-submit")
        page.wait_for_selector("#portal-send-code")
        shot(page, "02-phone")
        page.fill("input[name=phone]", CITIZEN_PHONE)
        page.click("#portal-send-code")
        first_code_at = time.monotonic()
        verify_phone(page, instance, "03-verify")

        # 2. the guided form, in plain words, with a photo
        page.wait_for_selector("#portal-submit-form")
        shot(page, "04-form")
        page.fill("input[name=name]", "陈秀英")
        page.fill("input[name=other_name]", "王志强")
        page.select_option("select[name=township]", "330681109")
        page.select_option("select[name=village]", "330681109290")
        page.fill("input[name=address]", "枫源村3组")
        page.fill("textarea[name=description]", "邻居在院墙外加盖杂物间，堵住了两家共用的排水沟，下雨后积水倒灌进我家厨房，多次协商没有结果。")
        page.fill("textarea[name=requests]", "请邻居拆除杂物间、疏通排水沟")
        page.check("input[name=mediation_mode][value=online]")
        page.set_input_files("input[name=files]", str(photo))
        page.click("#portal-submit")

        # 3. the code for life and the private link
        page.wait_for_selector("#portal-case-code")
        shot(page, "05-submitted")
        code = page.inner_text("#portal-case-code").strip()
        assert re.fullmatch(r"330681-\d{4}-\d{6}", code), code
        link = page.get_attribute("#portal-tracking-link", "href")
        assert "/p/t/" in link

        # 4. the centre accepts, assigns, handles and closes it (the departments' own pages are tested apart)
        assert instance.step("advance", code, "closed") == "closed"

        # 5. the person follows it by the private link and sees it closed, with the messages sent to them
        page.goto(link if link.startswith("http") else f"{instance.url}{link}")
        page.wait_for_selector("#portal-status")
        assert page.inner_text("#portal-status").strip() == "已办结"
        body = page.inner_text("body")
        assert "枫桥镇综治工作平台" in body and "孙承办" not in body  # the unit, never a staff member's name
        assert "13957512345" not in body and "王志强" in body  # own phone masked, the other party by name only
        shot(page, "06-closed")

        # 6. 不满意 needs a reason; with one the matter is reopened (重办)
        page.check("input[name=evaluation][value=dissatisfied]")
        page.click("#portal-evaluate")
        page.wait_for_selector("#portal-status")
        assert page.inner_text("#portal-status").strip() == "已办结"  # refused: nothing changed
        shot(page, "07-evaluation-needs-reason")
        page.check("input[name=evaluation][value=dissatisfied]")
        page.fill("textarea[name=note]", "排水沟至今没有疏通，杂物间也没拆")
        page.click("#portal-evaluate")
        page.wait_for_selector("#portal-status")
        assert "正在重新办理" in page.inner_text("body")
        assert page.inner_text("#portal-status").strip() != "已办结"
        shot(page, "08-reopened")
        assert page.problems == []

    with browser_page(PHONE) as page:
        # 7. tracking by code and phone from another device
        page.goto(f"{instance.url}/p/track/")
        shot(page, "09-track")
        page.fill("input[name=case_code]", code)
        page.fill("input[name=phone]", CITIZEN_PHONE)
        page.click("#portal-track-send-code")
        # one code per phone per minute: the first came with the submission, moments ago
        page.wait_for_load_state()
        assert "验证码发送过于频繁，请1分钟后再试" in page.inner_text("body")
        shot(page, "10-too-soon")
        time.sleep(max(0.0, 61 - (time.monotonic() - first_code_at)))
        page.fill("input[name=case_code]", code)
        page.fill("input[name=phone]", CITIZEN_PHONE)
        page.click("#portal-track-send-code")
        verify_phone(page, instance, "11-track-verify")
        page.wait_for_selector("#portal-status")
        assert page.inner_text("#portal-case-code").strip() == code
        shot(page, "12-tracked")
        assert page.problems == []

    # 8. the unit handles it again and closes it; the return visit is on the handler's worklist
    assert instance.step("advance", code, "closed") == "closed"
    with browser_page(PHONE) as page:
        page.goto(f"{instance.url}/accounts/login/?next=/evaluation/return-visits/")
        page.fill("input[name=username]", "handler")
        page.fill("input[name=password]", "Yidi-demo-2026")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for tab in page.locator("a[href*='tab=']").all():  # the visit is due in a few working days
            if code in page.inner_text("body"):
                break
            tab.click()
            page.wait_for_load_state()
        assert code in page.inner_text("body")
        shot(page, "13-return-visit-worklist")
        assert page.problems == []
