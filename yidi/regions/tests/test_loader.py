import pytest

from yidi.regions.domain import code_range, level_for_code, short_name
from yidi.regions.loader import DivisionDataError, county_rows, load_county
from yidi.regions.models import Region


def test_short_names_drop_the_committee_suffix():
    assert short_name("枫源村委会") == "枫源村"
    assert short_name("江东社区居委会") == "江东社区"
    assert short_name("文溪社区居民委员会") == "文溪社区"
    assert short_name("枫桥镇") == "枫桥镇"


def test_code_ranges_cover_exactly_the_codes_under_a_prefix():
    assert code_range("330681") == ("330681", "330682")
    assert code_range("330689") == ("330689", "33068:")
    assert level_for_code("330681109290") == "village"


def test_zhuji_has_its_23_townships_and_515_villages():
    rows = county_rows("330681")
    levels = [row.level for row in rows]
    assert (levels.count("township"), levels.count("village")) == (23, 515)
    assert rows[0].code == "33" and rows[2].name == "诸暨市"


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    before = Region.objects.count()
    assert load_county("330681") == {"province": 1, "city": 1, "county": 1, "township": 23, "village": 515}
    assert Region.objects.count() == before
    fengyuan = Region.objects.get(code="330681109290")
    assert (fengyuan.short_name, fengyuan.parent_id, fengyuan.level) == ("枫源村", "330681109", "village")


@pytest.mark.django_db
def test_a_county_outside_zhejiang_loads_its_townships():
    counts = load_county("110101")
    assert counts == {"province": 1, "city": 1, "county": 1, "township": 17}


def test_an_unknown_county_is_refused_not_guessed():
    with pytest.raises(DivisionDataError, match="未知的县级区划代码“999999”"):
        county_rows("999999")


def test_a_malformed_file_is_named_with_its_line(tmp_path):
    for name in ("provinces.csv", "cities.csv", "streets.csv"):
        (tmp_path / name).write_text("code,name,areaCode,provinceCode,cityCode\n", encoding="utf-8")
    (tmp_path / "provinces.csv").write_text("code,name\n33,浙江省\n", encoding="utf-8")
    (tmp_path / "cities.csv").write_text("code,name,provinceCode\n3306,绍兴市,33\n", encoding="utf-8")
    (tmp_path / "areas.csv").write_text("code,name,cityCode,provinceCode\n330681,诸暨市,3306,33\n", encoding="utf-8")
    (tmp_path / "streets.csv").write_text(
        "code,name,areaCode,provinceCode,cityCode\n330681109,枫桥镇,330681,33,3306\n33068110X,坏行,330681,33,3306\n",
        encoding="utf-8",
    )
    with pytest.raises(DivisionDataError) as error:
        county_rows("330681", data_dir=tmp_path)
    assert str(error.value) == f"{tmp_path / 'streets.csv'} 第 3 行：代码“33068110X”不是 9 位数字"


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / "areas.csv").write_bytes("code,name,cityCode,provinceCode\n330681,诸暨市,3306,33\n".encode("gbk"))
    with pytest.raises(DivisionDataError, match="不是 UTF-8 编码"):
        county_rows("330681", data_dir=tmp_path)


@pytest.mark.django_db
def test_grids_are_numbered_under_their_village():
    from yidi.regions.actions import do_add_grid

    first = do_add_grid("330681109290", "枫源村第一网格")
    second = do_add_grid("330681109290", "枫源村第二网格")
    again = do_add_grid("330681109290", "枫源村第一网格")
    assert (first.code, second.code, again.pk) == ("330681109290001", "330681109290002", first.pk)
    assert first.level == "grid" and first.parent_id == "330681109290"


@pytest.mark.django_db
def test_a_grid_cannot_hang_under_a_township():
    from yidi.regions.actions import RegionError, do_add_grid

    with pytest.raises(RegionError, match="网格只能建在村（社区）下"):
        do_add_grid("330681109", "镇网格")
