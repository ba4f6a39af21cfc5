from datetime import date

from yidi.triage.engine.duplicates import (
    BANDS,
    DuplicateCandidate,
    DuplicateQuery,
    lsh_keys,
    rank_duplicates,
    text_similarity,
)

TEXT = "来访人反映枫桥镇枫源村包工头拖欠三十多名工人工资共计48万元，工人们要去镇政府讨说法"


def test_lsh_keys_are_one_per_band_and_stable():
    keys = lsh_keys(TEXT)
    assert len(keys) == BANDS
    assert keys == lsh_keys(TEXT)
    assert keys[0].startswith("m1:00:")


def test_a_lightly_edited_text_shares_lsh_keys_and_an_unrelated_one_does_not():
    edited = TEXT.replace("来访人反映", "来电人称") + "。"
    assert set(lsh_keys(TEXT)) & set(lsh_keys(edited))
    assert not set(lsh_keys(TEXT)) & set(lsh_keys("楼上邻居家卫生间漏水到我家，多次沟通对方不理睬"))


def test_a_text_without_letters_or_digits_has_no_keys():
    assert lsh_keys("，。！？ ") == []


def test_text_similarity_is_one_for_the_same_text_and_zero_for_disjoint_texts():
    assert round(text_similarity(TEXT, TEXT), 6) == 1.0
    assert text_similarity("拖欠工资", "邻居漏水") == 0.0


def test_the_same_matter_retold_at_the_same_place_is_a_duplicate_with_reasons():
    query = DuplicateQuery(TEXT, place_code="330681109290", registered_on=date(2026, 3, 5))
    candidate = DuplicateCandidate(
        7, "枫源村三十多个工人反映包工头拖欠工资48万元，要去镇政府讨薪", place_code="330681109290",
        registered_on=date(2026, 3, 1),
    )  # fmt: skip
    (match,) = rank_duplicates(query, [candidate])
    assert (match.id, match.kind) == (7, "duplicate")
    assert match.reasons == ("文本相似度 0.61", "同一地点：枫桥镇枫源村", "登记时间相隔 4 天")


def test_the_same_person_with_another_matter_is_related():
    query = DuplicateQuery(TEXT, party_keys=frozenset({"id:abc"}))
    other = DuplicateCandidate("x", "邻居家漏水到我家", party_keys=frozenset({"id:abc"}))
    (match,) = rank_duplicates(query, [other])
    assert (match.kind, match.score) == ("related", 0.25)
    assert "当事人相同（证件号或姓名加电话一致）" in match.reasons


def test_unrelated_candidates_are_dropped_and_the_rest_ranked_best_first():
    query = DuplicateQuery(TEXT, respondent_keys=frozenset({"r1"}), place_code="330681109290")
    candidates = [
        DuplicateCandidate(1, "邻居家漏水到我家"),
        DuplicateCandidate(2, TEXT),
        DuplicateCandidate(3, "外地工人讨薪", respondent_keys=frozenset({"r1"}), place_code="330681109290"),
    ]
    assert [(m.id, m.kind) for m in rank_duplicates(query, candidates)] == [(2, "duplicate"), (3, "related")]


def test_a_plain_text_query_is_accepted():
    assert [m.id for m in rank_duplicates(TEXT, [DuplicateCandidate(1, TEXT)])] == [1]
