"""The implementation report: the command writes .docx and PDF whose text carries the figures and tables of
hand-built data; an empty period gives zeros and 无数据; bad arguments give Chinese errors; the page downloads it."""

import io
import re
from datetime import date

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from yidi.analytics.domain import Period
from yidi.analytics.report import build_report, parse_arguments, render_docx, render_pdf
from yidi.audit.models import AuditEvent
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, Outcome
from yidi.regions.models import Region

pytestmark = pytest.mark.django_db
FENGYUAN, JIYANG = "330681109290", "330681001"


def squeeze(text: str) -> str:
    return "".join(text.split())


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("|".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    text = "".join(squeeze(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"第\d+页共\d+页", "", text)


@pytest.fixture
def january(registrar, dispatcher, handler, fq_platform):
    """Three matters registered on 10 January 2026: two in 枫桥镇 (one resolved, one not), one in 暨阳街道."""
    with time_machine.travel("2026-01-10 09:00:00+08:00", tick=False):
        resolved = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
        failed = make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)
        make_case(registrar, primary_type_code="labour", region_code=JIYANG)
        advance_case(resolved, CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)
        advance_case(failed, CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform,
                     outcome=Outcome.MEDIATION_FAILED)


def _report(start: date, end: date):
    with time_machine.travel("2026-02-01 09:00:00+08:00", tick=False):
        return build_report(Region.objects.get(code="330681"), Period(start, end))


def test_the_report_carries_the_overview_the_four_areas_and_the_tables(january):
    report = _report(date(2026, 1, 1), date(2026, 1, 31))
    text = report.text()

    assert report.title == "诸暨市社会矛盾纠纷调处化解工作实施情况报告"
    assert "2026-01-01至2026-01-31，诸暨市共登记矛盾纠纷事项 3 件，出结果 2 件，办结 0 件；期末尚未办结 3 件。" in text
    assert "化解率 50.00%" in text
    assert "化解率 | 50.00% | 1 | 2 | 办理结果为化解的事项" in text
    assert "满意率 | — | 0 | 0 | 本期无参评事项" in text
    assert "县级矛调中心（含指挥调度室） | 3 | 100.00%" in text  # all registered at the centre's window
    assert "本期出结果的 2 件事项中，在村（社区）、乡镇（街道）层级处置 2 件，占 100.00%" in text
    assert "窗口来访 | 3 | 100.00% | 否" in text
    assert "经 12345 热线、网上平台、法院、公安等系统对接进入的 0 件，占 0.00%" in text
    assert "乡镇（街道）级 | 2 | 100.00%" in text  # led by the 枫桥镇 platform
    assert "枫桥镇 | 2 | 2 | 50.00% | 100.00% | —" in text
    assert "暨阳街道 | 1 | 0 | — | 0.00% | —" in text  # its handling clock fell due in January, still open
    assert "市人力资源和社会保障局 | 0 | — | — | —" in text
    for heading in ("（一）思想认识", "（二）力量配备", "（三）基层网络", "（四）系统融合", "表8 各乡镇（街道）情况",
                    "表9 各部门情况"):
        assert heading in text


def test_the_command_writes_a_docx_and_a_pdf_with_the_same_figures(january, tmp_path):
    with time_machine.travel("2026-02-01 09:00:00+08:00", tick=False):
        for fmt in ("docx", "pdf"):
            call_command("implementation_report", "--region", "330681", "--from", "2026-01-01", "--to",
                         "2026-01-31", "--format", fmt, "--output", str(tmp_path / f"report.{fmt}"),
                         stdout=io.StringIO())

    docx = docx_text((tmp_path / "report.docx").read_bytes())
    assert "诸暨市社会矛盾纠纷调处化解工作实施情况报告" in docx
    assert "共登记矛盾纠纷事项 3 件，出结果 2 件" in docx
    assert "枫桥镇|2|2|50.00%|" in docx
    assert "图1 各月登记与出结果事项数（件）" in docx
    pdf = pdf_text((tmp_path / "report.pdf").read_bytes())
    assert "诸暨市社会矛盾纠纷调处化解工作实施情况报告" in pdf
    assert "共登记矛盾纠纷事项3件，出结果2件" in pdf
    assert "枫桥镇2250.00%" in pdf
    assert "图1各月登记与出结果事项数（件）" in pdf
    # the bundled font holds every character of the bundled place names (浬 of 浬浦镇 is outside GB2312)
    assert "浬浦镇" in pdf and "〓" not in pdf
    assert "浬浦镇" in docx
    assert AuditEvent.objects.filter(action="analytics.generate_implementation_report").count() == 2


def test_the_same_data_gives_the_same_files(january):
    first, second = _report(date(2026, 1, 1), date(2026, 1, 31)), _report(date(2026, 1, 1), date(2026, 1, 31))

    assert render_docx(first) == render_docx(second)
    assert pdf_text(render_pdf(first)) == pdf_text(render_pdf(second))


def test_an_empty_period_gives_zeros_and_no_data(january):
    report = _report(date(2025, 1, 1), date(2025, 1, 31))
    text = report.text()

    assert "诸暨市无数据：本期没有登记、出结果或办结的事项，各项比率无法计算。" in text
    assert "本期登记 | 0" in text and "期末未办结 | 0" in text
    assert "化解率 | — | 0 | 0 | 本期无出结果的事项" in text
    assert "枫桥镇 | 0 | 0 | — | — | —" in text
    assert "本期无数据：没有登记事项，无法评价。" in text
    pdf = pdf_text(render_pdf(report))
    assert "无数据" in pdf and "枫桥镇00———" in pdf


@pytest.mark.parametrize(("arguments", "message"), [
    ([], "请指定区划代码（--region），如 330681"),
    (["--region", "999999"], "区划代码“999999”不存在"),
    (["--region", FENGYUAN], "实施情况报告按县（市、区）或乡镇（街道）编制，请使用县级或乡镇级区划代码"),
    (["--region", "330681"], "请指定开始日期（--from），格式 YYYY-MM-DD"),
    (["--region", "330681", "--from", "2026-13-01", "--to", "2026-01-31"],
     "开始日期（--from）“2026-13-01”格式不对，应为 YYYY-MM-DD"),
    (["--region", "330681", "--from", "2026-02-01", "--to", "2026-01-31"], "结束日期不能早于开始日期"),
    (["--region", "330681", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "xls"],
     "格式“xls”不支持，只能是 docx 或 pdf"),
])
def test_bad_arguments_are_refused_in_chinese_and_nothing_is_written(arguments, message, tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("implementation_report", *arguments, "--output", str(tmp_path / "r.docx"),
                     stdout=io.StringIO())

    assert str(raised.value) == message
    assert not (tmp_path / "r.docx").exists()
    assert not AuditEvent.objects.filter(action="analytics.generate_implementation_report").exists()


def test_a_supervisor_downloads_the_report_from_the_page(client, supervisor, january):
    client.force_login(supervisor)
    assert "生成并下载" in client.get(reverse("implementation_report")).content.decode()

    response = client.post(reverse("implementation_report"),
                           {"region": "330681", "from": "2026-01-01", "to": "2026-01-31", "format": "pdf"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    audit = AuditEvent.objects.get(action="analytics.generate_implementation_report")
    assert (audit.object_id, audit.data["format"], audit.data["via"]) == ("330681:2026-01-01~2026-01-31", "pdf",
                                                                          "page")


def test_a_bad_period_on_the_page_is_refused_and_a_dispatcher_may_not_open_it(client, supervisor, dispatcher):
    client.force_login(supervisor)
    response = client.post(reverse("implementation_report"),
                           {"region": "330681", "from": "2026-02-01", "to": "2026-01-01", "format": "docx"})
    assert response.status_code == 400 and "结束日期不能早于开始日期" in response.content.decode()
    response = client.post(reverse("implementation_report"),
                           {"region": "330682", "from": "2026-01-01", "to": "2026-01-31", "format": "docx"})
    assert response.status_code == 400 and "只能生成本单位辖区的报告" in response.content.decode()
    assert not AuditEvent.objects.filter(action="analytics.generate_implementation_report").exists()

    client.force_login(dispatcher)
    assert client.get(reverse("implementation_report")).status_code == 404


def test_parse_arguments_accepts_a_township():
    region, period = parse_arguments("330681109", "2026-01-01", "2026-03-31")

    assert (region.name, period.label) == ("枫桥镇", "2026-01-01至2026-03-31")
