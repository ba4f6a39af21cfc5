"""The classification code lists of a matter, as plain data (no Django).

Each taxonomy is versioned reference data: the database tables in `yidi.core.models` are seeded from
this module and may then be edited by admins; the triage engine uses the same codes.
Sources: `shared/reference/china-rules.md` §2 (人民调解 statistical types; 综治 types; 12345 first-level
labels; 信访 categories; 诉求类型).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TaxonomySpec:
    code: str
    name: str
    version: str
    labels: tuple[tuple[str, str], ...]  # (code, Chinese name), in the published order


MEDIATION_TYPE = TaxonomySpec(
    code="mediation_type",
    name="人民调解纠纷类型",
    version="2016",
    labels=(
        ("marriage_family", "婚姻家庭纠纷"),
        ("neighbour", "邻里纠纷"),
        ("housing_homestead", "房屋宅基地纠纷"),
        ("contract", "合同纠纷"),
        ("production_operation", "生产经营纠纷"),
        ("damages", "损害赔偿纠纷"),
        ("forest_land", "山林土地纠纷"),
        ("land_expropriation", "征地拆迁纠纷"),
        ("environmental_pollution", "环境污染纠纷"),
        ("labour", "劳动争议纠纷"),
        ("consumer", "消费纠纷"),
        ("medical", "医疗纠纷"),
        ("road_traffic", "道路交通事故纠纷"),
        ("property_management", "物业纠纷"),
        ("other", "其他纠纷"),
    ),
)

HOTLINE_CATEGORY = TaxonomySpec(
    code="hotline_category",
    name="12345热线一级分类",
    version="2020",
    labels=(
        ("urban_rural_construction", "城乡建设"),
        ("environmental_protection", "环境保护"),
        ("transport", "交通运输"),
        ("education_culture_sports", "教育文体"),
        ("labour_social_security", "劳动和社会保障"),
        ("commerce_tourism", "商贸旅游"),
        ("health", "卫生计生"),
    ),
)

PETITION_CATEGORY = TaxonomySpec(
    code="petition_category",
    name="信访事项类别",
    version="2022",
    labels=(
        ("suggestion", "建议意见类"),
        ("accusation", "检举控告类"),
        ("appeal_claim", "申诉求决类"),
    ),
)

REQUEST_TYPE = TaxonomySpec(
    code="request_type",
    name="诉求类型",
    version="2020",
    labels=(
        ("consultation", "咨询"),
        ("help", "求助"),
        ("complaint", "投诉"),
        ("report", "举报"),
        ("suggestion", "意见建议"),
        ("mediation", "纠纷调解"),
    ),
)

ZONGZHI_TYPE = TaxonomySpec(
    code="zongzhi_type",
    name="综治矛盾纠纷类型",
    version="2019",
    labels=(
        ("petition_issue", "信访问题处理"),
        ("instability_report", "不稳定因素报告"),
        ("marriage_family", "婚姻家庭"),
        ("neighbour", "邻里纠纷"),
        ("environment_ecology", "环境生态"),
        ("construction_project", "建筑工程"),
        ("property_management", "物业管理"),
        ("enterprise_restructuring", "企业改制"),
        ("judicial_activity", "司法活动"),
        ("cadre_conduct", "干部作风"),
        ("labour_capital", "劳资纠纷"),
        ("land_expropriation", "征地拆迁"),
        ("veteran_resettlement", "军人安置"),
        ("housing_homestead", "房屋和宅基地"),
        ("rural_collective_assets", "农村\u201c三资\u201d"),
        ("farmer_burden", "农民负担"),
        ("school_issue", "院校问题"),
        ("ethnic_religious", "民族宗教"),
        ("economic_activity", "经济活动"),
        ("forest_land", "山林土地"),
        ("doctor_patient", "医患纠纷"),
        ("village_affairs", "村(社区)务管理"),
        ("administrative_enforcement", "行政执法活动"),
        ("maritime_fishery", "海事渔事"),
        ("traffic_production_safety", "交通及生产安全"),
        ("family_planning", "计划生育"),
        ("contract_performance", "合同履行"),
        ("other", "其他"),
    ),
)

TAXONOMIES: tuple[TaxonomySpec, ...] = (
    MEDIATION_TYPE,
    HOTLINE_CATEGORY,
    PETITION_CATEGORY,
    REQUEST_TYPE,
    ZONGZHI_TYPE,
)
TAXONOMY_BY_CODE = {spec.code: spec for spec in TAXONOMIES}

# The mapping table between parallel code lists: a 人民调解 type → its usual label in the other lists.
# A matter can be relabelled by hand; the mapping only proposes.
MEDIATION_TO_ZONGZHI = {
    "marriage_family": "marriage_family",
    "neighbour": "neighbour",
    "housing_homestead": "housing_homestead",
    "contract": "contract_performance",
    "production_operation": "economic_activity",
    "damages": "other",
    "forest_land": "forest_land",
    "land_expropriation": "land_expropriation",
    "environmental_pollution": "environment_ecology",
    "labour": "labour_capital",
    "consumer": "economic_activity",
    "medical": "doctor_patient",
    "road_traffic": "traffic_production_safety",
    "property_management": "property_management",
    "other": "other",
}
MEDIATION_TO_HOTLINE = {
    "marriage_family": None,
    "neighbour": "urban_rural_construction",
    "housing_homestead": "urban_rural_construction",
    "contract": "commerce_tourism",
    "production_operation": "commerce_tourism",
    "damages": None,
    "forest_land": "urban_rural_construction",
    "land_expropriation": "urban_rural_construction",
    "environmental_pollution": "environmental_protection",
    "labour": "labour_social_security",
    "consumer": "commerce_tourism",
    "medical": "health",
    "road_traffic": "transport",
    "property_management": "urban_rural_construction",
    "other": None,
}
MAPPINGS: dict[tuple[str, str], dict[str, str | None]] = {
    ("mediation_type", "zongzhi_type"): MEDIATION_TO_ZONGZHI,
    ("mediation_type", "hotline_category"): MEDIATION_TO_HOTLINE,
}


def label_name(taxonomy: str, label: str) -> str:
    """The Chinese name of a label; KeyError for an unknown taxonomy or label."""
    return dict(TAXONOMY_BY_CODE[taxonomy].labels)[label]
