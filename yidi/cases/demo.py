"""The demonstration county: 诸暨市 (330681), its units and staff, and a year of matters driven through the
real actions. Deterministic for a given seed and end date; every matter is written by `do_*` actions."""

import csv
import random
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from yidi.accounts.actions import do_save_responsibility
from yidi.accounts.auth import do_install_two_factor, has_two_factor, requires_two_factor
from yidi.accounts.domain import Role, UnitKind
from yidi.accounts.models import PlatformType, Unit, User
from yidi.cases import actions
from yidi.cases.builders import make_unit, make_user
from yidi.cases.domain import (
    CaseDraft,
    CaseStatus,
    Complexity,
    Evaluation,
    HandlingMode,
    Outcome,
    PartyDraft,
    RequestType,
)
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.taxonomies import MEDIATION_TYPE
from yidi.regions.actions import do_add_grid
from yidi.regions.models import Region

COUNTY = "330681"
ZONE = ZoneInfo("Asia/Shanghai")
CORPUS = Path(__file__).resolve().parents[1] / "triage" / "data" / "seed_corpus.csv"

# (code, name, residency mode, mediation types it is responsible for at county level)
DEPARTMENTS = [
    ("court", "诸暨市人民法院诉讼服务中心", "permanent", ["contract", "damages"]),
    ("police", "诸暨市公安局", "permanent", []),
    ("justice", "诸暨市司法局", "permanent", ["other"]),
    ("hrss", "诸暨市人力资源和社会保障局", "permanent", ["labour"]),
    ("petition", "诸暨市信访局", "permanent", []),
    ("housing", "诸暨市住房和城乡建设局", "rotating", ["property_management", "housing_homestead"]),
    ("natural-resources", "诸暨市自然资源和规划局", "rotating", ["forest_land", "land_expropriation"]),
    ("market", "诸暨市市场监督管理局", "permanent", ["consumer", "production_operation"]),
    ("health", "诸暨市卫生健康局", "rotating", ["medical"]),
    ("education", "诸暨市教育体育局", "on_call", []),
    ("ecology", "绍兴市生态环境局诸暨分局", "rotating", ["environmental_pollution"]),
    ("agriculture", "诸暨市农业农村局", "rotating", ["forest_land"]),
    ("transport", "诸暨市交通运输局", "on_call", ["road_traffic"]),
    ("civil-affairs", "诸暨市民政局", "on_call", ["marriage_family"]),
    ("women", "诸暨市妇女联合会", "permanent", ["marriage_family"]),
    ("union", "诸暨市总工会", "rotating", ["labour"]),
    ("veterans", "诸暨市退役军人事务局", "on_call", []),
    ("enforcement", "诸暨市综合行政执法局", "rotating", []),
    ("emergency", "诸暨市应急管理局", "on_call", []),
    ("legal-aid", "诸暨市法律援助中心", "permanent", []),
    ("letters", "诸暨市12345政务服务便民热线", "permanent", []),
]
# The function code that routing rules use to find a department ("department:<function>").
FUNCTIONS = {
    "hrss": "human_resources_social_security",
    "natural-resources": "natural_resources",
    "housing": "housing_construction",
    "market": "market_regulation",
    "health": "health",
    "ecology": "ecology_environment",
    "transport": "transport",
    "civil-affairs": "civil_affairs",
    "police": "public_security",
    "justice": "justice",
    "court": "court",
    "petition": "petition",
}
PROFESSIONAL = [
    ("medical-committee", "诸暨市医疗纠纷人民调解委员会", ["medical"]),
    ("traffic-committee", "诸暨市道路交通事故人民调解委员会", ["road_traffic"]),
    ("property-committee", "诸暨市物业纠纷人民调解委员会", ["property_management"]),
    ("labour-committee", "诸暨市劳动争议人民调解委员会", ["labour"]),
    ("consumer-committee", "诸暨市消费纠纷人民调解委员会", ["consumer"]),
    ("family-committee", "诸暨市婚姻家庭纠纷人民调解委员会", ["marriage_family"]),
]
# Named mediation rooms (品牌调解室) in townships: (code, name, township code)
ROOMS = [
    ("room-laoyang", "老杨调解室", "330681109"),
    ("room-jiangdajie", "江大姐调解室", "330681001"),
    ("room-dianko", "店口和事佬调解室", "330681104"),
    ("room-huangshan", "璜山老娘舅调解室", "330681119"),
    ("room-ciwu", "次坞乡贤调解室", "330681103"),
]
COURTS = [
    ("court-fengqiao", "诸暨市人民法院枫桥人民法庭", "330681109"),
    ("court-dianko", "诸暨市人民法院店口人民法庭", "330681104"),
    ("court-huangshan", "诸暨市人民法院璜山人民法庭", "330681119"),
]
POLICE = [
    ("police-fengqiao", "枫桥派出所", "330681109"),
    ("police-jiyang", "暨阳派出所", "330681001"),
    ("police-dianko", "店口派出所", "330681104"),
]

# Shares in a year of a county centre's intake (人民调解 statistics put neighbour and family disputes first).
TYPE_WEIGHTS = {
    "neighbour": 22, "marriage_family": 14, "labour": 11, "housing_homestead": 9, "damages": 8, "contract": 7,
    "property_management": 6, "road_traffic": 5, "consumer": 4, "forest_land": 3, "production_operation": 3,
    "land_expropriation": 2, "medical": 2, "environmental_pollution": 2, "other": 2,
}
TYPE_NAMES = dict(MEDIATION_TYPE.labels)
MEDIATION_KINDS = {UnitKind.VILLAGE_COMMITTEE, UnitKind.MEDIATION_ROOM, UnitKind.PROFESSIONAL_MEDIATION}
CHANNEL_WEIGHTS = {
    "walk_in": 30, "hotline_12345": 24, "grid_report": 18, "phone": 8, "online": 7, "court_pre_filing": 2, "court_entrusted_ordinary": 1, "court_entrusted_simplified": 1,
    "petition_visit": 3, "petition_letter": 1, "police_110": 2, "department_transfer": 2, "proactive_screening": 1,
}
SURNAMES = "陈王张楼宣赵何周杨俞郦斯蒋寿骆石金吴钱孙徐方黄冯郭边孟"
GIVEN = "建国伟明华军丽娟芳秀英志强海燕红梅文斌立新国庆春兰桂花永根金水玉珍小东晓峰佳怡子涵浩然雨欣"
COMPANIES = ["袜业有限公司", "五金制品有限公司", "建筑工程有限公司", "纺织有限公司", "物业服务有限公司",
             "珍珠养殖专业合作社", "电器有限公司", "汽车维修服务部"]


# The demo's published two-factor secret for the accounts that must use two-factor (leaders, supervisors and the
# three admin roles). `yidi manage demo_code USER` prints the current code; it refuses any other secret.
DEMO_TOTP_SECRET = "YIDIDEMOYIDIDEMOYIDIDEMOYIDIDEMO"

DEMO_ACCOUNTS = [
    # username, role, unit code, display name, what it shows
    ("registrar", Role.REGISTRAR, "centre", "李晓梅", "窗口受理：登记事项、受理"),
    ("dispatcher", Role.DISPATCHER, "command", "赵建华", "指挥调度：交办、办结"),
    ("handler", Role.HANDLER, "330681109-comprehensive_governance", "钱国庆", "枫桥镇综治工作平台：签收、办理"),
    ("handler2", Role.HANDLER, "330681001-comprehensive_governance", "孙丽娟", "暨阳街道：看不到枫桥镇的事项"),
    ("labour", Role.HANDLER, "hrss", "郑海燕", "人社局：劳动争议"),
    ("mediator", Role.MEDIATOR, "room-laoyang", "杨光明", "老杨调解室：调解全流程、文书、司法确认、履行"),
    ("grid", Role.GRID_WORKER, "330681109290-committee", "楼志强", "枫源村网格员：上报事项"),
    ("leader", Role.LEADER, "centre", "周文斌", "中心领导"),
    ("supervisor", Role.SUPERVISOR, "centre", "吴秀英", "督查：全县事项"),
    ("auditor", Role.AUDITOR, "centre", "冯玉珍", "审计管理员（无业务数据）"),
    ("security", Role.SECURITY_ADMIN, "centre", "石立新", "安全管理员"),
    ("sysadmin", Role.SYSTEM_ADMIN, "centre", "金永根", "系统管理员：后台基础数据"),
]


REFERENCE_SEEDS = (
    "yidi.core.migrations.0002_seed_taxonomies",
    "yidi.core.migrations.0004_seed_calendar_and_deadline_rules",
    "yidi.cases.migrations.0002_seed_channels",
    "yidi.accounts.migrations.0002_seed_platform_types",
    "yidi.routing.migrations.0002_seed_default_rules",
)


def reseed_reference_data() -> None:
    """Put back what the data migrations seeded (code lists, channels, calendar, rules) after a flush emptied
    every table; does nothing when the reference data is there."""
    import importlib

    from django.apps import apps

    if apps.get_model("cases", "Channel").objects.exists():
        return
    for module in REFERENCE_SEEDS:
        importlib.import_module(module).seed(apps, None)
    importlib.import_module("yidi.cases.migrations.0004_channel_groups_and_court_channels").forwards(apps, None)


def build_organisation() -> dict[str, int]:
    """Units, responsibility list and the printed demo accounts. Idempotent."""
    county = Region.objects.get(code=COUNTY)
    make_unit("centre", kind=UnitKind.CENTRE, region_code=COUNTY, name=f"{county.name}社会矛盾纠纷调处化解中心")
    make_unit("command", kind=UnitKind.COMMAND_DESK, region_code=COUNTY, name="指挥调度室", parent_code="centre")
    for code, name, mode, types in DEPARTMENTS:
        make_unit(code, kind=UnitKind.PETITION_BUREAU if code == "petition" else UnitKind.DEPARTMENT,
                  region_code=COUNTY, name=name, residency_mode=mode, function=FUNCTIONS.get(code, ""))
        for dispute_type in types:
            do_save_responsibility(unit_code=code, dispute_type_code=dispute_type, level="county")
    make_unit("arbitration", kind=UnitKind.ARBITRATION, region_code=COUNTY, name="诸暨市劳动人事争议仲裁委员会",
              residency_mode="permanent")
    for code, name, types in PROFESSIONAL:
        make_unit(code, kind=UnitKind.PROFESSIONAL_MEDIATION, region_code=COUNTY, name=name,
                  residency_mode="rotating")
        for dispute_type in types:
            do_save_responsibility(unit_code=code, dispute_type_code=dispute_type, level="county")
    platform_types = list(PlatformType.objects.filter(is_active=True).order_by("position"))
    townships = list(Region.objects.filter(parent_id=COUNTY, level="township").order_by("code"))
    for township in townships:
        make_unit(f"{township.code}-centre", kind=UnitKind.TOWNSHIP_CENTRE, region_code=township.code,
                  name=f"{township.short_name}矛调中心", parent_code="centre")
        for platform in platform_types:
            make_unit(f"{township.code}-{platform.code}", kind=UnitKind.TOWNSHIP_PLATFORM,
                      region_code=township.code, name=f"{township.short_name}{platform.name}平台",
                      platform_type_code=platform.code, parent_code=f"{township.code}-centre")
    ordinals = "一二三"
    for village in Region.objects.filter(code__startswith=COUNTY, level="village").order_by("code"):
        make_unit(f"{village.code}-committee", kind=UnitKind.VILLAGE_COMMITTEE, region_code=village.code,
                  name=f"{village.short_name}人民调解委员会", parent_code=f"{village.parent_id}-centre")
        for ordinal in ordinals[: 1 + int(village.code[-3:]) % 3]:
            do_add_grid(village.code, f"{village.short_name}第{ordinal}网格")
    for code, name, township in ROOMS:
        make_unit(code, kind=UnitKind.MEDIATION_ROOM, region_code=township, name=name,
                  parent_code=f"{township}-centre")
    for code, name, township in COURTS:
        make_unit(code, kind=UnitKind.COURT, region_code=township, name=name)
    for code, name, township in POLICE:
        make_unit(code, kind=UnitKind.POLICE_STATION, region_code=township, name=name)
    for username, role, unit_code, name, _ in DEMO_ACCOUNTS:
        unit = None if role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN) else Unit.objects.get(code=unit_code)
        user = make_user(username, role, unit=unit, name=name)
        if requires_two_factor(user) and not has_two_factor(user):
            do_install_two_factor(user, secret=DEMO_TOTP_SECRET, actor=None)
    return {"units": Unit.objects.count(), "townships": len(townships)}


def build_mediators(rng: random.Random, count: int = 60) -> list[User]:
    """A pool of mediators across named rooms, professional committees and village committees."""
    homes = [code for code, _, _ in ROOMS] + [code for code, _, _ in PROFESSIONAL]
    villages = list(
        Unit.objects.filter(kind=UnitKind.VILLAGE_COMMITTEE, code__startswith=COUNTY).values_list("code", flat=True)
    )
    homes += rng.sample(villages, k=max(0, count - len(homes)))
    mediators = []
    for index, unit_code in enumerate(homes[:count], start=1):
        mediators.append(make_user(f"mediator{index:03d}", Role.MEDIATOR, unit=Unit.objects.get(code=unit_code),
                                   name=person_name(rng), password=None))
    return mediators


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def id_number(rng: random.Random, region: str = COUNTY) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    body = f"{region}{born:%Y%m%d}{rng.randrange(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "137", "135", "158", "159", "187", "189", "133", "177")) + (
        f"{rng.randrange(0, 10**8):08d}"
    )


def load_descriptions(path: Path = CORPUS) -> dict[str, list[str]]:
    """Realistic descriptions by 人民调解 type, from the triage seed corpus written for this project."""
    by_type: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("mediation_type"):
                by_type[row["mediation_type"]].append(row["text"].strip())
    missing = [t for t in TYPE_WEIGHTS if not by_type.get(t)]
    if missing:
        raise RuntimeError(f"{path} has no description for {', '.join(missing)}")
    return by_type


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _working_moment(rng: random.Random, day: date) -> datetime:
    minutes = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=ZONE)


def _title(text: str, fallback: str) -> str:
    """A short title from the description: its first clause that says something (not "来访人某某反映")."""
    plain = re.sub(r"（[^）]*）|\([^)]*\)", "", text)
    for clause in re.split(r"[。！？；，,：:\n]", plain):
        clause = clause.strip()
        for prefix in ("来访人", "来电人", "网格员上报", "市民反映", "群众反映", "村民反映"):
            clause = clause.removeprefix(prefix)
        if len(clause) >= 6 and not clause.endswith(("反映", "来电", "来访", "称")):
            return clause[:28] + ("…" if len(clause) > 28 else "")
    return fallback


class Seeder:
    """Drives matters through the actions, each at its own moment in the past year."""

    def __init__(self, *, seed: int, until: date, matters: int, corpus: Path = CORPUS):
        self.rng = random.Random(seed)
        self.until = until
        # the end of the last day's work, or the present moment when the seed runs before it (nothing in the future)
        self.now = min(datetime.combine(until, time(18, 0), tzinfo=ZONE), clock.now())
        self.matters = matters
        self.descriptions = load_descriptions(corpus)
        self.townships = list(Region.objects.filter(parent_id=COUNTY, level="township").order_by("code"))
        self.villages: dict[str, list[Region]] = defaultdict(list)
        for village in Region.objects.filter(code__startswith=COUNTY, level="village").order_by("code"):
            self.villages[village.parent_id].append(village)
        self.registrar = User.objects.get(username="registrar")
        self.dispatcher = User.objects.get(username="dispatcher")
        self.staff: dict[str, User] = {}
        self.unit_kinds = dict(Unit.objects.values_list("code", "kind"))

    def _staff(self, unit_code: str, role: Role) -> User:
        key = f"{role}:{unit_code}"
        if key not in self.staff:
            existing = User.objects.filter(unit__code=unit_code, roles__role=role).order_by("id").first()
            self.staff[key] = existing or make_user(
                f"{role.value}-{unit_code}"[:150], role, unit=Unit.objects.get(code=unit_code),
                name=person_name(self.rng), password=None,
            )
        return self.staff[key]

    def run(self, progress: Callable[[int], None] | None = None) -> int:
        start = self.until - timedelta(days=365)
        days = [start + timedelta(days=i) for i in range(366)]
        # Working days carry most matters; hotline and online reports arrive on weekends too.
        moments = sorted(
            _working_moment(self.rng, self.rng.choice(days)) for _ in range(self.matters)
        )
        for index, moment in enumerate(moments):
            self._one(min(moment, self.now - timedelta(minutes=30)))
            if progress and (index + 1) % 200 == 0:
                progress(index + 1)
        return len(moments)

    def _one(self, registered_at: datetime) -> None:
        rng = self.rng
        dispute_type = _weighted(rng, TYPE_WEIGHTS)
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        township = rng.choices(self.townships, weights=[3 if "街道" in t.name else 2 for t in self.townships])[0]
        village = rng.choice(self.villages[township.code]) if self.villages[township.code] else township
        text = rng.choice(self.descriptions[dispute_type])
        people = rng.choice((1, 2, 2, 2, 3, 4)) if rng.random() > 0.06 else rng.randrange(5, 60)
        grade = "red" if people >= 30 else "orange" if people >= 5 else rng.choices(
            ["yellow", "blue"], weights=[25, 75])[0]
        complexity = (Complexity.DIFFICULT if grade in ("red", "orange") and rng.random() < 0.6
                      else rng.choices(list(Complexity), weights=[55, 38, 7])[0])
        amount = None
        if dispute_type in {"labour", "contract", "damages", "road_traffic", "consumer", "medical",
                            "production_operation", "land_expropriation"}:
            amount = Decimal(rng.choice((800, 1500, 3000, 5000, 8000, 12000, 26000, 50000, 120000, 380000)))
        parties = [PartyDraft(role="applicant", name=person_name(rng), id_number=id_number(rng) if rng.random() < 0.8
                              else "", phone=mobile(rng), address=f"诸暨市{township.short_name}"
                              f"{village.short_name}{rng.randrange(1, 12)}组{rng.randrange(1, 60)}号")]
        if dispute_type in {"labour", "property_management", "consumer", "contract", "production_operation"}:
            parties.append(PartyDraft(role="respondent", kind="organisation",
                                      name=f"诸暨市{rng.choice('恒盛华达永兴新宇金海天成')}{rng.choice(COMPANIES)}"))
        else:
            parties.append(PartyDraft(role="respondent", name=person_name(rng), phone=mobile(rng)))
        reporter = self.registrar
        if channel == "grid_report" and village.level == "village":
            reporter = self._staff(f"{village.code}-committee", Role.GRID_WORKER)
        draft = CaseDraft(
            channel_code=channel,
            request_type=RequestType.MEDIATION if rng.random() < 0.8 else rng.choice(
                (RequestType.HELP, RequestType.COMPLAINT, RequestType.CONSULTATION)),
            title=_title(text, f"{village.short_name}{TYPE_NAMES[dispute_type]}"), description=text, region_code=village.code, address=f"{village.short_name}",
            occurred_at=registered_at - timedelta(days=rng.randrange(0, 20), hours=rng.randrange(0, 12)),
            people_involved=people, amount_involved=amount, primary_type_code=dispute_type, grade=grade,
            complexity=complexity, is_urgent=grade == "red", parties=tuple(parties),
            in_person=channel in ("walk_in", "petition_visit"),
            external_ref=f"ZJ12345-{registered_at:%Y%m%d}-{rng.randrange(10000, 99999)}"
            if channel == "hotline_12345" else "",
        )
        with clock.at(registered_at):
            case = actions.do_register_case(draft, actor=reporter)
        self._advance(case, registered_at, township)

    def _target(self, age_days: int) -> CaseStatus:
        rng = self.rng
        if age_days > 90:
            return rng.choices([CaseStatus.ARCHIVED, CaseStatus.CLOSED, CaseStatus.NOT_ACCEPTED,
                                CaseStatus.PERFORMANCE_MONITORING, CaseStatus.DIVERTED],
                               weights=[48, 42, 5, 3, 2])[0]
        if age_days > 30:
            return rng.choices([CaseStatus.CLOSED, CaseStatus.EVALUATED, CaseStatus.RETURN_VISITED,
                                CaseStatus.CONCLUDED, CaseStatus.IN_PROGRESS, CaseStatus.NOT_ACCEPTED],
                               weights=[55, 10, 8, 10, 14, 3])[0]
        if age_days > 7:
            return rng.choices([CaseStatus.IN_PROGRESS, CaseStatus.CONCLUDED, CaseStatus.SIGNED,
                                CaseStatus.CLOSED, CaseStatus.RETURNED], weights=[45, 20, 10, 20, 5])[0]
        return rng.choices([CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.SIGNED,
                            CaseStatus.IN_PROGRESS], weights=[20, 20, 25, 15, 20])[0]

    def _lead_unit(self, case: Case, township: Region) -> tuple[str, str, str]:
        """(lead unit code, handling level, override reason): the routing rules' proposal, which the demo's
        dispatcher follows; a matter no rule places goes to its township's platform, with the reason."""
        proposal = case.routings.filter(is_override=False).order_by("-decided_at", "-id").first()
        if proposal is not None and proposal.matched:
            return proposal.lead_unit_code, proposal.handling_level, ""
        return f"{township.code}-comprehensive_governance", "township", "无匹配规则，由属地乡镇办理"

    def _advance(self, case: Case, registered_at: datetime, township: Region) -> None:
        rng = self.rng
        now = self.now
        target = self._target((now - registered_at).days)
        moment = registered_at
        code = case.code

        def step(hours_min: float, hours_max: float) -> datetime:
            nonlocal moment
            moment = min(moment + timedelta(hours=rng.uniform(hours_min, hours_max)), now)
            return moment

        def act(run: Callable[[], object], hours=(0.2, 4.0)) -> None:
            with clock.at(step(*hours)):
                run()

        if target == CaseStatus.REGISTERED:
            return
        if target == CaseStatus.NOT_ACCEPTED:
            act(lambda: actions.do_decline_case(code, actor=self.registrar, reason="属于法院已受理的诉讼案件",
                                                route_told="已告知当事人向诸暨市人民法院了解诉讼进展"))
            if rng.random() < 0.5:
                act(lambda: actions.do_archive_case(code, actor=self.registrar), hours=(24, 24 * 20))
            return
        act(lambda: actions.do_accept_case(code, actor=self.registrar))
        if target == CaseStatus.ACCEPTED:
            return
        lead_code, level, override = self._lead_unit(case, township)
        handler_role = Role.MEDIATOR if self.unit_kinds[lead_code] in MEDIATION_KINDS else Role.HANDLER
        handler = self._staff(lead_code, handler_role)
        act(lambda: actions.do_assign_case(code, actor=self.dispatcher, lead_unit_code=lead_code,
                                           handling_level=level, note="请依职责办理", override_reason=override),
            hours=(0.5, 20))
        if target == CaseStatus.ASSIGNED:
            return
        if target == CaseStatus.RETURNED:
            act(lambda: actions.do_return_case(code, actor=handler, reason="不属于本单位职责，请重新交办"),
                hours=(2, 30))
            return
        act(lambda: actions.do_sign_case(code, actor=handler), hours=(0.5, 30))
        if target == CaseStatus.SIGNED:
            return
        mode = HandlingMode.MEDIATION if case.request_type == RequestType.MEDIATION else HandlingMode.ADMINISTRATIVE
        act(lambda: actions.do_start_handling(code, actor=handler, mode=mode), hours=(1, 48))
        if target == CaseStatus.IN_PROGRESS:
            return
        if target == CaseStatus.DIVERTED or (mode == HandlingMode.MEDIATION and rng.random() < 0.05):
            act(lambda: actions.do_divert_case(code, actor=handler, route="litigation",
                                               reason="调解不成，当事人坚持起诉，引导至法院立案"), hours=(24, 24 * 20))
            if target == CaseStatus.DIVERTED:
                return
            outcome = Outcome.RESOLVED_BY_DIVERSION
        elif mode == HandlingMode.MEDIATION:
            outcome = rng.choices([Outcome.WRITTEN_AGREEMENT, Outcome.ORAL_AGREEMENT, Outcome.MEDIATION_FAILED,
                                   Outcome.REFUSED_BY_PARTY], weights=[62, 26, 8, 4])[0]
        else:
            outcome = rng.choices([Outcome.OPINION_SUPPORT, Outcome.OPINION_EXPLAIN, Outcome.OPINION_NOT_SUPPORT],
                                  weights=[45, 45, 10])[0]
        act(lambda: actions.do_conclude_case(code, actor=handler, outcome=outcome, summary="双方当事人签字确认"),
            hours=(24, 24 * 25))
        if target == CaseStatus.CONCLUDED:
            return
        if target == CaseStatus.PERFORMANCE_MONITORING and outcome in (Outcome.WRITTEN_AGREEMENT,
                                                                         Outcome.ORAL_AGREEMENT):
            act(lambda: actions.do_monitor_performance(code, actor=handler), hours=(1, 48))
            return
        if rng.random() < 0.7:
            act(lambda: actions.do_record_return_visit(code, actor=handler, summary="电话回访，协议履行情况良好"),
                hours=(24, 24 * 7))
            if target == CaseStatus.RETURN_VISITED:
                return
        evaluation = rng.choices(list(Evaluation), weights=[84, 12, 4])[0]
        if rng.random() < 0.85:
            note = "认为赔偿金额偏低" if evaluation == Evaluation.DISSATISFIED else ""
            act(lambda: actions.do_evaluate_case(code, actor=self.registrar, evaluation=evaluation, note=note),
                hours=(2, 72))
            if target == CaseStatus.EVALUATED or evaluation == Evaluation.DISSATISFIED:
                return  # 不满意 reopens the matter by rule (`yidi.evaluation`): it is back in hand
        act(lambda: actions.do_close_case(code, actor=self.dispatcher, note="经核实，办结"), hours=(2, 72))
        if target == CaseStatus.ARCHIVED:
            act(lambda: actions.do_archive_case(code, actor=self.dispatcher), hours=(24 * 5, 24 * 30))

