"""Ranking the mediator pool for a matter, with reasons; conflicts and unavailable mediators excluded (no DB)."""

from dataclasses import replace

from yidi.mediation.domain import (
    Availability,
    Candidate,
    ConflictRelation,
    MatterFacts,
    describe_conflict,
    propose_mediators,
    success_rate,
)

MATTER = MatterFacts(
    dispute_type="neighbour", dispute_type_name="邻里", region_code="330681109290", township_name="枫桥镇",
    village_name="枫源村",
)


def candidate(mediator_id: int, name: str, **overrides) -> Candidate:
    values = {
        "mediator_id": mediator_id, "name": name, "specialties": frozenset({"neighbour"}),
        "region_code": "330681109", "region_name": "枫桥镇", "availability": Availability.AVAILABLE,
        "open_mediations": 1, "capacity": 5,
    }
    values.update(overrides)
    return Candidate(**values)


def test_specialty_place_load_record_and_rating_each_give_their_reason_and_points():
    expert = candidate(1, "杨光明", region_code="330681109290", region_name="枫源村", open_mediations=1, capacity=5,
                       results=10, agreements=8, rating_count=6, rating_average=4.5)

    [proposal] = propose_mediators(MATTER, [expert])

    assert proposal.reasons == (
        "擅长邻里纠纷", "同村（枫源村）", "在办 1 件（上限 5 件）", "调解成功率 80%（10 件中 8 件达成协议）",
        "当事人平均评分 4.5 分（6 次评价）",
    )
    # 40 specialty + 25 village + 15 × 4/5 load + 15 × 0.8 record + 10 × 3.5/4 rating = 97.75
    assert proposal.score == 98
    assert not proposal.is_excluded


def test_the_best_fit_comes_first_and_a_full_mediator_from_another_township_last():
    ranked = propose_mediators(MATTER, [
        candidate(1, "外镇调解员", region_code="330681001", region_name="暨阳街道", specialties=frozenset({"labour"}),
                  open_mediations=5),
        candidate(2, "全市调解员", region_code="330681", region_name="诸暨市"),
        candidate(3, "本镇调解员"),
    ])

    assert [p.name for p in ranked] == ["本镇调解员", "全市调解员", "外镇调解员"]
    assert ranked[-1].reasons[:3] == ("专长不含邻里纠纷", "所在地区：暨阳街道（非本乡镇）", "在办 5 件，已满（上限 5 件）")
    assert ranked[1].reasons[1] == "服务全市（诸暨市）"
    assert ranked[0].reasons[1] == "同在枫桥镇"


def test_a_declared_conflict_excludes_the_mediator_with_the_reason_shown():
    conflict = describe_conflict(ConflictRelation.RELATIVE, person_name="王志强", note="系表兄")
    ranked = propose_mediators(MATTER, [candidate(1, "杨光明", conflict=conflict), candidate(2, "楼国庆")])

    assert [(p.name, p.is_excluded) for p in ranked] == [("楼国庆", False), ("杨光明", True)]
    assert ranked[1].excluded_reason == "已申报利益冲突：与当事人王志强系近亲属（系表兄），须回避"


def test_unavailable_and_already_designated_mediators_are_excluded_and_limited_ones_lose_points():
    base = candidate(3, "常规")
    ranked = propose_mediators(MATTER, [
        candidate(1, "暂停", availability=Availability.UNAVAILABLE), candidate(2, "已指定", is_designated=True),
        replace(base, mediator_id=4, name="少量", availability=Availability.LIMITED), base,
    ])

    assert [p.name for p in ranked] == ["常规", "少量", "已指定", "暂停"]
    assert ranked[0].score - ranked[1].score == 10 and ranked[1].reasons[-1] == "当前少量接案"
    assert (ranked[2].excluded_reason, ranked[3].excluded_reason) == ("已是本事项的调解员", "暂停接案")


def test_ties_go_to_the_lighter_workload_then_the_name():
    ranked = propose_mediators(MATTER, [
        candidate(1, "陈一", open_mediations=1, capacity=100), candidate(2, "王二", open_mediations=0, capacity=100),
        candidate(3, "张三", open_mediations=0, capacity=100),
    ])

    # all three round to 75 points; 陈一 has one more matter in hand; 张 sorts before 王 (code points)
    assert [(p.name, p.score) for p in ranked] == [("张三", 75), ("王二", 75), ("陈一", 75)]


def test_a_matter_without_a_dispute_type_says_so_and_success_needs_three_results():
    [proposal] = propose_mediators(replace(MATTER, dispute_type="", dispute_type_name=""), [
        candidate(1, "杨光明", results=2, agreements=2)])

    assert proposal.reasons[0] == "事项尚未确定纠纷类型"
    assert "结案不足 3 件，暂不计成功率" in proposal.reasons
    assert (success_rate(2, 2), success_rate(3, 4)) == (None, 0.75)


def test_conflicts_read_as_phrases():
    assert describe_conflict(ConflictRelation.COLLEAGUE, person_name="王志强") == "与当事人王志强系同事"
    assert describe_conflict(ConflictRelation.FORMER_AGENT, person_name="王志强") == "曾担任当事人王志强的代理人"
    assert describe_conflict(ConflictRelation.PARTY_REQUEST, note="认为调解员偏袒") == "当事人申请回避（认为调解员偏袒）"
    assert describe_conflict(ConflictRelation.OTHER_INTEREST) == "与本事项有其他利害关系关系"
