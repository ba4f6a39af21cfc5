"""Deterministic example data for the mediation documents, for tests and the demonstration county.

One story runs through all eight documents: two neighbours in 枫溪村, 枫桥镇, 诸暨市 fall out over the drainage
ditch between their houses, which one of them filled in. Each `make_<document>(**overrides)` returns complete
data; pass overrides to change or empty a field. The ID numbers are invented (valid check digits, no real
person).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from yidi.mediation.documents.domain import (
    AcceptanceRegister,
    AcceptanceSource,
    Agreement,
    Application,
    ClosingReport,
    OralAgreementRegister,
    Party,
    PartyRole,
    ReturnVisitRecord,
    RightsNotice,
    SessionRecord,
    Statement,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_CODE = "330681-2026-000123"
COMMITTEE = "诸暨市枫桥镇人民调解委员会"
AGREEMENT_NUMBER = "（2026）枫人调字第018号"
MEDIATOR = "陈立峰"
RECORDER = "王秀英"
SUBJECT = "张建国与李根水排水沟邻里纠纷"
FACTS = (
    "申请人张建国与被申请人李根水系枫溪村上宅前后邻居，两家房屋之间有一条共用排水沟，长约二十米。"
    "2026年3月，被申请人翻建猪舍时用砖块和泥土将排水沟下游约五米填平，"
    "4月下旬连续降雨后积水倒灌申请人家厨房和院子，厨房地面和橱柜受损。"
    "申请人随后拆除被申请人猪舍围墙约两米，双方多次争吵，村调解小组调解未果。"
)
DISPUTED_ISSUES = "被申请人是否应当恢复排水沟原状；申请人厨房受损的赔偿数额；被拆除围墙的修复。"
RESPONSIBILITY = (
    "被申请人未经协商擅自填堵共用排水沟，对积水造成的损失负主要责任；"
    "申请人以拆除对方围墙的方式处理纠纷，做法过激，负次要责任。"
)
AGREED_TERMS = (
    "被申请人李根水自行清除填堵排水沟的砖块和泥土，恢复排水沟原宽度（四十厘米）和深度（三十厘米），费用由被申请人承担。",
    "被申请人李根水一次性赔偿申请人张建国厨房地面和橱柜受损费用人民币叁仟元整（¥3,000.00）。",
    "申请人张建国负责修复其拆除的被申请人猪舍围墙约两米，费用由申请人承担。",
    "排水沟今后由双方共同维护，每年5月31日前共同清理一次；任何一方不得擅自改变排水沟走向或者填堵排水沟。",
    "双方就本纠纷再无其他争议。",
)
PERFORMANCE_MANNER = "第一项、第三项由义务人自行施工，枫溪村人民调解委员会派员现场查看；第二项赔偿款以现金当面支付，申请人出具收条。"
PERFORMANCE_PLACE = "诸暨市枫桥镇枫溪村上宅排水沟现场；赔偿款在诸暨市枫桥镇人民调解委员会调解室当面交付。"
PERFORMANCE_PERIOD = "第一项、第三项于2026年6月10日前履行完毕；第二项于2026年5月27日前一次性付清。"


def make_applicant(**overrides: Any) -> Party:
    party = Party(
        role=PartyRole.APPLICANT,
        name="张建国",
        sex="男",
        ethnicity="汉族",
        age=58,
        occupation="农民",
        id_number="330681196803150016",
        phone="13805751234",
        address="浙江省诸暨市枫桥镇枫溪村上宅12号",
    )
    return replace(party, **overrides)


def make_respondent(**overrides: Any) -> Party:
    party = Party(
        role=PartyRole.RESPONDENT,
        name="李根水",
        sex="男",
        ethnicity="汉族",
        age=62,
        occupation="农民",
        id_number="330681196401200033",
        phone="13905759876",
        address="浙江省诸暨市枫桥镇枫溪村上宅14号",
    )
    return replace(party, **overrides)


def make_parties() -> tuple[Party, ...]:
    return (make_applicant(), make_respondent())


def make_application(**overrides: Any) -> Application:
    data = Application(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        parties=make_parties(),
        summary=FACTS,
        requests=(
            "请求调解被申请人恢复两家之间共用排水沟的原状；",
            "请求调解被申请人赔偿申请人厨房地面和橱柜受损费用人民币伍仟元。",
        ),
        applied_on=date(2026, 5, 8),
    )
    return replace(data, **overrides)


def make_acceptance_register(**overrides: Any) -> AcceptanceRegister:
    data = AcceptanceRegister(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        registered_on=date(2026, 5, 8),
        source=AcceptanceSource.APPLICATION,
        mediation_type="邻里",
        parties=make_parties(),
        summary=FACTS,
        mediators=(MEDIATOR,),
        registered_by=RECORDER,
    )
    return replace(data, **overrides)


def make_rights_notice(**overrides: Any) -> RightsNotice:
    data = RightsNotice(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        parties=make_parties(),
        mediators=(MEDIATOR,),
        notified_on=date(2026, 5, 8),
    )
    return replace(data, **overrides)


def make_session_record(**overrides: Any) -> SessionRecord:
    data = SessionRecord(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        matter=SUBJECT,
        started_at=datetime(2026, 5, 20, 9, 30, tzinfo=SHANGHAI),
        ended_at=datetime(2026, 5, 20, 11, 15, tzinfo=SHANGHAI),
        place="诸暨市枫桥镇人民调解委员会调解室",
        mediators=(MEDIATOR,),
        recorder=RECORDER,
        parties=make_parties(),
        attendees=("枫溪村人民调解委员会委员 何永根",),
        statements=(
            Statement(
                speaker="调解员",
                text="今天调解张建国与李根水之间的排水沟纠纷。双方已收到权利义务告知书，是否清楚？",
            ),
            Statement(
                speaker="张建国",
                text="清楚。李根水把排水沟填了，下雨后水全灌进我家厨房，地面和橱柜都泡坏了。",
            ),
            Statement(
                speaker="李根水",
                text="清楚。我翻建猪舍时填了一段，没想到会倒灌。可他把我猪舍围墙拆了两米，也不对。",
            ),
            Statement(
                speaker="调解员",
                text="排水沟是两家共用的，任何一方都不能擅自填堵；拆墙也不是解决问题的办法。双方各退一步，把沟恢复、把墙修好。",
            ),
            Statement(speaker="张建国", text="只要他把沟挖通，赔偿三千元我可以接受，围墙我来修。"),
            Statement(speaker="李根水", text="同意。6月10日前我把沟挖通，三千元这个月内给他。"),
        ),
        result="双方自愿达成调解协议，制作人民调解协议书，编号" + AGREEMENT_NUMBER + "。",
    )
    return replace(data, **overrides)


def make_agreement(**overrides: Any) -> Agreement:
    data = Agreement(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        agreement_number=AGREEMENT_NUMBER,
        parties=make_parties(),
        facts=FACTS,
        disputed_issues=DISPUTED_ISSUES,
        responsibility=RESPONSIBILITY,
        agreed_terms=AGREED_TERMS,
        performance_manner=PERFORMANCE_MANNER,
        performance_place=PERFORMANCE_PLACE,
        performance_period=PERFORMANCE_PERIOD,
        mediators=(MEDIATOR,),
        recorder=RECORDER,
        signed_on=date(2026, 5, 20),
    )
    return replace(data, **overrides)


def make_oral_agreement_register(**overrides: Any) -> OralAgreementRegister:
    data = OralAgreementRegister(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        agreed_on=date(2026, 5, 20),
        parties=make_parties(),
        facts=FACTS,
        disputed_issues=DISPUTED_ISSUES,
        agreed_terms=AGREED_TERMS[:3],
        performance_manner=PERFORMANCE_MANNER,
        performance_place=PERFORMANCE_PLACE,
        performance_period=PERFORMANCE_PERIOD,
        mediators=(MEDIATOR,),
        registered_by=RECORDER,
    )
    return replace(data, **overrides)


def make_return_visit_record(**overrides: Any) -> ReturnVisitRecord:
    data = ReturnVisitRecord(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        agreement_number=AGREEMENT_NUMBER,
        subject=SUBJECT,
        parties=make_parties(),
        visited_on=date(2026, 6, 15),
        method="上门回访",
        visitors=(MEDIATOR, RECORDER),
        performance=(
            "赔偿款人民币叁仟元已于2026年5月22日当面付清，申请人出具收条；"
            "排水沟已于2026年6月8日清通恢复原状；围墙已于2026年6月5日修复。协议已全部履行。"
        ),
        situation="双方对调解结果满意；6月中旬两次降雨排水通畅，未再积水倒灌；双方关系缓和，无起诉，无激化迹象。",
        measures="提醒双方每年5月31日前共同清理排水沟，村调解委员会汛期前跟踪一次。",
    )
    return replace(data, **overrides)


def make_closing_report(**overrides: Any) -> ClosingReport:
    data = ClosingReport(
        case_code=CASE_CODE,
        committee=COMMITTEE,
        file_number="（2026）枫人调卷第018号",
        filled_on=date(2026, 6, 16),
        mediators=(MEDIATOR,),
        accepted_on=date(2026, 5, 8),
        closed_on=date(2026, 6, 15),
        source=AcceptanceSource.APPLICATION,
        mediation_type="邻里",
        parties=make_parties(),
        facts=FACTS,
        agreement_number=AGREEMENT_NUMBER,
        result="调解成功，双方于2026年5月20日签订人民调解协议书。",
        performance="协议已于2026年6月10日前全部履行，2026年6月15日回访确认。",
        reviewed_by="周国平",
    )
    return replace(data, **overrides)
