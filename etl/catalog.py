"""The indicator catalog: what each indicator means, its unit, how it aggregates, how forms spell it.

Metadata lives as data in `data/catalog/indicators.yaml` (like owid/etl's meta.yml) so an
analyst can add an alias or a target without touching code. This module loads it, checks it
(`validate_catalog`, run by the tests and on every load) and answers the two questions the
ETL asks: which indicator does this header mean (`resolve`), and what are its rules.
"""

from __future__ import annotations

import difflib
import hashlib
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from .paths import CATALOG_FILE
from .text import normalize, split_unit

AGGREGATIONS = {"sum", "ratio", "weighted_mean"}
TARGET_OPS = {">=", "<=", ">", "<"}  # Target: _TARGET_WORDS and _TARGET_TESTS cover each
PERIODS = {"year_end", "year_total"}
# The pinned indicators (docs/ARCHITECTURE.md, "Pinned indicators"): ids and canonical units other
# code and users rely on.
CONTRACT_UNITS = {
    "population": "人",
    "pop_60plus": "人",
    "dibao_urban_persons": "人",
    "dibao_rural_persons": "人",
    "dibao_funds": "万元",
    "tekun_persons": "人",
    "temp_relief_cases": "人次",
    "temp_relief_funds": "万元",
    "elderly_beds": "张",
    "beds_per_1000_elderly": "张",
    "charity_funds_raised": "万元",
    "certified_social_workers": "人",
    "social_workers_per_10k": "人",
}
_REQUIRED = {
    "id": str,
    "category": str,
    "name_zh": str,
    "name_en": str,
    "unit": str,
    "decimals": int,
    "agg": str,
    "definition": str,
    "source": str,
    "period": str,
}
_CATEGORY_FIELDS = ("id", "name_zh", "name_en")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Outline numbering in front of labels: "一、", "（一）", "(1)", "1.", "1、", "2．".
_NUMBERING = re.compile(
    r"^(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、.．]|\d+[、.．](?!\d))"
)


@dataclass(frozen=True)
class Target:
    """A plan target: the indicator should be `op` `value` (">=" 35: at least 35 — a floor;
    "<=": at most — a ceiling). The one place that decides whether a value meets it, and how
    the goal is written, for every table, chart, slide and sentence."""

    value: float
    op: str
    year: int | None
    scope: str
    source: str
    note: str = ""

    def meets(self, value: object) -> bool | None:
        """Whether `value` meets the target; None when there is no value (None, NaN, NA)."""
        if value is None or pd.isna(value):
            return None
        return bool(_TARGET_TESTS[self.op](float(value), float(self.value)))

    @property
    def symbol(self) -> str:
        """The op as written on a chart: ≥, ≤, >, <."""
        return _TARGET_WORDS[self.op][0]

    @property
    def goal_words(self) -> str:
        """The goal in words, before the value: 不低于 (35张), 不高于, 高于, 低于."""
        return _TARGET_WORDS[self.op][1]

    @property
    def miss_words(self) -> str:
        """What a value that misses the target is, before 目标: 低于 (a floor), 高于 (a ceiling)."""
        return _TARGET_WORDS[self.op][2]

    def label(self, unit: str = "") -> str:
        """The target line's label: "目标 ≥35张/千名老年人（2020年）" — the plan year says which
        plan's goal it is (a 2025 goal shown beside 2023 data is still to be reached)."""
        year = f"（{self.year}年）" if self.year is not None else ""
        return f"目标 {self.symbol}{float(self.value):g}{unit}{year}"


def target_in_force(targets: Iterable[Target], year: int) -> Target | None:
    """The target a value of `year` is measured against: the plan covering that year — the
    earliest plan year from `year` on (十三五's 2020 goal for 2016–2020, 十四五's 2025 goal for
    2021–2025) — else, past every plan, the latest one (the goal still standing). Undated targets
    serve only an indicator without dated ones; on equal years the first listed wins."""
    targets = list(targets)
    dated = [t for t in targets if t.year is not None]
    if not dated:
        return targets[0] if targets else None
    ahead = [t for t in dated if t.year >= year]
    if ahead:
        return min(ahead, key=lambda t: t.year)
    return max(dated, key=lambda t: t.year)


# op → (symbol, the goal in words, a miss in words); TARGET_OPS are its keys
_TARGET_WORDS = {
    ">=": ("≥", "不低于", "低于"),
    "<=": ("≤", "不高于", "高于"),
    ">": (">", "高于", "不高于"),
    "<": ("<", "低于", "不低于"),
}
_TARGET_TESTS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Category:
    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Indicator:
    id: str
    category: str
    name_zh: str
    name_en: str
    unit: str
    display_unit: str
    decimals: int
    agg: str
    higher_is_better: bool | None
    definition: str
    source: str
    period: str
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    scale: float = 1.0
    weight: str | None = None
    aliases: tuple[str, ...] = ()
    context_aliases: tuple[tuple[str, str], ...] = ()
    targets: tuple[Target, ...] = ()
    yoy_bound: float | None = None
    max_value: float | None = None

    @property
    def is_ratio(self) -> bool:
        return self.agg == "ratio"

    def formula(self, names: Mapping[str, str]) -> str:
        """How the value is obtained, in the words the 指标说明 page shows: the parts by their
        Chinese names (`names`: id → name_zh), never by id."""
        if self.agg == "ratio":
            numerator = " + ".join(names[i] for i in self.numerator)
            denominator = " + ".join(names[i] for i in self.denominator)
            return f"（{numerator}）÷（{denominator}）× {self.scale:g}"
        if self.agg == "weighted_mean":
            return f"按{names[self.weight]}加权平均"
        return "各区县求和"


def label_key(text: object) -> str:
    """Matching key for a header label: normalised, outline numbering and a trailing unit removed.

    Numbering may be nested ("一、（一）…") and may precede "其中：", so both are stripped until
    nothing changes; a label that is nothing but numbering keeps its text.
    """
    label = split_unit(text)[0]
    key = label
    for _ in range(4):
        stripped = normalize(_NUMBERING.sub("", key))
        if stripped == key or not stripped:
            break
        key = stripped
    return key or label


class Catalog:
    def __init__(self, indicators: dict[str, Indicator], categories: dict[str, Category]):
        self.indicators = indicators
        self.categories = categories
        self._labels: dict[str, str] = {}
        self._context: dict[str, list[tuple[str, str]]] = {}
        for ind in indicators.values():
            for text in (ind.id, ind.name_zh, *ind.aliases):
                self._labels.setdefault(label_key(text), ind.id)
            for context, label in ind.context_aliases:
                self._context.setdefault(label_key(label), []).append((label_key(context), ind.id))

    def get(self, indicator_id: str) -> Indicator:
        return self.indicators[indicator_id]

    def fingerprint(self) -> str:
        """sha256 of everything the catalog says (categories and indicators with their aliases,
        units, ranges and targets, in order): equal catalogs read files alike; any change to
        the catalog changes it (`etl/fact_cache.py` keys resolved files by it)."""
        text = repr((list(self.categories.values()), list(self.indicators.values())))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def resolve(self, label: str, context: str = "") -> Indicator | None:
        """The indicator a form's label means; a 季报 item like "保障人数" needs its section as context."""
        if not isinstance(label, str):
            label = "" if label is None else str(label)
        if label in self.indicators:
            return self.indicators[label]
        key = label_key(label)
        if not key:
            return None
        if key in self._labels:
            return self.indicators[self._labels[key]]
        section = label_key(
            context if isinstance(context, str) else ("" if context is None else str(context))
        )
        if not section:
            return None
        # The most specific section wins ("城市最低生活保障" over a shorter "城市低保").
        hits = [
            (len(alias_context), ind_id)
            for alias_context, ind_id in self._context.get(key, [])
            if alias_context and alias_context in section
        ]
        return self.indicators[max(hits)[1]] if hits else None

    def suggest(self, label: str, n: int = 3) -> list[str]:
        """Closest indicator names for an unknown label (by name or alias), as Chinese names."""
        key = label_key(label)
        hits = difflib.get_close_matches(key, list(self._labels), n=n * 3, cutoff=0.5)
        names = list(dict.fromkeys(self.indicators[self._labels[h]].name_zh for h in hits))
        return names[:n]

    def dependencies(self, indicator_id: str) -> tuple[str, ...]:
        ind = self.get(indicator_id)
        deps = ind.numerator + ind.denominator + ((ind.weight,) if ind.weight else ())
        return tuple(dict.fromkeys(deps))

    def frame(self) -> pd.DataFrame:
        names = {i.id: i.name_zh for i in self.indicators.values()}
        rows = [
            {
                "id": i.id,
                "name_zh": i.name_zh,
                "name_en": i.name_en,
                "category": i.category,
                "unit": i.unit,
                "display_unit": i.display_unit,
                "decimals": i.decimals,
                "agg": i.agg,
                "numerator": ",".join(i.numerator),
                "denominator": ",".join(i.denominator),
                "scale": float(i.scale),
                "weight": i.weight or "",
                "higher_is_better": i.higher_is_better,
                "definition": i.definition,
                "source": i.source,
                "period": i.period,
                "formula": i.formula(names),
                "aliases": "；".join(i.aliases),
                "position": n,
            }
            for n, i in enumerate(self.indicators.values())
        ]
        frame = pd.DataFrame(rows)
        return frame.astype({"higher_is_better": "boolean", "decimals": "int32", "position": "int32"})

    def targets_frame(self) -> pd.DataFrame:
        rows = [
            {
                "indicator_id": i.id,
                "value": float(t.value),
                "op": t.op,
                "year": t.year,
                "scope": t.scope,
                "source": t.source,
                "note": t.note,
            }
            for i in self.indicators.values()
            for t in i.targets
        ]
        columns = ["indicator_id", "value", "op", "year", "scope", "source", "note"]
        return pd.DataFrame(rows, columns=columns).astype({"year": "Int32", "value": "float64"})

    def categories_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "position": n}
                for n, c in enumerate(self.categories.values())
            ]
        ).astype({"position": "int32"})


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def validate_catalog(data: dict) -> list[str]:
    """Every problem with a catalog document (empty list when it is sound); never raises."""
    if not isinstance(data, dict):
        return ["catalog must be a mapping with 'categories' and 'indicators'"]
    problems: list[str] = []

    categories: set[str] = set()
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        problems.append("no categories")
        raw_categories = []
    for n, cat in enumerate(raw_categories):
        if not isinstance(cat, dict) or not all(
            isinstance(cat.get(k), str) and cat.get(k) for k in _CATEGORY_FIELDS
        ):
            problems.append(f"category #{n + 1}: needs {', '.join(_CATEGORY_FIELDS)}")
            continue
        if cat["id"] in categories:
            problems.append(f"category #{n + 1}: duplicate category id {cat['id']!r}")
        categories.add(cat["id"])

    items = data.get("indicators")
    if not isinstance(items, list) or not items:
        problems.append("no indicators")
        items = []
    by_id: dict[str, dict] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"indicator #{n + 1}: must be a mapping")
            continue
        where = f"indicator #{n + 1} ({item.get('id', '?')})"
        for name, kind in _REQUIRED.items():
            value = item.get(name)
            if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value.strip()):
                problems.append(f"{where}: '{name}' missing or not {kind.__name__}")
        ind_id = item.get("id")
        if not isinstance(ind_id, str) or not _ID.match(ind_id):
            problems.append(f"{where}: id must be snake_case")
        elif ind_id in by_id:
            problems.append(f"{where}: duplicate id")
        else:
            by_id[ind_id] = item
        if item.get("category") not in categories:
            problems.append(f"{where}: unknown category {item.get('category')!r}")
        if item.get("agg") not in AGGREGATIONS:
            problems.append(f"{where}: agg must be one of {sorted(AGGREGATIONS)}")
        if item.get("period") not in PERIODS:
            problems.append(f"{where}: period must be one of {sorted(PERIODS)}")
        if "higher_is_better" not in item or item.get("higher_is_better") not in (True, False, None):
            problems.append(f"{where}: higher_is_better must be true, false or null")
        if item.get("display_unit") is not None and not (
            isinstance(item["display_unit"], str) and item["display_unit"]
        ):
            problems.append(f"{where}: display_unit must be a non-empty string")
        decimals = item.get("decimals")
        if isinstance(decimals, int) and not isinstance(decimals, bool) and not 0 <= decimals <= 4:
            problems.append(f"{where}: decimals must be 0–4")
        for name in ("yoy_bound", "max_value"):
            value = item.get(name)
            if value is not None and (not _is_number(value) or value <= 0):
                problems.append(f"{where}: {name} must be a positive number")
        for name in ("numerator", "denominator"):
            if item.get(name) is not None and not _str_list(item[name]):
                problems.append(f"{where}: {name} must be a list of indicator ids")
        if item.get("aliases") is not None and not _str_list(item["aliases"]):
            problems.append(f"{where}: aliases must be a list of non-empty strings")
        context_aliases = item.get("context_aliases")
        if context_aliases is not None and not (
            isinstance(context_aliases, list)
            and all(
                isinstance(c, dict)
                and isinstance(c.get("context"), str)
                and c["context"].strip()
                and isinstance(c.get("label"), str)
                and c["label"].strip()
                for c in context_aliases
            )
        ):
            problems.append(f"{where}: context_aliases must be a list of {{context, label}}")
        targets = item.get("targets")
        if targets is not None and not isinstance(targets, list):
            problems.append(f"{where}: targets must be a list")
            targets = []
        for t in targets or []:
            if not (
                isinstance(t, dict)
                and t.get("op") in TARGET_OPS
                and _is_number(t.get("value"))
                and isinstance(t.get("source"), str)
                and t["source"].strip()
                and (
                    t.get("year") is None or (isinstance(t["year"], int) and not isinstance(t["year"], bool))
                )
            ):
                problems.append(
                    f"{where}: target needs value, op in {sorted(TARGET_OPS)}, source and an integer year"
                )

    sums = {i for i, item in by_id.items() if item.get("agg") == "sum"}
    for ind_id, item in by_id.items():
        if item.get("agg") == "ratio":
            numerator, denominator = item.get("numerator"), item.get("denominator")
            parts = (numerator if _str_list(numerator) else []) + (
                denominator if _str_list(denominator) else []
            )
            if not numerator or not denominator or not set(parts) <= sums:
                unknown = sorted(set(parts) - sums)
                problems.append(
                    f"{ind_id}: ratio parts must be existing sum indicators"
                    + (f" (not: {', '.join(unknown)})" if unknown else "")
                )
            if not _is_number(item.get("scale")) or item["scale"] <= 0:
                problems.append(f"{ind_id}: ratio needs a positive scale")
        elif item.get("numerator") or item.get("denominator"):
            problems.append(f"{ind_id}: numerator/denominator only apply to agg: ratio")
        if item.get("agg") == "weighted_mean" and item.get("weight") not in sums:
            problems.append(f"{ind_id}: weighted_mean needs an existing sum indicator as weight")
        elif item.get("agg") != "weighted_mean" and item.get("weight") is not None:
            problems.append(f"{ind_id}: weight only applies to agg: weighted_mean")

    # Every label (id, name, alias) must mean exactly one indicator after normalisation.
    seen: dict[str, str] = {}
    for ind_id, item in by_id.items():
        names = [ind_id, item.get("name_zh")] + (item["aliases"] if _str_list(item.get("aliases")) else [])
        for text in names:
            if not isinstance(text, str):
                continue
            key = label_key(text)
            if not key:
                problems.append(f"{ind_id}: label {text!r} is empty after normalisation")
            elif key in seen and seen[key] != ind_id:
                problems.append(f"{ind_id}: label {text!r} already means {seen[key]}")
            seen.setdefault(key, ind_id)
    contexts: dict[tuple[str, str], str] = {}
    for ind_id, item in by_id.items():
        for c in item.get("context_aliases") or []:
            if not (
                isinstance(c, dict) and isinstance(c.get("context"), str) and isinstance(c.get("label"), str)
            ):
                continue
            pair = (label_key(c["context"]), label_key(c["label"]))
            if pair in contexts and contexts[pair] != ind_id:
                problems.append(
                    f"{ind_id}: context alias {c['label']!r} under {c['context']!r} already means "
                    f"{contexts[pair]}"
                )
            contexts.setdefault(pair, ind_id)

    for ind_id, unit in CONTRACT_UNITS.items():
        if ind_id not in by_id:
            problems.append(f"contract indicator {ind_id} missing")
        elif by_id[ind_id].get("unit") != unit:
            problems.append(f"contract indicator {ind_id} must have unit {unit}")
    return problems


def _indicator(item: dict) -> Indicator:
    return Indicator(
        id=item["id"],
        category=item["category"],
        name_zh=item["name_zh"],
        name_en=item["name_en"],
        unit=item["unit"],
        display_unit=item.get("display_unit") or item["unit"],
        decimals=item["decimals"],
        agg=item["agg"],
        higher_is_better=item.get("higher_is_better"),
        definition=item["definition"],
        source=item["source"],
        period=item["period"],
        numerator=tuple(item.get("numerator") or ()),
        denominator=tuple(item.get("denominator") or ()),
        scale=float(item.get("scale") or 1),
        weight=item.get("weight"),
        aliases=tuple(item.get("aliases") or ()),
        context_aliases=tuple((c["context"], c["label"]) for c in item.get("context_aliases") or ()),
        targets=tuple(
            Target(
                value=t["value"],
                op=t["op"],
                year=t.get("year"),
                scope=t.get("scope", ""),
                source=t["source"],
                note=t.get("note", ""),
            )
            for t in item.get("targets") or ()
        ),
        yoy_bound=item.get("yoy_bound"),
        max_value=item.get("max_value"),
    )


def catalog_from_data(data: dict) -> Catalog:
    problems = validate_catalog(data)
    if problems:
        raise ValueError("指标目录有误：\n" + "\n".join(problems))
    categories = {c["id"]: Category(c["id"], c["name_zh"], c["name_en"]) for c in data["categories"]}
    return Catalog({i["id"]: _indicator(i) for i in data["indicators"]}, categories)


def read_catalog_data(path: str | Path = CATALOG_FILE) -> dict:
    """The raw YAML document (a fresh copy on every call, safe to mutate). Parsed with libyaml's
    safe loader where PyYAML has it: the pure-Python one took 0.09 s of every build."""
    with open(path, encoding="utf-8") as f:
        try:
            return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise ValueError(f"指标目录不是有效的 YAML：{path}：{exc}") from exc


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return catalog_from_data(read_catalog_data(CATALOG_FILE))


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at `path` (default: the shipped one, loaded once per process).

    Raises ValueError listing every problem when the file is not a valid catalog.
    """
    if path is None or Path(path).resolve() == CATALOG_FILE.resolve():
        return _default_catalog()
    return catalog_from_data(read_catalog_data(Path(path)))


load_catalog.cache_clear = _default_catalog.cache_clear  # type: ignore[attr-defined]
