"""The demonstration county's mediation: a pool of twelve mediators, three named mediation rooms, and nine matters of
枫桥镇 led by 老杨调解室, one at each step of a mediation, all driven through the real actions in the recent past.

The demo account `mediator` (杨光明, 老杨调解室) is the lead unit's mediator and the designated mediator of every
story, so logging in as `mediator` shows them all; `dispatcher` and `leader` see them too.
"""

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.accounts.domain import Role
from yidi.accounts.models import Unit, User
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_user
from yidi.cases.demo import id_number, mobile
from yidi.cases.domain import CaseDraft, HandlingMode, PartyDraft, RequestType
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.mediation import actions, archive, handoffs
from yidi.mediation.actions import AgreementInput, SessionInput
from yidi.mediation.builders import make_mediator, make_room, parties
from yidi.mediation.models import Mediator
from yidi.regions.models import Region

ZONE = ZoneInfo("Asia/Shanghai")
COUNTY = "330681"
FENGQIAO = "330681109"
LEAD_UNIT = "room-laoyang"

# (username, unit, specialties, organisation type, grade, availability, region (blank: the unit's), languages)
POOL = [
    ("mediator", "room-laoyang", ("neighbour", "housing_homestead", "marriage_family"), "people", "chief",
     "available", "", "普通话、诸暨话"),
    ("mediator001", "room-laoyang", ("neighbour", "damages"), "people", "first", "available", "", "诸暨话"),
    ("mediator002", "room-jiangdajie", ("marriage_family", "neighbour"), "people", "first", "available", "",
     "普通话、诸暨话"),
    ("mediator003", "room-dianko", ("contract", "production_operation", "labour"), "people", "second", "available",
     "", "普通话、诸暨话"),
    ("mediator004", "room-huangshan", ("neighbour", "forest_land"), "people", "second", "limited", "", "诸暨话"),
    ("mediator005", "room-ciwu", ("housing_homestead", "land_expropriation"), "people", "third", "unavailable", "",
     "诸暨话"),
    ("mediator006", "medical-committee", ("medical",), "professional", "first", "available", COUNTY, "普通话"),
    ("mediator007", "traffic-committee", ("road_traffic", "damages"), "professional", "first", "available", COUNTY,
     "普通话、诸暨话"),
    ("mediator008", "property-committee", ("property_management",), "professional", "second", "available", COUNTY,
     "普通话"),
    ("mediator009", "labour-committee", ("labour",), "administrative", "second", "available", COUNTY, "普通话"),
    ("mediator010", "consumer-committee", ("consumer", "contract"), "invited", "third", "available", COUNTY, "普通话"),
    ("mediator011", "family-committee", ("marriage_family", "contract"), "lawyer", "first", "limited", COUNTY,
     "普通话、英语"),
]
# (name, unit, lead mediator's username, specialties, address, introduction)
ROOMS = [
    ("老杨调解室", "room-laoyang", "mediator", ("neighbour", "housing_homestead", "marriage_family"),
     "诸暨市枫桥镇枫源村文化礼堂东侧", "“枫桥经验”发源地的品牌调解室，擅长邻里、宅基地和家庭纠纷，就地化解。"),
    ("江大姐调解室", "room-jiangdajie", "mediator002", ("marriage_family", "neighbour"),
     "诸暨市暨阳街道社区服务中心二楼", "以婚姻家庭纠纷见长，女性调解员为主。"),
    ("店口和事佬调解室", "room-dianko", "mediator003", ("contract", "production_operation", "labour"),
     "诸暨市店口镇商会大楼一楼", "服务五金产业集聚区，调处企业间合同和劳资纠纷。"),
]


@dataclass(frozen=True)
class Story:
    """One demo matter: where it happened, what it is about and how far its mediation goes."""

    village: str
    title: str
    description: str
    respondent: str
    dispute_type: str
    step: str  # preparing, awaiting_response, mediating, signing, confirmed, window, oral, failed, refused
    days_ago: int  # registered this many days before the demo's last day
    requests: str = "请求对方停止侵害、排除妨碍\n请求对方赔偿损失"  # 申请事项, one per line
    terms: str = "被申请人于协议生效之日起十日内消除妨碍、恢复原状。\n被申请人一次性赔偿申请人人民币贰仟元整。\n双方就本纠纷再无其他争议。"


STORIES = [
    Story("330681109290", "枫源村两户因排水沟堵塞发生争执",
          "来访人陈立新反映，邻居加盖杂物间堵住两家共用的排水沟，雨后积水倒灌进自家厨房，请求调解。",
          "王志强", "neighbour", "confirmed", 40),
    Story("330681109291", "乐山村宅基地界址争议",
          "来访人何建华反映，邻居翻建房屋时越过原宅基地界址约半米，双方多次争吵，请求调解确认界址。",
          "骆永根", "housing_homestead", "window", 32, "请求确认两家宅基地界址\n请求对方拆除越界部分或者给予补偿",
          "双方确认以村委会2015年测绘图标注的界桩为两家宅基地界址。\n被申请人于协议生效之日起十日内拆除越过界址的围墙约半米，"
          "恢复原状。\n被申请人一次性补偿申请人人民币贰仟元整。\n双方就本纠纷再无其他争议。"),
    Story("330681109292", "齐东村邻里通行纠纷",
          "村民楼海燕反映，邻居在共用通道堆放柴草和建材，影响车辆通行，沟通未果，请求调解。",
          "斯金水", "neighbour", "oral", 20),
    Story("330681109293", "永宁村赡养费纠纷",
          "老人俞桂花反映，小儿子近两年未支付赡养费，也不探望，请求调解落实赡养义务。",
          "俞立军", "marriage_family", "signing", 12, "请求被申请人按月支付赡养费\n请求被申请人定期探望",
          "被申请人自本协议生效之月起，每月10日前向申请人支付赡养费人民币伍佰元整。\n"
          "被申请人每月至少探望申请人一次，申请人生病住院期间负责陪护。\n双方就本纠纷再无其他争议。"),
    Story("330681109294", "新择湖村房屋漏水损害赔偿",
          "村民郦文斌反映，楼上邻居自建卫生间防水不到位，长期渗漏导致自家墙面霉变，请求赔偿维修费用。",
          "寿国庆", "neighbour", "mediating", 9),
    Story("330681109295", "栎桥村相邻采光纠纷",
          "村民宣春兰反映，邻居新建三层楼房紧贴自家南墙，严重影响采光，请求调解。",
          "孟小东", "neighbour", "failed", 25, "请求对方降低楼层高度或者给予采光补偿"),
    Story("330681109296", "魏廉村噪音扰民纠纷",
          "村民方佳怡反映，邻居在家中开办小型加工作坊，机器昼夜运转，噪音扰民，请求调解。",
          "边浩然", "neighbour", "refused", 15, "请求对方停止夜间生产、降低噪音"),
    Story("330681109297", "西奕村围墙倒塌损害赔偿",
          "村民黄子涵反映，邻居年久失修的围墙倒塌砸坏自家电动车和花木，请求赔偿。",
          "冯晓峰", "neighbour", "awaiting_response", 4),
    Story("330681109298", "杜黄新村老人房屋分配纠纷",
          "村民石玉珍反映，父亲去世后兄弟二人对老屋分配意见不一，关系紧张，请求调解。",
          "石永根", "marriage_family", "preparing", 2, "请求协商分配父亲遗留的老屋"),
]


def build_pool() -> list[Mediator]:
    """Twelve mediators of the pool and three named rooms (idempotent)."""
    mediators = []
    for username, unit_code, specialties, organisation_type, grade, availability, region, languages in POOL:
        user = User.objects.filter(username=username).first()
        if user is None:  # the seeder's pool has it unless fewer mediators were asked for
            user = make_user(username, Role.MEDIATOR, unit=Unit.objects.get(code=unit_code), name=username,
                             password=None)
        mediators.append(make_mediator(
            user, specialties=specialties, region_code=region, organisation_type=organisation_type, grade=grade,
            availability=availability, languages=languages, capacity=6 if grade == "chief" else 5,
            training_hours={"chief": 48, "first": 36, "second": 24, "third": 16}[grade],
            complaints=1 if username == "mediator004" else 0,
        ))
    by_username = {m.user.username: m for m in mediators}
    for name, unit_code, lead, specialties, address, introduction in ROOMS:
        room = make_room(name, unit=Unit.objects.get(code=unit_code), specialties=specialties, address=address,
                         introduction=introduction)
        room.lead_mediator = by_username[lead]
        room.save(update_fields=["lead_mediator"])
        Mediator.objects.filter(user__unit__code=unit_code).update(room=room)
    return mediators


def receipt_pdf(text: str) -> bytes:
    """A one-page receipt scan stand-in (ASCII: the core PDF fonts have no Chinese)."""
    from fpdf import FPDF

    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.multi_cell(0, 10, text)
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()


class MediationStories:
    """Drives the stories, each step at its own moment before the demo's last day."""

    def __init__(self, *, until: date, seed: int = 20261128):
        self.until = until
        self.rng = random.Random(seed)
        self.registrar = User.objects.get(username="registrar")
        self.dispatcher = User.objects.get(username="dispatcher")
        self.mediator = User.objects.get(username="mediator")
        self.profile = Mediator.objects.get(user=self.mediator)
        self.relative = Mediator.objects.get(user__username="mediator001")

    def moment(self, days_ago: int, hour: float = 9) -> datetime:
        """`hour` o'clock (Asia/Shanghai), `days_ago` days before the demo's last day."""
        day = self.until - timedelta(days=days_ago)
        return datetime.combine(day, time(0), tzinfo=ZONE) + timedelta(hours=hour)

    def run(self) -> list[Case]:
        return [self._story(story) for story in STORIES]

    def _register(self, story: Story) -> Case:
        rng = self.rng
        village = Region.objects.get(code=story.village).short_name
        applicant = story.description.split("反映")[0].removeprefix("来访人").removeprefix("村民").removeprefix("老人")
        draft = CaseDraft(
            channel_code="walk_in", request_type=RequestType.MEDIATION, title=story.title,
            description=story.description, region_code=story.village, address="", primary_type_code=story.dispute_type,
            grade="blue", complexity="simple", people_involved=2, in_person=True,
            parties=(
                PartyDraft(role="applicant", name=applicant, id_number=id_number(rng), phone=mobile(rng),
                           address=f"诸暨市枫桥镇{village}{rng.randrange(1, 9)}组{rng.randrange(1, 40)}号"),
                PartyDraft(role="respondent", name=story.respondent, id_number=id_number(rng), phone=mobile(rng),
                           address=f"诸暨市枫桥镇{village}{rng.randrange(1, 9)}组{rng.randrange(40, 80)}号"),
            ),
        )
        with clock.at(self.moment(story.days_ago)):
            case = case_actions.do_register_case(draft, actor=self.registrar)
        code = case.code
        with clock.at(self.moment(story.days_ago, 10)):
            case_actions.do_accept_case(code, actor=self.registrar)
        with clock.at(self.moment(story.days_ago, 11)):
            case_actions.do_assign_case(code, actor=self.dispatcher, lead_unit_code=LEAD_UNIT, handling_level="village",
                                        note="当事人选择到老杨调解室调解", override_reason="当事人选择老杨调解室调解")
        with clock.at(self.moment(story.days_ago, 14)):
            case_actions.do_sign_case(code, actor=self.mediator)
            case_actions.do_start_handling(code, actor=self.mediator, mode=HandlingMode.MEDIATION)
        return case

    def _story(self, story: Story) -> Case:
        case = self._register(story)
        code, actor, step = case.code, self.mediator, story.step
        applicant, respondent = parties(case)
        start = story.days_ago - 1
        with clock.at(self.moment(start, 9)):
            actions.do_open_mediation(code, actor=actor, source="application", applied_on=local_date(clock.now()),
                                      requests=story.requests)
            actions.do_designate_mediators(code, actor=actor, mediator_ids=[self.profile.pk], source="parties",
                                           note="当事人点名由杨光明调解")
        if step == "preparing":
            return case
        with clock.at(self.moment(start, 10)):
            actions.do_deliver_rights_notice(code, actor=actor, party_ids=[applicant.pk, respondent.pk],
                                             method="当面告知并送达书面告知书", delivered_on=local_date(clock.now()))
            actions.do_update_party_details(code, actor=actor, party_id=applicant.pk, details=actions.PartyDetailInput(
                ethnicity="汉族", occupation="农民"))
            actions.do_update_party_details(code, actor=actor, party_id=respondent.pk,
                                            details=actions.PartyDetailInput(ethnicity="汉族", occupation="个体工商户"))
        if step == "mediating":
            with clock.at(self.moment(start, 11)):
                actions.do_declare_conflict(code, actor=actor, mediator_id=self.relative.pk, relation="relative",
                                            party_id=respondent.pk, note="调解员系被申请人的表兄")
        with clock.at(self.moment(start, 12)):
            actions.do_notify_other_party(code, actor=actor, party_id=respondent.pk, method="电话",
                                          note="电话告知申请人申请调解的事项，询问是否同意调解")
        if step == "awaiting_response":
            return case
        if step == "refused":
            with clock.at(self.moment(start - 2, 15)):
                actions.do_record_refusal(
                    code, actor=actor, party_id=respondent.pk, reason="被申请人明确表示不同意调解，要求走法律程序",
                    routes_told="已告知申请人可以向诸暨市人民法院枫桥人民法庭提起诉讼，或向枫桥镇综合行政执法队投诉作坊噪音",
                )
            return case
        with clock.at(self.moment(start - 1, 9)):
            actions.do_record_consent(code, actor=actor, party_id=respondent.pk, note="被申请人同意调解")
        with clock.at(self.moment(start - 2, 16)):
            actions.do_record_session(code, actor=actor, session=SessionInput(
                kind="joint", mode="on_site", place="老杨调解室", started_at=self.moment(start - 2, 14),
                ended_at=self.moment(start - 2, 15.5), party_ids=(applicant.pk, respondent.pk),
                attendees="村民小组长", recorder="楼志强",
                statements=(
                    ("调解员杨光明", "今天请双方到调解室，就这件事各自说说情况，也听听对方的意见。"),
                    (applicant.person.name, story.description.split("反映，")[-1]),
                    (respondent.person.name, "事情有误会，我愿意坐下来商量解决。"),
                ),
                result="双方陈述了各自意见，同意在调解员主持下继续协商。",
            ))
        if step == "mediating":
            return case
        if step == "failed":
            with clock.at(self.moment(start - 6, 16)):
                actions.do_record_failure(
                    code, actor=actor, reason="经两次调解，被申请人坚持房屋已取得建房许可，不同意任何补偿，双方分歧过大",
                    routes_told="已告知申请人可以向诸暨市人民法院提起相邻关系诉讼，也可以向枫桥镇村镇建设办公室反映建房审批问题",
                )
            return case
        content = AgreementInput(
            facts=story.description, disputed_issues="双方对责任的承担和赔偿数额存在争议。",
            responsibility="被申请人对损失负主要责任。",
            terms=story.terms,
            performance_manner="第一项由被申请人自行履行，调解室派员查看；第二项现金当面支付，申请人出具收条。",
            performance_place="纠纷发生地现场；赔偿款在老杨调解室当面交付。",
            performance_period="协议生效之日起十日内履行完毕。",
        )
        if step == "oral":
            with clock.at(self.moment(start - 3, 11)):
                actions.do_record_oral_agreement(code, actor=actor, content=content)
            with clock.at(self.moment(start - 5, 10)):
                actions.do_add_obligation(code, actor=actor, obligor_id=respondent.pk, obligee_id=applicant.pk,
                                          description="清理通道内堆放的柴草和建材",
                                          due_on=(self.moment(start - 3) + timedelta(days=30)).date())
                actions.do_record_rating(code, actor=self.dispatcher, mediator_id=self.profile.pk,
                                         party_id=applicant.pk, score=5, comment="调解员很耐心")
            return case
        with clock.at(self.moment(start - 3, 10)):
            actions.do_draft_agreement(code, actor=actor, content=content)
        signers = [f"party:{applicant.pk}", f"mediator:{self.profile.pk}"]
        if step == "signing":
            with clock.at(self.moment(start - 3, 11)):
                actions.do_record_signatures(code, actor=actor, signer_keys=signers)
            return case
        with clock.at(self.moment(start - 4, 10)):
            actions.do_record_signatures(code, actor=actor, signer_keys=[*signers, f"party:{respondent.pk}", "seal"])
            actions.do_make_agreement_effective(code, actor=actor)
        effective = self.moment(start - 4, 10).date()
        with clock.at(self.moment(start - 4, 11)):
            due = effective + timedelta(days=10)
            actions.do_add_obligation(code, actor=actor, obligor_id=respondent.pk, obligee_id=applicant.pk,
                                      description="消除妨碍、恢复原状", due_on=due)
            actions.do_add_obligation(code, actor=actor, obligor_id=respondent.pk, obligee_id=applicant.pk,
                                      description="赔偿损失", amount=Decimal("2000"), due_on=due)
        if step == "window":
            return case  # the window is open (it closes in a few days) and the obligations are overdue
        # step == "confirmed": applied, accepted, confirmed; performed with a receipt; documents generated
        with clock.at(self.moment(start - 6, 10)):
            actions.do_request_judicial_confirmation(code, actor=actor, court="诸暨市人民法院枫桥人民法庭",
                                                     applied_on=local_date(clock.now()))
        with clock.at(self.moment(start - 8, 10)):
            actions.do_record_court_acceptance(code, actor=actor, accepted_on=local_date(clock.now()),
                                               number="（2026）浙0681民特调确字第0417号")
        with clock.at(self.moment(start - 12, 15)):
            actions.do_record_ruling(code, actor=actor, ruling="confirmed", ruled_on=local_date(clock.now()),
                                     number="（2026）浙0681民特调确字第0417号",
                                     note="经审查，调解协议符合法律规定，裁定确认有效")
        obligations = list(case.mediations.get().agreement.obligations.order_by("id"))
        with clock.at(self.moment(start - 13, 10)):
            for obligation in obligations:
                receipt = None
                if obligation.amount:
                    receipt = SimpleUploadedFile("receipt.pdf", receipt_pdf(
                        "Receipt: RMB 2,000.00 received in full.\nFengqiao, Zhuji."), content_type="application/pdf")
                actions.do_record_performance(code, actor=actor, obligation_id=obligation.pk,
                                              performed_on=local_date(clock.now()), note="已按协议履行完毕",
                                              is_complete=True, amount=obligation.amount, receipt=receipt)
            case_actions.do_monitor_performance(code, actor=actor)
            actions.do_record_rating(code, actor=self.dispatcher, mediator_id=self.profile.pk, party_id=applicant.pk,
                                     score=5, comment="调解及时，问题解决了")
            actions.do_record_rating(code, actor=self.dispatcher, mediator_id=self.profile.pk, party_id=respondent.pk,
                                     score=4)
            actions.do_generate_document(code, actor=actor, key="agreement")
        return case


PETITION_STORY = Story(
    "330681109290", "枫源村村民对征地补偿分配不服信访",
    "村民陈某反映，村集体征地补偿款分配方案未将其户籍在外的女儿计入，多次向村委会反映未果，要求重新分配。",
    "枫源村村民委员会", "land_expropriation", "petition", 60,
)


class DiversionStories(MediationStories):
    """Hand-offs and the 卷宗: the failed mediation goes to court and the court's answer comes back; a petition
    matter is in 复查; the confirmed agreement's matter is closed and archived. (The agreements of the stories
    above earned their mediator's 以案定补 entries as they took effect.)"""

    def run(self, stories: list[Case]) -> list[Case]:
        by_step = {story.step: case for story, case in zip(STORIES, stories, strict=True)}
        self._court(by_step["failed"], start=24)
        self._archive(by_step["confirmed"], start=39)
        return [self._petition()]

    def _court(self, case: Case, *, start: int) -> None:
        code = case.code
        with clock.at(self.moment(start - 7, 10)):
            handoff = handoffs.do_hand_off(code, actor=self.mediator, kind="court_filing", receiver="诸暨市人民法院",
                                           reason="调解不成，申请人坚持向人民法院起诉，移送材料引导立案")
        with clock.at(self.moment(start - 9, 10)):
            handoffs.do_record_handoff_receipt(code, actor=self.dispatcher, handoff_id=handoff.pk,
                                               received_on=local_date(clock.now()),
                                               reference_number="（2026）浙0681民初1736号")
        with clock.at(self.moment(start - 14, 15)):
            handoffs.do_record_handoff_outcome(code, actor=self.dispatcher, handoff_id=handoff.pk,
                                               decided_on=local_date(clock.now()), decision="已立案受理，适用简易程序审理",
                                               note="法院电话反馈")

    def _archive(self, case: Case, *, start: int) -> None:
        code = case.code
        with clock.at(self.moment(start - 14, 10)):
            for key in ("application", "acceptance_register", "rights_notice", "session_record-1"):
                actions.do_generate_document(code, actor=self.mediator, key=key)
            case_actions.do_record_return_visit(code, actor=self.mediator, summary="回访双方，协议已履行完毕，双方满意")
        with clock.at(self.moment(start - 15, 10)):
            case_actions.do_close_case(code, actor=self.dispatcher, note="协议履行完毕，回访满意")
        with clock.at(self.moment(start - 16, 10)):
            archive.do_archive_file(code, actor=self.dispatcher, waivers={
                "identity": "当事人当场出示身份证，登记表已记载身份信息",
                "closing_report": "协议已即时履行，以回访记录和协议书代结案报告表",
            })

    def _petition(self) -> Case:
        story = PETITION_STORY
        case = self._register(story)
        code = case.code
        with clock.at(self.moment(story.days_ago - 1, 10)):
            handoff = handoffs.do_hand_off(code, actor=self.mediator, kind="petition", receiver="诸暨市信访局",
                                           reason="申诉求决类事项，依《信访工作条例》第31条转入信访程序办理")
        with clock.at(self.moment(story.days_ago - 2, 10)):
            handoffs.do_record_handoff_receipt(code, actor=self.dispatcher, handoff_id=handoff.pk,
                                               received_on=local_date(clock.now()), reference_number="诸信转〔2026〕58号")
        with clock.at(self.moment(story.days_ago - 30, 10)):
            handoffs.do_record_handoff_outcome(code, actor=self.dispatcher, handoff_id=handoff.pk,
                                               decided_on=local_date(clock.now()), opinion="not_support",
                                               note="分配方案经村民代表会议表决通过，依法不予支持")
        with clock.at(self.moment(story.days_ago - 45, 10)):
            handoffs.do_record_petition_request(code, actor=self.dispatcher, handoff_id=handoff.pk, step="review",
                                                requested_on=local_date(clock.now()))
        return case


def build(*, until: date) -> dict[str, int]:
    """The pool, the rooms and the stories (the stories only once: they are matters)."""
    mediators = build_pool()
    stories = MediationStories(until=until).run()
    stories += DiversionStories(until=until).run(stories)
    return {"mediators": len(mediators), "rooms": len(ROOMS), "matters": len(stories)}

