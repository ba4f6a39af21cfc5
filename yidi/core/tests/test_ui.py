"""The design system: form renderer, components, page shell, error pages, and the CSP rules (no DB)."""

import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django import forms
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import modify_settings

from yidi.core.forms import (
    DateInput,
    DateTimeLocalInput,
    StyleguideMatterForm,
    StyleguidePartyFormSet,
    YidiFormRenderer,
    styleguide_context,
)

CORE = Path(__file__).resolve().parent.parent
TEMPLATES = CORE / "templates"
STATIC = CORE / "static" / "yidi"

# The form renderer loads Django's widget templates through the TEMPLATES setting.
with_forms_app = modify_settings(INSTALLED_APPS={"append": "django.forms"})


class Message:
    level_tag = "success"

    def __str__(self):
        return "已保存"


def staff_request():
    user = SimpleNamespace(
        is_authenticated=True,
        username="zhouqiang",
        display_name="周强",
        unit=SimpleNamespace(name="指挥调度室"),
        role_labels=["调度员", "督办员"],
    )
    return SimpleNamespace(user=user)


# --- form renderer ---------------------------------------------------------------------------------------


@with_forms_app
def test_invalid_form_shows_a_summary_linking_each_field_error_and_the_non_field_error():
    form = StyleguideMatterForm(data={"channel": "hotline", "people_count": "0"}, renderer=YidiFormRenderer())
    form.is_valid()

    html = str(form)

    summary = html[: html.index('class="form-grid"')]
    assert "提交未成功，请修改以下问题后再提交" in summary
    assert "12345 热线转来的事项须填写登记时间。" in summary
    assert '<a href="#id_title">事项标题</a>：这个字段是必填项。' in summary


@with_forms_app
def test_field_group_has_label_above_required_marker_help_and_its_error_in_chinese():
    form = StyleguideMatterForm(data={}, renderer=YidiFormRenderer())
    form.is_valid()

    html = form["title"].as_field_group()

    assert 'class="field field--text field--error field--required"' in html
    assert '<label for="id_title">事项标题<span class="req" aria-hidden="true">*</span></label>' in html
    assert '<div class="help" id="id_title_helptext">一句话概括纠纷，不超过 60 字。</div>' in html
    assert '<ul class="field-errors" id="id_title_error"><li>这个字段是必填项。</li></ul>' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_title_helptext id_title_error"' in html


@with_forms_app
def test_each_kind_of_widget_gets_its_own_field_class_and_markup():
    form = StyleguideMatterForm(renderer=YidiFormRenderer())

    html = str(form)

    assert 'class="field field--select field--required"' in html
    assert "<legend>诉求类型" in html  # radio list in a fieldset
    assert "<legend>风险信号</legend>" in html  # checkbox list, optional: no marker
    assert 'type="date" name="occurred_on"' in html
    assert 'type="datetime-local" name="received_at"' in html
    assert 'class="field field--textarea field--required"' in html
    assert 'class="field field--clearablefile"' in html
    assert '<label class="check" for="id_consent"><input type="checkbox" name="consent"' in html


def test_date_widgets_render_iso_values_for_the_native_pickers():
    assert 'value="2026-03-09"' in DateInput().render("on", datetime(2026, 3, 9).date())
    assert 'value="2026-03-09T14:05"' in DateTimeLocalInput().render("at", datetime(2026, 3, 9, 14, 5, 33))


def test_datetime_local_value_is_accepted_by_a_datetime_field():
    field = forms.DateTimeField(widget=DateTimeLocalInput)

    value = field.clean("2026-03-09T14:05")

    assert (value.replace(tzinfo=None), str(value.tzinfo)) == (datetime(2026, 3, 9, 14, 5), "Asia/Shanghai")


# --- components --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "css", "word"),
    [
        ("red", "badge--red", "红"),
        ("橙", "badge--orange", "橙"),
        ("yellow", "badge--yellow", "黄"),
        ("blue", "badge--blue", "蓝"),
    ],
)
def test_grade_badge_always_carries_the_chinese_word(grade, css, word):
    html = render_to_string("components/grade_badge.html", {"grade": grade})

    assert css in html
    assert f"风险等级</span>{word}</span>" in html


def test_grade_badge_without_a_grade_says_not_graded():
    assert "未定级" in render_to_string("components/grade_badge.html", {"grade": None})


def test_status_badge_colours_by_code_and_shows_the_label():
    html = render_to_string("components/status_badge.html", {"status": "in_progress", "label": "办理中"})

    assert html.strip() == '<span class="badge badge--status" data-status="in_progress">办理中</span>'


def test_deadline_badge_falls_back_to_words_for_its_state():
    assert "已超期" in render_to_string("components/deadline_badge.html", {"state": "red"})
    assert "剩2个工作日" in render_to_string(
        "components/deadline_badge.html", {"state": "yellow", "label": "剩2个工作日"}
    )


def test_pagination_keeps_the_filters_and_elides_far_pages():
    page_obj = Paginator(range(1234), 20).page(7)

    html = render_to_string(
        "components/pagination.html", {"page_obj": page_obj, "querystring": "status=open&q=%E6%9E%AB"}
    )

    assert "共 1234 条，第 7 / 62 页" in html
    assert 'href="?status=open&amp;q=%E6%9E%AB&amp;page=6" rel="prev"' in html
    assert 'aria-current="page">7<' in html
    assert "page=62" in html
    assert "page=30" not in html
    assert html.count("…") == 2


def test_pagination_of_fifty_thousand_pages_shows_only_the_pages_around_and_the_ends():
    page_obj = Paginator(range(1_000_000), 20).page(25_000)

    html = render_to_string("components/pagination.html", {"page_obj": page_obj, "querystring": ""})

    shown = [int(n) for n in re.findall(r'page=(\d+)"(?! rel)', html)]
    assert shown == [1, 24_998, 24_999, 25_001, 25_002, 50_000]
    assert 'aria-current="page">25000<' in html and html.count("…") == 2


def test_pagination_uses_a_given_elided_range():
    page_obj = Paginator(range(1234), 20).page(7)
    page_range = page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1)

    html = render_to_string(
        "components/pagination.html", {"page_obj": page_obj, "querystring": "", "page_range": page_range}
    )

    assert 'href="?page=8"' in html
    assert 'href="?page=5"' not in html


def test_pagination_of_an_empty_list_renders_nothing():
    assert (
        render_to_string("components/pagination.html", {"page_obj": Paginator([], 20).page(1)}).strip() == ""
    )


def test_timeline_shows_time_actor_unit_label_and_reason():
    events = styleguide_context()["events"]

    html = render_to_string("components/timeline.html", {"events": events})

    assert '<time class="timeline__time" datetime="2026-03-10T10:12:00">2026-03-10 10:12</time>' in html
    assert "赵敏 · 枫桥镇综治工作平台" in html
    assert "理由：</span>该纠纷涉及宅基地界址" in html


def test_timeline_without_events_is_an_empty_state():
    assert "暂无办理记录" in render_to_string("components/timeline.html", {"events": []})


def test_empty_state_defaults_to_no_data():
    assert "暂无数据" in render_to_string("components/empty.html", {})


@with_forms_app
def test_formset_component_has_management_form_rows_and_a_row_template():
    formset = StyleguidePartyFormSet(prefix="parties", initial=[{"name": "陈某某", "role": "applicant"}])

    html = render_to_string("components/formset.html", {"formset": formset})

    assert 'data-formset="parties"' in html
    assert 'name="parties-TOTAL_FORMS"' in html
    assert html.count("data-formset-row>") == 2  # one row and the template's
    management_form = html.split("data-formset-rows")[0]
    assert 'class="form-grid"' not in management_form  # hidden inputs only
    assert 'name="parties-__prefix__-name"' in html.split("<template data-formset-template>")[1]


def test_action_with_a_required_reason_is_a_hidden_panel_with_a_required_textarea():
    html = render_to_string(
        "components/action.html", {"id": "return", "label": "回退", "url": "/x/", "reason": "required"}
    )

    assert 'data-reveal="action-return"' in html
    assert 'id="action-return" class="action-panel" hidden' in html
    assert 'name="reason" rows="3" required' in html


def test_masked_value_is_monospace_and_asks_a_reason_to_reveal():
    html = render_to_string(
        "components/masked.html", {"value": "138****1234", "reveal_url": "/reveal/", "panel_id": "p1"}
    )

    assert '<span class="masked">138****1234</span>' in html
    assert "查看理由" in html


# --- page shell and public pages ------------------------------------------------------------------------


def test_base_shows_the_user_unit_roles_navigation_messages_and_a_post_logout():
    html = render_to_string(
        "base.html",
        {
            "request": staff_request(),
            "centre_name": "诸暨市社会矛盾纠纷调处化解中心",
            "nav_items": [
                {"label": "工作台", "url": "/", "active": True},
                {"label": "事项查询", "url": "/cases/"},
            ],
            "messages": [Message()],
        },
    )

    assert '<html lang="zh-CN" class="no-js">' in html
    assert "诸暨市社会矛盾纠纷调处化解中心" in html
    assert "周强" in html and "指挥调度室 · 调度员、督办员" in html
    assert '<a href="/" aria-current="page">工作台</a>' in html
    assert re.search(r'<form class="logout-form" method="post" action="/accounts/logout/">', html)
    assert 'class="alert alert--success"' in html


def test_base_for_an_anonymous_visitor_has_no_user_block():
    html = render_to_string(
        "base.html", {"request": SimpleNamespace(user=SimpleNamespace(is_authenticated=False))}
    )

    assert "退出登录" not in html


@pytest.mark.parametrize("name", ["400.html", "403.html", "403_csrf.html", "404.html", "500.html"])
def test_error_pages_render_in_chinese_from_an_empty_context(name):
    html = render_to_string(name, {})

    assert '<html lang="zh-CN"' in html
    assert "返回工作台" in html
    assert "Traceback" not in html


# --- CSP and offline rules ------------------------------------------------------------------------------


def our_files():
    templates = sorted(TEMPLATES.rglob("*.html"))
    static = [
        p
        for p in sorted(STATIC.rglob("*"))
        if p.suffix in {".css", ".js", ".svg"} and "vendor" not in p.parts
    ]
    return templates + static


@pytest.mark.parametrize("path", our_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_no_inline_script_style_or_handler_and_no_external_url(path):
    text = path.read_text(encoding="utf-8")

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"<style\b", text), "inline <style>"
    assert not re.search(r"\sstyle=", text), "style= attribute"
    assert not re.search(r"\son[a-z]+=", text), "on*= handler attribute"
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), "external URL"
    assert "javascript:" not in text


def test_stylesheet_stays_small():
    assert (STATIC / "css" / "app.css").stat().st_size < 25 * 1024


@pytest.mark.django_db
def test_a_capped_paginator_counts_exactly_up_to_the_cap_and_says_when_there_are_more():
    from yidi.core.pagination import CappedPaginator
    from yidi.regions.models import Region

    regions = Region.objects.order_by("code")
    total = regions.count()
    assert total > 30
    exact = CappedPaginator(regions, 10, cap=total)
    assert (exact.count, exact.count_is_capped, exact.num_pages) == (total, False, -(-total // 10))
    capped = CappedPaginator(regions, 10, cap=30)
    assert (capped.count, capped.count_is_capped, capped.num_pages) == (30, True, 3)
    assert [r.code for r in capped.page(3).object_list] == list(regions.values_list("code", flat=True)[20:30])
    html = render_to_string("components/pagination.html", {"page_obj": capped.page(1), "querystring": ""})
    assert "超过 30 条（仅列出前 30 条，请用筛选条件缩小范围），第 1 / 3+ 页" in html
