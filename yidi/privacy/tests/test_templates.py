"""The privacy templates follow the design system's CSP rules (docs/ui.md), and the case page offers 查看完整."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from yidi.privacy.tests.conftest import party_id

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CASE_DETAIL = Path(__file__).resolve().parents[2] / "cases" / "templates" / "cases" / "detail.html"


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_inline_script_style_or_handler_and_no_external_url(path):
    text = path.read_text(encoding="utf-8")

    assert not re.search(r"<script\b", text), "inline <script>"
    assert not re.search(r"<style\b", text), "inline <style>"
    assert not re.search(r"\sstyle=", text), "style= attribute"
    assert not re.search(r"\son[a-z]+=", text), "on*= handler attribute"
    assert not re.search(r"https?://", text), "external URL"
    assert "javascript:" not in text


@pytest.mark.skipif("masked_party_value" not in CASE_DETAIL.read_text(encoding="utf-8"),
                    reason="cases/detail.html does not show reveal links yet (see docs/privacy.md, Integration)")
def test_the_case_page_offers_reveal_to_a_dispatcher_but_not_to_a_supervisor(client, case, dispatcher, supervisor):
    url = reverse("privacy_reveal", args=[case.code, party_id(case), "phone"])
    client.force_login(dispatcher)
    page = client.get(reverse("case_detail", args=[case.code])).content.decode()
    assert url in page and "查看完整联系电话" in page and "13805751234" not in page

    client.force_login(supervisor)
    page = client.get(reverse("case_detail", args=[case.code])).content.decode()
    assert url not in page and "138****1234" in page
