"""Township maps for the dashboards: a GeoJSON that matches the county's townships is stored; any other is refused,
naming the names that did not match and the townships missing, and nothing changes."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.audit.models import AuditEvent
from yidi.regions.actions import do_upload_region_map
from yidi.regions.domain import MapRejected, match_township_map
from yidi.regions.models import Region, RegionMap

SQUARE = {"type": "Polygon", "coordinates": [[[120.0, 29.0], [120.1, 29.0], [120.1, 29.1], [120.0, 29.0]]]}
TOWNSHIPS = [("330681001", "暨阳街道", "暨阳街道"), ("330681109", "枫桥镇", "枫桥镇"), ("330681200", "东和乡", "东和乡")]


def collection(names) -> bytes:
    features = [{"type": "Feature", "properties": {"name": name, "adcode": 1}, "geometry": SQUARE} for name in names]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def test_names_match_by_full_name_and_without_the_township_suffix():
    checked = match_township_map(collection(["暨阳街道", "枫桥", "东和乡"]), TOWNSHIPS, max_bytes=10_000)
    assert checked["mapping"] == {"暨阳街道": "330681001", "枫桥": "330681109", "东和乡": "330681200"}
    assert checked["geojson"]["features"][1]["properties"] == {"name": "枫桥", "code": "330681109"}


def test_a_map_with_unknown_names_is_refused_naming_them_and_the_missing_townships():
    with pytest.raises(MapRejected) as refusal:
        match_township_map(collection(["暨阳街道", "枫桥古镇", "西湖区"]), TOWNSHIPS, max_bytes=10_000)
    assert str(refusal.value) == ("地图与本县乡镇（街道）不匹配。以下名称与本县乡镇（街道）不符：枫桥古镇、西湖区；"
                                  "缺少以下乡镇（街道）：枫桥镇、东和乡")
    assert refusal.value.unmatched == ("枫桥古镇", "西湖区")


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not json", "文件不是有效的 GeoJSON（JSON 格式错误或不是 UTF-8 编码）"),
    (b'{"type": "Feature"}', "文件须为 GeoJSON FeatureCollection（乡镇边界的要素集合）"),
    (b'{"type": "FeatureCollection", "features": []}', "文件中没有任何要素（features 为空）"),
    (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "枫桥镇"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}
    ).encode(), "第 1 个要素没有面状边界（须为 Polygon 或 MultiPolygon）"),
    (collection(["暨阳街道", "枫桥镇", "枫桥镇", "东和乡"]), "地图与本县乡镇（街道）不匹配。以下乡镇（街道）重复出现：枫桥镇"),
])
def test_malformed_maps_are_refused_with_the_reason(raw, message):
    with pytest.raises(MapRejected) as refusal:
        match_township_map(raw, TOWNSHIPS, max_bytes=10_000)
    assert str(refusal.value) == message


def test_a_file_over_the_size_limit_is_refused():
    with pytest.raises(MapRejected, match="文件过大"):
        match_township_map(collection(["暨阳街道"]), TOWNSHIPS, max_bytes=100)


def zhuji_names() -> list[str]:
    return list(Region.objects.filter(parent_id="330681", level="township").order_by("code")
                .values_list("name", flat=True))


@pytest.mark.django_db
def test_uploading_a_matching_map_stores_it_with_one_audit_row(admin):
    before = AuditEvent.objects.count()
    stored = do_upload_region_map("330681", file_name="zhuji.geojson", content=collection(zhuji_names()), actor=admin)
    assert (stored.county_id, len(stored.mapping), stored.uploaded_by) == ("330681", 23, admin)
    assert stored.mapping["枫桥镇"] == "330681109"
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_id, event.data["features"]) == ("region.upload_map", "330681", 23)


@pytest.mark.django_db
def test_a_refused_upload_keeps_the_previous_map(admin):
    do_upload_region_map("330681", file_name="good.geojson", content=collection(zhuji_names()), actor=admin)
    before = AuditEvent.objects.count()
    names = zhuji_names()
    names[0] = "杭州西湖"
    with pytest.raises(MapRejected) as refusal:
        do_upload_region_map("330681", file_name="bad.geojson", content=collection(names), actor=admin)
    assert "杭州西湖" in str(refusal.value) and "缺少以下乡镇（街道）：暨阳街道" in str(refusal.value)
    assert RegionMap.objects.get().file_name == "good.geojson"
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_a_system_admin_uploads_in_the_admin_and_sees_the_unmatched_names_and_the_map_shows_at_once(client, admin, supervisor):
    client.force_login(supervisor)
    before = client.get("/analytics/dashboard/?period=2026")  # cached without a map
    assert before.context["has_map"] is False and before.context["map_url"] == ""
    client.force_login(admin)
    bad = client.post("/admin/regions/regionmap/add/", {
        "county_code": "330681", "upload": SimpleUploadedFile("bad.geojson", collection(["枫桥镇", "外星镇"]))})
    assert bad.status_code == 200
    assert "以下名称与本县乡镇（街道）不符：外星镇" in bad.content.decode()
    assert RegionMap.objects.count() == 0
    good = client.post("/admin/regions/regionmap/add/", {
        "county_code": "330681", "upload": SimpleUploadedFile("zhuji.geojson", collection(zhuji_names()))})
    assert good.status_code == 302
    assert RegionMap.objects.get().file_name == "zhuji.geojson"
    client.force_login(supervisor)
    overview = client.get("/analytics/dashboard/?period=2026")
    assert overview.context["has_map"] and overview.context["map_url"] == "/analytics/dashboard/maps/330681.geojson"
    tiles = {tile["code"]: tile["feature"] for tile in overview.context["map"]["tiles"]}
    assert tiles["330681109"] == "枫桥镇"
    features = client.get("/analytics/dashboard/maps/330681.geojson").json()["features"]
    assert len(features) == 23 and features[0]["properties"] == {"name": "暨阳街道", "code": "330681001"}
