"""The boundary files of data/geo/ (tools/build_geo.py) against the region registry, and the loader."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest

from dashboard import geo
from etl.paths import REGIONS_DIR

COUNTRY = "100000"
SAMPLE = [COUNTRY, "610000", "350000", "650000", "110000", "500000", "420000", "610300", "350100", "659000"]


def _registry() -> tuple[dict[str, dict], dict[str, list[str]]]:
    with (REGIONS_DIR / "regions.csv").open(encoding="utf-8") as f:
        rows = {r["code"]: r for r in csv.DictReader(f)}
    children = defaultdict(list)
    for code, row in rows.items():
        children[row["parent_code"] or COUNTRY].append(code)
    return rows, children


ROWS, CHILDREN = _registry()


def _reported() -> set[str]:
    with (geo.GEO_DIR / "missing.csv").open(encoding="utf-8") as f:
        return {r["code"] for r in csv.DictReader(f)}


def _rings(feature: dict):
    """(exterior, holes) of each polygon of the feature."""
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for polygon in polygons:
        yield polygon[0], polygon[1:]


def _twice_area(ring) -> float:
    """Twice the signed area (shoelace): negative for a clockwise ring (x east, y north)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))


def _inside(lon: float, lat: float, ring) -> bool:
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > lat) != (y1 > lat) and lon < (x1 - x0) * (lat - y0) / (y1 - y0) + x0:
            hit = not hit
    return hit


def _files() -> dict[str, dict]:
    """Every boundary file as the loader gives it (checking all of them takes about a second)."""
    names = sorted(p.stem for p in geo.GEO_DIR.glob("[0-9]*.geojson"))
    assert COUNTRY in names and f"{COUNTRY}_counties" in names and set(SAMPLE) <= set(names)
    return {
        name: geo.national_counties_geojson() if name.endswith("_counties") else geo.children_geojson(name)
        for name in names
    }


@pytest.mark.parametrize("code", SAMPLE)
def test_features_are_exactly_the_registry_children_with_boundaries(code):
    shapes = geo.children_geojson(code)
    assert shapes is not None
    ids = [f["id"] for f in shapes["features"]]
    assert len(ids) == len(set(ids))
    kids = CHILDREN[code]
    assert set(ids) <= set(kids), set(ids) - set(kids)
    reported = _reported()
    for kid in kids:  # a child without a feature (a development zone, …) is in the report
        assert kid in ids or kid in reported, (kid, ROWS[kid]["name"], ROWS[kid]["kind"])
    for f in shapes["features"]:
        assert f["properties"]["adcode"] == f["id"] and f["properties"]["name"] == ROWS[f["id"]]["name"]


def test_every_registry_region_with_children_has_its_file_or_is_reported():
    for code, shapes in _files().items():
        if not code.endswith("_counties"):
            assert {f["id"] for f in shapes["features"]} <= set(CHILDREN[code]), code
    reported = _reported()
    for code, kids in CHILDREN.items():
        normal = [k for k in kids if ROWS[k]["kind"] != "zone"]
        if code == COUNTRY or (normal and not set(normal) <= reported):
            assert (geo.GEO_DIR / f"{code}.geojson").exists(), code


def test_national_counties_cover_every_registry_county():
    shapes = geo.national_counties_geojson()
    ids = {f["id"] for f in shapes["features"]}
    counties = {c for c, r in ROWS.items() if r["level"] == "county"}
    assert ids <= counties
    reported = _reported()
    missing = {c for c in counties - ids if ROWS[c]["kind"] != "zone"}
    assert missing <= reported, missing
    assert len(ids) > 2800
    assert shapes["outline"] is geo.outline_geojson(COUNTRY)


def test_the_report_lists_registry_regions_without_polygons():
    with (geo.GEO_DIR / "missing.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["reason"] for r in rows)
    zones = {c for c, r in ROWS.items() if r["kind"] == "zone"}
    assert zones <= {r["code"] for r in rows}  # development zones: statistical units, no polygon
    for r in rows:
        assert r["kind"] == "source_only" or r["code"] in ROWS


def test_every_exterior_ring_is_clockwise_and_every_hole_counter_clockwise():
    for name, shapes in _files().items():
        for f in [*shapes["features"], *shapes.get("outline", {"features": []})["features"]]:
            for exterior, holes in _rings(f):
                assert exterior[0] == exterior[-1] and len(exterior) >= 4
                assert _twice_area(exterior) < 0, (name, f["id"])
                assert all(_twice_area(h) > 0 for h in holes), (name, f["id"])


def test_label_points_fall_inside_their_polygons():
    for name, shapes in _files().items():
        for f in shapes["features"]:
            lon, lat = f["properties"]["label"]
            assert f["properties"]["label_room"] >= 0
            assert any(
                _inside(lon, lat, exterior) and not any(_inside(lon, lat, h) for h in holes)
                for exterior, holes in _rings(f)
            ), (name, f["id"])


def test_file_sizes():
    assert (geo.GEO_DIR / f"{COUNTRY}_counties.geojson").stat().st_size <= 2_000_000
    assert (geo.GEO_DIR / f"{COUNTRY}.geojson").stat().st_size <= 500_000
    total = sum(p.stat().st_size for p in geo.GEO_DIR.iterdir())
    assert total <= 25_000_000


def test_national_maps_sit_in_the_outline_of_the_whole_country():
    provinces = geo.children_geojson(COUNTRY)
    assert len(provinces["features"]) == 31
    (outline,) = provinces["outline"]["features"]
    xs = [x for exterior, _ in _rings(outline) for x, _ in exterior]
    assert max(xs) > 121.5  # 台湾 is drawn, though no registry region


def test_the_bingtuan_keeps_the_xinjiang_outline_and_city_geojson_is_the_same_loader():
    assert geo.city_geojson("659000") is geo.children_geojson("659000")
    assert geo.city_geojson("659000")["outline"] is geo.outline_geojson("650000")
    assert "outline" not in geo.children_geojson("610300")


@pytest.mark.parametrize("code", ["610326", "441900", "999999", "../geo/100000", "６１０３００", ""])
def test_no_file_means_none(code):
    assert geo.children_geojson(code) is None


def test_files_are_read_once_per_process():
    assert geo.children_geojson("350000") is geo.children_geojson("350000")
    assert geo.national_counties_geojson() is geo.national_counties_geojson()


def test_the_loader_finds_label_points_for_a_file_without_them(tmp_path, monkeypatch):
    feature = json.loads((geo.GEO_DIR / "610300.geojson").read_text(encoding="utf-8"))["features"][0]
    stored = feature["properties"].pop("label"), feature["properties"].pop("label_room")
    (tmp_path / "610300.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    monkeypatch.setattr(geo, "GEO_DIR", tmp_path)
    props = geo._load("610300", None)["features"][0]["properties"]
    assert (props["label"], props["label_room"]) == (stored[0], stored[1])
