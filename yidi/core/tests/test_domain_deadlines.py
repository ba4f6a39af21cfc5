"""Deadline rules, thresholds, extensions, policy selection and the 督办 ladder (pure, no DB)."""

from datetime import UTC, datetime, timedelta

import pytest

from yidi.core.calendar import default_calendar
from yidi.core.deadlines import (
    SHANGHAI,
    DayUnit,
    DeadlinePolicy,
    DeadlineState,
    Effect,
    EscalationRule,
    NoPolicyMatched,
    Stage,
    StageDeadline,
    StageLimit,
    StartEvent,
    can_extend,
    deadline_state,
    due_at,
    load_escalation_rules,
    load_policies,
    next_check_at,
    next_effects,
    overdue_days,
    policy_from_dict,
    remaining_days,
    remaining_workdays,
    select_policy,
    stage_deadline,
)

WD = DayUnit.WORKDAYS
CD = DayUnit.CALENDAR_DAYS


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def make_limit(**overrides) -> StageLimit:
    fields = {
        "stage": Stage.HANDLE,
        "limit": 13,
        "unit": WD,
        "start_event": StartEvent.ASSIGNED,
        "yellow_days_before": 3,
        "red_days_before": 1,
        "max_extension_days": None,
    } | overrides
    return StageLimit(**fields)


def make_policy(id: str, **overrides) -> DeadlinePolicy:
    return DeadlinePolicy(id=id, name=id, stages=(make_limit(),), **overrides)


# --- due_at -------------------------------------------------------------------------------------------


def test_thirty_calendar_days_end_at_23_59_59_shanghai_stored_in_utc():
    start = shanghai(2025, 3, 1, 10, 0)

    due = due_at(start, 30, CD, default_calendar())

    assert due == datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_the_start_day_is_the_shanghai_date_even_when_utc_is_still_the_day_before():
    start = datetime(2025, 3, 1, 17, 0, tzinfo=UTC)  # 2 March 01:00 in Shanghai

    due = due_at(start, 30, CD, default_calendar())

    assert due == shanghai(2025, 4, 1, 23, 59, 59)


def test_thirteen_working_days_from_before_spring_festival_2026_are_due_on_5_march():
    due = due_at(shanghai(2026, 2, 10, 9, 30), 13, WD, default_calendar())

    assert due == shanghai(2026, 3, 5, 23, 59, 59)


def test_one_working_day_to_sign_from_a_friday_before_national_day_2025_is_due_on_the_make_up_sunday():
    due = due_at(shanghai(2025, 9, 26, 16, 0), 1, WD, default_calendar())

    assert due == shanghai(2025, 9, 28, 23, 59, 59)


def test_a_pause_shifts_a_calendar_day_deadline_by_the_paused_days():
    start = shanghai(2025, 3, 1, 10, 0)
    appraisal = (shanghai(2025, 3, 10, 9, 0), shanghai(2025, 3, 20, 17, 0))  # 10 days

    due = due_at(start, 30, CD, default_calendar(), pauses=[appraisal])

    assert due == shanghai(2025, 4, 10, 23, 59, 59)


def test_overlapping_pauses_are_counted_once():
    start = shanghai(2025, 3, 1, 10, 0)
    pauses = [
        (shanghai(2025, 3, 15, 9, 0), shanghai(2025, 3, 25, 9, 0)),
        (shanghai(2025, 3, 10, 9, 0), shanghai(2025, 3, 20, 9, 0)),
    ]

    due = due_at(start, 30, CD, default_calendar(), pauses=pauses)

    assert due == shanghai(2025, 4, 15, 23, 59, 59)  # 15 paused days (10 → 25 March)


def test_time_paused_before_the_clock_started_does_not_count():
    start = shanghai(2025, 3, 1, 10, 0)
    pause = (shanghai(2025, 2, 20, 9, 0), shanghai(2025, 3, 5, 9, 0))  # only 1 → 5 March counts: 4 days

    due = due_at(start, 30, CD, default_calendar(), pauses=[pause])

    assert due == shanghai(2025, 4, 4, 23, 59, 59)


def test_a_pause_within_a_day_shifts_nothing():
    start = shanghai(2025, 3, 1, 10, 0)
    hearing = (shanghai(2025, 3, 10, 9, 0), shanghai(2025, 3, 10, 17, 0))

    assert due_at(start, 30, CD, default_calendar(), pauses=[hearing]) == shanghai(2025, 3, 31, 23, 59, 59)


def test_a_pause_over_national_day_shifts_a_working_day_deadline_by_its_working_days_only():
    start = shanghai(2025, 9, 24, 10, 0)  # 13 working days → 17 October
    pause = (shanghai(2025, 9, 30, 9, 0), shanghai(2025, 10, 10, 9, 0))  # working days in it: 9, 10 October

    due = due_at(start, 13, WD, default_calendar(), pauses=[pause])

    assert due == shanghai(2025, 10, 21, 23, 59, 59)


def test_an_approved_petition_extension_adds_thirty_days_to_the_sixty_day_limit():
    start = shanghai(2025, 1, 10, 15, 0)

    assert due_at(start, 60, CD, default_calendar()) == shanghai(2025, 3, 11, 23, 59, 59)
    assert due_at(start, 60, CD, default_calendar(), extension_days=30) == shanghai(2025, 4, 10, 23, 59, 59)


def test_a_working_day_extension_and_a_pause_add_up():
    start = shanghai(2025, 9, 24, 10, 0)
    pause = (shanghai(2025, 9, 30, 9, 0), shanghai(2025, 10, 10, 9, 0))

    due = due_at(start, 13, WD, default_calendar(), pauses=[pause], extension_days=2)

    assert due == shanghai(2025, 10, 23, 23, 59, 59)


def test_a_naive_start_or_a_backwards_pause_is_refused():
    calendar = default_calendar()
    start = shanghai(2025, 3, 1, 10, 0)

    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2025, 3, 1, 10, 0), 30, CD, calendar)
    with pytest.raises(ValueError, match="pause ends before it starts"):
        due_at(start, 30, CD, calendar, pauses=[(shanghai(2025, 3, 5), shanghai(2025, 3, 4))])


# --- thresholds and states -----------------------------------------------------------------------------


def test_a_13_working_day_stage_turns_yellow_3_and_red_1_working_days_before_the_due_day():
    deadline = stage_deadline(shanghai(2026, 2, 10, 9, 30), make_limit(), default_calendar())

    assert deadline.due_at == shanghai(2026, 3, 5, 23, 59, 59)
    assert deadline.yellow_at == shanghai(2026, 3, 2, 0, 0)  # Monday: 3, 4, 5 March remain
    assert deadline.red_at == shanghai(2026, 3, 4, 0, 0)  # Wednesday: 5 March remains


def test_deadline_states_change_exactly_at_the_thresholds():
    d = stage_deadline(shanghai(2026, 2, 10, 9, 30), make_limit(), default_calendar())
    tick = timedelta(microseconds=1)

    states = [
        deadline_state(now, d.due_at, d.yellow_at, d.red_at)
        for now in (d.yellow_at - tick, d.yellow_at, d.red_at - tick, d.red_at, d.due_at, d.due_at + tick)
    ]

    assert states == [
        DeadlineState.GREEN,
        DeadlineState.YELLOW,
        DeadlineState.YELLOW,
        DeadlineState.RED,
        DeadlineState.RED,
        DeadlineState.OVERDUE,
    ]


def test_a_one_day_sign_stage_with_zero_thresholds_is_red_on_its_due_day():
    limit = make_limit(stage=Stage.SIGN, limit=1, yellow_days_before=0, red_days_before=0)

    d = stage_deadline(shanghai(2025, 9, 26, 16, 0), limit, default_calendar())

    assert (d.due_at, d.yellow_at, d.red_at) == (
        shanghai(2025, 9, 28, 23, 59, 59),
        shanghai(2025, 9, 28, 0, 0),
        shanghai(2025, 9, 28, 0, 0),
    )


def test_thresholds_before_the_start_are_moved_to_the_start():
    start = shanghai(2025, 3, 3, 10, 0)
    limit = make_limit(limit=2, yellow_days_before=5, red_days_before=3)

    d = stage_deadline(start, limit, default_calendar())

    assert (d.yellow_at, d.red_at) == (start, start)


def test_calendar_day_thresholds_count_calendar_days_before_the_due_day():
    limit = make_limit(limit=30, unit=CD, yellow_days_before=5, red_days_before=2)

    d = stage_deadline(shanghai(2025, 3, 1, 10, 0), limit, default_calendar())

    assert (d.yellow_at, d.red_at) == (shanghai(2025, 3, 26, 0, 0), shanghai(2025, 3, 29, 0, 0))


def test_remaining_working_days_count_after_today_up_to_the_due_day_and_go_negative_when_overdue():
    calendar = default_calendar()
    due = shanghai(2026, 3, 5, 23, 59, 59)

    assert remaining_workdays(shanghai(2026, 2, 13, 10, 0), due, calendar) == 10
    assert remaining_workdays(shanghai(2026, 3, 5, 8, 0), due, calendar) == 0
    assert remaining_workdays(shanghai(2026, 3, 6, 8, 0), due, calendar) == -1
    assert remaining_workdays(shanghai(2026, 3, 9, 8, 0), due, calendar) == -2  # 6 and 9 March


def test_overdue_days_count_in_the_stage_unit_from_the_day_after_the_due_day():
    calendar = default_calendar()
    due = shanghai(2026, 3, 5, 23, 59, 59)
    saturday = shanghai(2026, 3, 7, 10, 0)

    assert overdue_days(saturday, due, WD, calendar) == 1
    assert overdue_days(saturday, due, CD, calendar) == 2
    assert overdue_days(shanghai(2026, 3, 5, 23, 0), due, WD, calendar) == 0
    assert remaining_days(shanghai(2026, 3, 1, 10, 0), due, CD, calendar) == 4


# --- extensions ----------------------------------------------------------------------------------------


def test_an_extension_requested_before_the_deadline_within_the_cap_is_allowed():
    check = can_extend(
        shanghai(2025, 3, 10, 10, 0),
        shanghai(2025, 3, 11, 23, 59, 59),
        requested_days=30,
        max_extension_days=30,
    )

    assert (check.allowed, check.code, check.message) == (True, "", "")


def test_an_extension_after_the_deadline_has_passed_is_refused_with_the_reason():
    check = can_extend(
        shanghai(2025, 3, 12, 0, 0),
        shanghai(2025, 3, 11, 23, 59, 59),
        requested_days=10,
        max_extension_days=30,
    )

    assert check.allowed is False
    assert check.code == "deadline_passed"
    assert check.message == "已超过办理期限（2025-03-11 23:59），不能再申请延期。"


def test_an_extension_beyond_the_cap_is_refused_with_what_is_left():
    check = can_extend(
        shanghai(2025, 3, 10, 10, 0),
        shanghai(2025, 3, 11, 23, 59, 59),
        requested_days=20,
        max_extension_days=30,
        extended_days=15,
    )

    assert (check.allowed, check.code) == (False, "too_many_days")
    assert check.message == "延期天数超过上限：最多可延期 30 天，已延期 15 天，本次最多 15 天。"


def test_a_stage_without_extensions_or_a_request_of_zero_days_is_refused():
    now, due = shanghai(2025, 3, 10, 10, 0), shanghai(2025, 3, 11, 23, 59, 59)

    not_extendable = can_extend(now, due, requested_days=1, max_extension_days=0)
    zero = can_extend(now, due, requested_days=0, max_extension_days=None)
    uncapped = can_extend(now, due, requested_days=365, max_extension_days=None)

    assert (not_extendable.code, not_extendable.message) == ("not_extendable", "该环节的办理期限不允许延期。")
    assert (zero.code, zero.message) == ("bad_days", "延期天数至少为 1 天。")
    assert uncapped.allowed is True


# --- policy selection ----------------------------------------------------------------------------------


def test_the_policy_with_more_matching_keys_wins():
    policies = [
        make_policy("any"),
        make_policy("hotline", channel="hotline_12345"),
        make_policy("hotline_complaint", channel="hotline_12345", request_type="complaint"),
    ]

    chosen = select_policy(
        policies, channel="hotline_12345", request_type="complaint", level="village", dispute_type="labour"
    )

    assert chosen.id == "hotline_complaint"


def test_a_policy_whose_key_differs_does_not_match():
    policies = [make_policy("any"), make_policy("petition", channel="petition")]

    chosen = select_policy(policies, channel="window", request_type=None, level=None, dispute_type=None)

    assert chosen.id == "any"


def test_equally_specific_policies_are_ranked_channel_then_dispute_type_then_request_type_then_level():
    policies = [
        make_policy("by_level", level="village"),
        make_policy("by_request", request_type="mediation"),
        make_policy("by_dispute", dispute_type="labour"),
        make_policy("by_channel", channel="window"),
    ]
    facts = {"channel": "window", "request_type": "mediation", "level": "village", "dispute_type": "labour"}

    ranking = []
    while policies:
        chosen = select_policy(policies, **facts)
        ranking.append(chosen.id)
        policies.remove(chosen)

    assert ranking == ["by_channel", "by_dispute", "by_request", "by_level"]


def test_identical_keys_are_broken_by_the_smallest_id_and_inactive_policies_are_skipped():
    policies = [
        make_policy("b", channel="window"),
        make_policy("a", channel="window", active=False),
        make_policy("c", channel="window"),
    ]

    chosen = select_policy(policies, channel="window", request_type=None, level=None, dispute_type=None)

    assert chosen.id == "b"


def test_no_matching_policy_raises():
    with pytest.raises(NoPolicyMatched):
        select_policy(
            [make_policy("petition", channel="petition")],
            channel="window",
            request_type=None,
            level=None,
            dispute_type=None,
        )


@pytest.mark.parametrize(
    ("channel", "request_type", "dispute_type", "expected"),
    [
        ("hotline_12345", "complaint", "labour", "hotline_12345_complaint"),
        ("hotline_12345", "mediation", None, "hotline_12345"),
        ("window", "mediation", "labour", "labour_mediation"),
        ("window", "mediation", "neighbour", "people_mediation"),
        ("petition", "appeal_claim", "labour", "petition"),
        ("petition", "petition_review", None, "petition_review"),
        ("court_entrusted_simplified", "mediation", "labour", "court_entrusted_simplified"),
        ("grid", "consultation", None, "general_default"),
    ],
)
def test_the_shipped_policies_give_every_matter_one_policy(channel, request_type, dispute_type, expected):
    chosen = select_policy(
        load_policies(),
        channel=channel,
        request_type=request_type,
        level="village",
        dispute_type=dispute_type,
    )

    assert chosen.id == expected


def test_the_shipped_policies_carry_the_statutory_and_local_limits():
    policies = {policy.id: policy for policy in load_policies()}

    def limit(policy_id: str, stage: Stage) -> tuple[int, str, str, int | None]:
        found = policies[policy_id].stage_limit(stage)
        assert found is not None
        return found.limit, found.unit, found.start_event, found.max_extension_days

    assert limit("people_mediation", Stage.HANDLE) == (30, CD, StartEvent.ACCEPTED, None)
    assert limit("court_pre_filing", Stage.HANDLE) == (30, CD, StartEvent.SIGNED, None)
    assert limit("court_entrusted_ordinary", Stage.HANDLE) == (15, CD, StartEvent.SIGNED, None)
    assert limit("court_entrusted_simplified", Stage.HANDLE) == (7, CD, StartEvent.SIGNED, None)
    assert limit("petition", Stage.ASSIGN) == (15, CD, StartEvent.REGISTERED, 0)
    assert limit("petition", Stage.NOTICE) == (15, CD, StartEvent.ASSIGNED, 0)
    assert limit("petition", Stage.OBJECTION) == (5, WD, StartEvent.ASSIGNED, 0)
    assert limit("petition", Stage.HANDLE) == (60, CD, StartEvent.ACCEPTED, 30)
    assert limit("petition_review", Stage.HANDLE) == (30, CD, StartEvent.REGISTERED, 0)
    assert limit("petition_re_review", Stage.HANDLE) == (30, CD, StartEvent.REGISTERED, 0)
    assert limit("labour_mediation", Stage.HANDLE) == (15, CD, StartEvent.REGISTERED, None)
    assert policies["labour_mediation"].diversion == "labour_arbitration"
    assert limit("hotline_12345", Stage.SIGN) == (1, WD, StartEvent.ASSIGNED, 0)
    assert limit("hotline_12345_consultation", Stage.HANDLE) == (3, WD, StartEvent.ASSIGNED, None)
    assert limit("hotline_12345_help", Stage.HANDLE) == (3, WD, StartEvent.ASSIGNED, None)
    assert limit("hotline_12345_complaint", Stage.HANDLE) == (13, WD, StartEvent.ASSIGNED, None)
    assert limit("hotline_12345_report", Stage.HANDLE) == (13, WD, StartEvent.ASSIGNED, None)
    assert limit("hotline_12345", Stage.VERIFY) == (1, WD, StartEvent.CONCLUDED, 0)
    assert [stage.stage for stage in policies["general_default"].stages] == [
        Stage.SIGN,
        Stage.HANDLE,
        Stage.VERIFY,
    ]


def test_a_12345_return_visit_is_due_the_working_day_after_closing():
    policy = next(policy for policy in load_policies() if policy.id == "hotline_12345")
    verify = policy.stage_limit(Stage.VERIFY)
    assert verify is not None

    d = stage_deadline(shanghai(2025, 9, 30, 17, 0), verify, default_calendar())  # closed before National Day

    assert d.due_at == shanghai(2025, 10, 9, 23, 59, 59)


def test_a_policy_with_an_unknown_match_key_or_a_red_threshold_above_yellow_is_refused():
    stage = {"stage": "handle", "limit": 3, "unit": "workdays", "start_event": "assigned"}

    with pytest.raises(ValueError, match="unknown match keys"):
        policy_from_dict({"id": "x", "name": "x", "match": {"region": "33"}, "stages": []})
    with pytest.raises(ValueError, match="red_days_before"):
        policy_from_dict(
            {"id": "x", "name": "x", "stages": [stage | {"yellow_days_before": 1, "red_days_before": 2}]}
        )


# --- the 督办 ladder -------------------------------------------------------------------------------------


def effects(
    state: DeadlineState, overdue: int = 0, applied=(), policy_id="hotline_12345", stage=Stage.HANDLE
):
    rules = next_effects(
        load_escalation_rules(),
        policy_id=policy_id,
        stage=stage,
        state=state,
        overdue_days=overdue,
        applied=set(applied),
    )
    return [rule.effect for rule in rules]


def test_the_ladder_warns_on_yellow_and_urges_on_red():
    assert effects(DeadlineState.GREEN) == []
    assert effects(DeadlineState.YELLOW) == [Effect.WARN]
    assert effects(DeadlineState.RED, applied=[(Stage.HANDLE, Effect.WARN)]) == [Effect.URGE_NORMAL]


def test_the_ladder_gives_a_yellow_card_when_overdue_then_a_red_card_and_escalation_after_5_days():
    applied = [(Stage.HANDLE, Effect.WARN), (Stage.HANDLE, Effect.URGE_NORMAL)]

    assert effects(DeadlineState.OVERDUE, 0, applied) == [Effect.URGE_YELLOW]
    assert effects(DeadlineState.OVERDUE, 4, [*applied, (Stage.HANDLE, Effect.URGE_YELLOW)]) == []
    assert effects(DeadlineState.OVERDUE, 5, [*applied, (Stage.HANDLE, Effect.URGE_YELLOW)]) == [
        Effect.URGE_RED,
        Effect.ESCALATE,
    ]


def test_the_parties_periods_only_follow_rules_that_name_them_and_are_never_urged():
    party = {"policy_id": "people_mediation", "stage": Stage.JUDICIAL_CONFIRMATION}
    assert effects(DeadlineState.YELLOW, **party) == [Effect.WARN]  # the window closes soon
    assert effects(DeadlineState.OVERDUE, 9, [(Stage.JUDICIAL_CONFIRMATION, Effect.WARN)], **party) == []
    answer = {"policy_id": "people_mediation", "stage": Stage.PARTY_RESPONSE}
    assert effects(DeadlineState.RED, **answer) == []
    assert effects(DeadlineState.OVERDUE, 6, **answer) == [Effect.WARN]


def test_an_overdue_partys_period_is_not_checked_again_for_cards():
    due = StageDeadline(Stage.JUDICIAL_CONFIRMATION, due_at=shanghai(2026, 4, 9, 23, 59, 59),
                        yellow_at=shanghai(2026, 4, 4), red_at=shanghai(2026, 4, 7))
    later = next_check_at(shanghai(2026, 4, 10, 9, 0), due, DayUnit.CALENDAR_DAYS, default_calendar(),
                          rules=load_escalation_rules(), policy_id="people_mediation")
    assert later is None  # 红牌 after 5 overdue days is not for the parties' periods


def test_applying_the_effects_and_asking_again_yields_nothing_more():
    applied: set[tuple[Stage, Effect]] = set()
    for state, overdue in [
        (DeadlineState.YELLOW, 0),
        (DeadlineState.RED, 0),
        (DeadlineState.OVERDUE, 0),
        (DeadlineState.OVERDUE, 7),
    ]:
        first = effects(state, overdue, applied)
        applied |= {(Stage.HANDLE, effect) for effect in first}

        assert effects(state, overdue, applied) == []

    assert applied == {
        (Stage.HANDLE, Effect.WARN),
        (Stage.HANDLE, Effect.URGE_NORMAL),
        (Stage.HANDLE, Effect.URGE_YELLOW),
        (Stage.HANDLE, Effect.URGE_RED),
        (Stage.HANDLE, Effect.ESCALATE),
    }


def test_a_matter_first_seen_long_overdue_gets_only_the_highest_card_and_never_the_lower_ones_later():
    first = effects(DeadlineState.OVERDUE, 6)
    applied = {(Stage.HANDLE, effect) for effect in first}

    assert first == [Effect.WARN, Effect.URGE_RED, Effect.ESCALATE]
    assert effects(DeadlineState.OVERDUE, 6, applied) == []


def test_effects_applied_on_another_stage_do_not_count_for_this_one():
    applied = [(Stage.SIGN, Effect.WARN)]

    assert effects(DeadlineState.YELLOW, applied=applied, stage=Stage.HANDLE) == [Effect.WARN]


def test_escalation_after_5_days_applies_to_the_handle_stage_only():
    assert effects(DeadlineState.OVERDUE, 5, stage=Stage.SIGN) == [Effect.WARN, Effect.URGE_RED]


def test_an_expired_labour_mediation_offers_arbitration():
    assert effects(DeadlineState.OVERDUE, 0, policy_id="labour_mediation") == [
        Effect.WARN,
        Effect.URGE_YELLOW,
        Effect.OFFER_DIVERSION,
    ]
    assert Effect.OFFER_DIVERSION not in effects(DeadlineState.OVERDUE, 0, policy_id="people_mediation")


def test_an_escalation_rule_says_why_in_chinese():
    rules = {rule.id: rule for rule in load_escalation_rules()}

    assert rules["red_card_after_5_days_overdue"].reason() == (
        "逾期满 5 天，按规则 red_card_after_5_days_overdue 执行红牌督办"
    )
    assert rules["warn_on_yellow"].reason() == "进入黄色预警，按规则 warn_on_yellow 执行预警提醒"


def test_an_overdue_day_count_on_a_non_overdue_rule_is_refused():
    with pytest.raises(ValueError, match="min_overdue_days needs state overdue"):
        EscalationRule(id="x", state=DeadlineState.RED, effect=Effect.WARN, min_overdue_days=2)


def test_the_next_check_walks_through_yellow_red_overdue_and_the_fifth_overdue_working_day():
    calendar = default_calendar()
    d = stage_deadline(shanghai(2026, 2, 10, 9, 30), make_limit(), calendar)  # due Thu 5 March
    rules = load_escalation_rules()

    def next_after(now):
        return next_check_at(now, d, WD, calendar, rules=rules, policy_id="hotline_12345")

    assert next_after(shanghai(2026, 2, 10, 9, 30)) == shanghai(2026, 3, 2, 0, 0)
    assert next_after(shanghai(2026, 3, 2, 0, 0)) == shanghai(2026, 3, 4, 0, 0)
    assert next_after(shanghai(2026, 3, 4, 0, 0)) == shanghai(2026, 3, 6, 0, 0)
    assert next_after(shanghai(2026, 3, 6, 0, 0)) == shanghai(2026, 3, 12, 0, 0)  # 6, 9, 10, 11, 12 March
    assert next_after(shanghai(2026, 3, 12, 0, 0)) is None
