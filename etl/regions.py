"""The national region registry: 6-digit codes, hierarchy, and turning written names into codes.

Forms name places every way: "眉县", "宝鸡市眉县", "眉 县", "渭滨", an old name ("凤翔县"), an
old code (610322), a 兵团 师 ("第八师"), a subtotal ("市辖区") or a total ("合计"). One
resolver decides for every reader, preferring the cities in scope (the app's default area
and the cities the file itself names) when a name exists in several places (鼓楼区 is in
福州, 南京, 开封 and 徐州).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .paths import REGIONS_DIR
from .settings import default_cities  # noqa: F401  (dashboard/store.py imports it from here)
from .text import normalize

_COUNTY_SUFFIXES = ("自治县", "自治旗", "特区", "林区", "区", "县", "市", "旗")
_CITY_SUFFIXES = ("市", "地区", "盟")
# Total rows, by what the word says the total is of (`Registry.total_of`).
_CITY_TOTALS = {"全市", "全市合计", "全市总计", "市合计", "全州", "全盟", "全地区"}
_PROVINCE_TOTALS = {"全省", "全省合计", "全省总计", "全自治区"}
_REGION_TOTALS = {"全区", "全区合计", "全区总计"}
_BINGTUAN_TOTALS = {"全兵团", "兵团合计"}
_COMMON_TOTALS = {"合计", "总计", "总数"}
_ANY_TOTALS = _CITY_TOTALS | _PROVINCE_TOTALS | _REGION_TOTALS | _BINGTUAN_TOTALS | _COMMON_TOTALS
_BINGTUAN = "659000"
# The nation: not a registry row (no table names a place 全国 for the resolver to place), but a
# level of its own above the provinces where totals are summed and the dashboard looks from.
NATION = "100000"
NATION_NAME = "全国"
_SUBTOTALS = {"市辖区", "市区", "市本级", "市直", "市辖区小计"}
_NOTE = re.compile(r"[(（][^()（）]*[)）]$")
_MARKS = re.compile(r"[*＊#△▲①②③④⑤⑥⑦⑧⑨⑩]+$")
_CODE = re.compile(r"^\d{6}(\d{6})?$")
# What precedes the place in a title: a table number ("表21-3", "21-19"), years ("2006—2022年").
_TITLE_LEAD = re.compile(r"^(?:表[\dA-Za-z\-—–.]+|(?:19|20)\d\d年?度?[-—–~至到、,]*|\d+[-—–.]\d+)*")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | city | county
    parent_code: str
    kind: str  # province | city | direct_admin | county | zone
    note: str = ""


@dataclass(frozen=True)
class Resolution:
    """How a written region was understood: status ok | alias | total | subtotal | ambiguous | unknown."""

    code: str | None
    status: str
    note: str = ""
    candidates: tuple[str, ...] = field(default=())


def _key(text: str) -> str:
    """Matching key: normalised, with footnote marks and a trailing "(note)" removed."""
    s = _MARKS.sub("", normalize(text))
    return _NOTE.sub("", s) or s


class Registry:
    def __init__(self, regions: pd.DataFrame, aliases: pd.DataFrame):
        self._frame = regions.reset_index(drop=True)
        self._aliases = aliases.reset_index(drop=True)
        self._by_code = {
            r.code: Region(r.code, r.name, r.level, r.parent_code, r.kind, r.note)
            for r in self._frame.itertuples(index=False)
        }
        self._children: dict[str, list[Region]] = {}
        self._by_name: dict[str, list[str]] = {}
        self._by_short: dict[str, list[str]] = {}
        for region in self._by_code.values():
            self._children.setdefault(region.parent_code, []).append(region)
            key = _key(region.name)
            self._by_name.setdefault(key, []).append(region.code)
            short = self._short(key, region.level)
            if short:
                self._by_short.setdefault(short, []).append(region.code)
        self._alias_names = {_key(a.alias): a for a in self._aliases.itertuples(index=False)}
        self._alias_codes = {a.alias_code: a for a in self._aliases.itertuples(index=False) if a.alias_code}
        self._fingerprint: str | None = None

    @staticmethod
    def _short(name: str, level: str) -> str:
        """ "渭滨区" → "渭滨", "宝鸡市" → "宝鸡" (of a name's matching key): the spelling forms
        use in tight columns."""
        suffixes = _COUNTY_SUFFIXES if level == "county" else _CITY_SUFFIXES
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                return name[: -len(suffix)]
        return ""

    def fingerprint(self) -> str:
        """sha256 of the registry's regions and aliases (every column and cell, in order): any
        change to them changes it (`etl/fact_cache.py` keys resolved files by it). Worked out
        once per registry (its frames are never changed after construction)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for frame in (self._frame, self._aliases):
                h.update(repr(list(frame.columns)).encode("utf-8"))
                h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    # ------------------------------------------------------------------ lookups
    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def name(self, code: str | None) -> str:
        region = self._by_code.get(code or "")
        return region.name if region else str(code)

    def parent(self, code: str) -> Region | None:
        region = self.get(code)
        return self.get(region.parent_code) if region and region.parent_code else None

    def children(self, code: str) -> list[Region]:
        return list(self._children.get(code, []))

    def counties_of_city(self, city: str, include_zones: bool = False) -> list[Region]:
        return [
            r
            for r in self._children.get(city, [])
            if r.level == "county" and (include_zones or r.kind != "zone")
        ]

    def city_of(self, code: str) -> str | None:
        region = self.get(code)
        if region is None or region.level == "province":
            return None
        return code if region.level == "city" else region.parent_code

    def province_of(self, code: str) -> str | None:
        region = self.get(code)
        if region is None:
            return None
        return code if region.level == "province" else self.province_of(region.parent_code)

    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    def aliases_frame(self) -> pd.DataFrame:
        return self._aliases.copy()

    # ------------------------------------------------------------------ resolution
    def resolve_code(self, text: str) -> Resolution:
        """A written code: 6 digits (or the 12-digit NBS form ending in zeros)."""
        code = str(text).strip()
        if not _CODE.match(code) or (len(code) == 12 and code[6:] != "000000"):
            return Resolution(None, "unknown")
        code = code[:6]
        if code in self._by_code:
            return Resolution(code, "ok")
        if code in self._alias_codes:
            alias = self._alias_codes[code]
            return Resolution(alias.code, "alias", alias.note)
        if code.endswith("01") and f"{code[:4]}00" in self._by_code:
            return Resolution(None, "subtotal", f"{self.name(code[:4] + '00')}市辖区")
        return Resolution(None, "unknown")

    def resolve_names(self, texts: list[str], context: tuple[str, ...] = ()) -> dict[str, Resolution]:
        """Resolve the names of one table together.

        A name several places share (鼓楼区 is in 福州, 南京, 开封 and 徐州) is decided by the table
        itself: the cities its other, unambiguous names and its `context` codes belong to. Never by
        a default area: a file of 南京's districts must not put its 鼓楼区 in 福州. A total row
        ("全省", "合计") means the common parent of the other regions (`total_of`)."""
        out = {t: self._resolve_name(t, ()) for t in texts}
        resolved = [r.code for r in out.values() if r.code and r.status in ("ok", "alias")]
        cities = tuple(sorted({self.city_of(c) or c for c in (*resolved, *context)}))
        for text, res in out.items():
            if res.status == "ambiguous" and cities:
                out[text] = self._choose(list(res.candidates), cities)
        codes = [r.code for r in out.values() if r.code and r.status in ("ok", "alias")] + list(context)
        return {t: self.total_of(t, codes) if r.status == "total" else r for t, r in out.items()}

    def place(self, text: str) -> Resolution:
        """One place typed by a user (a code or a name: "350400", "三明市", "福州市鼓楼区") — the region
        a file is about when the file does not say (`etl load --region`, 数据管理)."""
        text = str(text).strip()
        return self.resolve_code(text) if text.isdigit() else self._resolve_name(text, ())

    def common_parent(self, codes) -> str | None:
        """The deepest region that is (or contains) every one of `codes`: 福州's counties → 350100,
        福建's cities and their counties → 350000; None when they share no province."""
        chains = [self._ancestry(c) for c in dict.fromkeys(codes) if c in self._by_code]
        if not chains:
            return None
        shared = set(chains[0]).intersection(*chains[1:])
        return next((c for c in chains[0] if c in shared), None)

    def _ancestry(self, code: str) -> list[str]:
        chain = [code]
        while self._by_code[chain[-1]].parent_code in self._by_code:
            chain.append(self._by_code[chain[-1]].parent_code)
        return chain

    def total_of(self, text: str, codes) -> Resolution:
        """What a total row of a table whose other rows are `codes` stands for: status "total" with the
        code of the one parent that fits the word ("全省" a province, "全市" a city, "合计" the common
        parent), or with code None and a note saying why none fits (the row is then skipped)."""
        key = _key(text)
        if key in _BINGTUAN_TOTALS:
            return Resolution(_BINGTUAN, "total")
        parent = self.common_parent(codes)
        if parent is None:
            return Resolution(None, "total", "表中其他地区不属于同一个省，无法确定合计行属于哪里")
        level = self._by_code[parent].level
        province = self.province_of(parent)
        if key in _PROVINCE_TOTALS:
            code = province
        elif key in _REGION_TOTALS:  # "全区": a whole autonomous region (广西, 新疆 …)
            code = province if self.name(province).endswith("自治区") else None
        elif key in _CITY_TOTALS:
            code = self.city_of(parent) if level != "province" else None
        else:  # 合计, 总计: whatever the other rows have in common
            code = parent if level != "county" else None
        if code is None:
            return Resolution(
                None, "total", f"表中其他地区的共同上级是{self.full_name(parent)}，与“{text.strip()}”不符"
            )
        return Resolution(code, "total")

    def full_name(self, code: str) -> str:
        """ "福州市鼓楼区", "福建省福州市", "北京市": a region with its parent, to tell same names apart."""
        region = self._by_code.get(code)
        if region is None:
            return str(code)
        parent = self._by_code.get(region.parent_code)
        if parent is None or parent.name == region.name or region.name.startswith(parent.name):
            return region.name
        return parent.name + region.name

    @functools.cached_property
    def picker_labels(self) -> dict[str, str]:
        """Every region as a picker lists it, by code: "福州市鼓楼区（350102）" (searchable by name
        or code), in registry order."""
        return {code: f"{self.full_name(code)}（{code}）" for code in self._frame["code"]}

    def _resolve_name(self, text: str, scope: tuple[str, ...]) -> Resolution:
        key = _key(text)
        if not key:
            return Resolution(None, "unknown")
        if key in _ANY_TOTALS:
            return Resolution(None, "total")
        if key in _SUBTOTALS or (key.endswith("市辖区") and key != "市辖区"):
            return Resolution(None, "subtotal")
        if key in self._alias_names:
            alias = self._alias_names[key]
            return Resolution(alias.code, "alias", alias.note)
        found = self._candidates(key)
        if not found:
            parent, rest = self._split_prefix(key)
            if parent and rest:
                if rest in _SUBTOTALS:
                    return Resolution(None, "subtotal")
                inner = self._resolve_name(rest, (parent,))
                if inner.code and self._within(inner.code, (parent,)):
                    return inner
                found = [c for c in self._candidates(rest) if self._within(c, (parent,))]
        return self._choose(found, scope)

    def _candidates(self, key: str) -> list[str]:
        return self._by_name.get(key) or self._by_short.get(key) or []

    def _split_prefix(self, key: str) -> tuple[str | None, str]:
        """ "陕西省宝鸡市眉县" → ("610300", "眉县"): the longest leading province/city name."""
        best: tuple[str | None, str] = (None, "")
        for n in range(2, min(len(key), 12)):
            head = key[:n]
            codes = [
                c
                for c in self._by_name.get(head, []) + self._by_short.get(head, [])
                if self._by_code[c].level != "county"
            ]
            if len(codes) == 1:
                best = (codes[0], key[n:])
        return best

    def _within(self, code: str, scope: tuple[str, ...]) -> bool:
        return code in scope or self.city_of(code) in scope or self.province_of(code) in scope

    def _choose(self, found: list[str], scope: tuple[str, ...]) -> Resolution:
        found = list(dict.fromkeys(found))
        if len(found) > 1:
            # A municipality's name is both province (110000) and city (110100): the province.
            provinces = [c for c in found if self._by_code[c].level == "province"]
            if len(provinces) == 1 and all(self.province_of(c) == provinces[0] for c in found):
                found = provinces
        if len(found) == 1:
            return Resolution(found[0], "ok")
        if not found:
            return Resolution(None, "unknown")
        inside = [c for c in found if self._within(c, scope)]
        if len(inside) == 1:
            return Resolution(inside[0], "ok")
        return Resolution(None, "ambiguous", candidates=tuple(inside or found))

    def leading_name(self, text: object) -> str | None:
        """The place a table title starts with, as written: "表21-3 福建省社会救济情况" → "福建省",
        "2006—2022年三明市主要民政指标" → "三明市", "宝鸡市眉县城乡低保" → "宝鸡市眉县"; None when the
        title starts with no region's full name (the reader then needs the region from elsewhere).

        Only full names after the table number and years count: short names ("福建") and names
        inside the text ("各城区") are too easily words of the title."""
        if not isinstance(text, str):
            return None
        key = _TITLE_LEAD.sub("", normalize(text))
        written, parent = "", None
        while key:
            fits = {
                key[:n]: [
                    c for c in self._full_name_codes(key[:n]) if parent is None or self._within(c, (parent,))
                ]
                for n in range(min(len(key), 12), 1, -1)
            }
            hit = next((name for name, codes in fits.items() if codes), None)
            if hit is None:
                break
            written, key, parent = written + hit, key[len(hit) :], fits[hit][0]
        return written or None

    def _full_name_codes(self, key: str) -> list[str]:
        """Codes whose full name (or alias: "新疆生产建设兵团", "凤翔县") is exactly `key`."""
        alias = self._alias_names.get(key)
        return self._by_name.get(key, []) + ([alias.code] if alias else [])

    def suggest(self, text: str, scope: tuple[str, ...] = (), n: int = 3) -> list[str]:
        """Closest region names, those in scope first, as "眉县（610326）"."""
        key = _key(text)
        pool = [r for r in self._by_code.values() if self._within(r.code, scope)] if scope else []
        out: list[str] = []
        for regions in (pool, list(self._by_code.values())):
            names = {_key(r.name): r for r in regions}
            for hit in difflib.get_close_matches(key, list(names), n=n, cutoff=0.5):
                label = f"{names[hit].name}（{names[hit].code}）"
                if label not in out:
                    out.append(label)
            if out:
                break
        return out[:n]


def with_nation(frame: pd.DataFrame) -> pd.DataFrame:
    """The registry's regions with the nation on top (code 100000 全国, level "nation"; every
    province its child): the tree `etl.derive` sums in and the warehouse's `regions` table. The
    resolver keeps the registry without it."""
    frame = frame.copy()
    frame.loc[frame["level"] == "province", "parent_code"] = NATION
    top = pd.DataFrame(
        [dict(code=NATION, name=NATION_NAME, level="nation", parent_code="", kind="nation", note="")]
    )
    return pd.concat([top[frame.columns], frame], ignore_index=True)


@lru_cache(maxsize=4)
def load_registry(folder: Path = REGIONS_DIR) -> Registry:
    regions = pd.read_csv(folder / "regions.csv", dtype=str, keep_default_na=False)
    aliases = pd.read_csv(folder / "aliases.csv", dtype=str, keep_default_na=False)
    return Registry(regions, aliases)
