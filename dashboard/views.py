"""What each view shows, as data: `data/catalog/views.yaml` beside the indicator catalog.

Which indicators head each topic page and in which order, the 总览 mission cards, the defaults
of 区县对比 and 数据查询, and the meeting deck (its KPI slide, map, slide order and titles, the
rules of 需要关注的事项) live in the YAML so an analyst changes a view without touching code.
This module loads it, checks it against the catalog (`validate_views`: every problem at once,
a misspelt key included, like `etl.catalog.validate_catalog`) and hands out one read-only
`Views`, loaded once per process (`load_views`; pages ask for it on every rerun).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

from etl.catalog import Catalog, load_catalog
from etl.paths import CATALOG_FILE

VIEWS_FILE = CATALOG_FILE.parent / "views.yaml"
FIXED_SLIDES = ("cover", "kpi", "map", "attention")
TOPIC_SLIDES = ("trend", "rank")  # a topic's slides: "<topic id>-trend", "<topic id>-rank"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Every mapping of the file and the keys it may (all must) have: a misspelt key is an error.
_KEYS = {
    "views": ("topics", "overview", "compare", "query", "deck"),
    "topic": ("id", "title", "cards", "indicators"),
    "overview": ("cards", "topic_cards", "map_indicators"),
    "card": ("label", "parts"),
    "compare": ("indicator", "scatter_x", "scatter_y"),
    "query": ("indicators",),
    "deck": ("kpi", "map", "slides", "attention"),
    "slide": ("id", "title"),
    "attention": ("target_check", "drop_percent", "indicators"),
}


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    indicators: tuple[str, ...]  # in picker order; the first ones are the KPI cards
    cards: int = 4

    @property
    def card_ids(self) -> tuple[str, ...]:
        return self.indicators[: self.cards]


@dataclass(frozen=True)
class Kpi:
    """A 总览 mission card."""

    label: str
    parts: tuple[str, ...]  # indicator ids; a card over several ids shows their sum


@dataclass(frozen=True)
class Overview:
    cards: tuple[Kpi, ...]
    topic_cards: tuple[str, ...]
    map_indicators: tuple[str, ...]  # the first is the map's default

    @property
    def card_ids(self) -> tuple[str, ...]:
        """Every indicator of the mission cards, once each, in card order."""
        return tuple(dict.fromkeys(p for card in self.cards for p in card.parts))


@dataclass(frozen=True)
class Compare:
    indicator: str
    scatter_x: str
    scatter_y: str


@dataclass(frozen=True)
class Query:
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Attention:
    target_check: bool  # list counties that miss a plan target
    drop_percent: float  # list falls of more than this percent (higher-is-better indicators)
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Deck:
    kpi: tuple[str, ...]
    map: str
    slides: tuple[tuple[str, str], ...]  # (slide id, title) in default order
    attention: Attention

    @property
    def slide_ids(self) -> tuple[str, ...]:
        return tuple(slide_id for slide_id, _ in self.slides)

    @property
    def titles(self) -> dict[str, str]:
        return dict(self.slides)


@dataclass(frozen=True)
class Views:
    topics: Mapping[str, Topic]  # id → topic, in file order (read-only)
    overview: Overview
    compare: Compare
    query: Query
    deck: Deck


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


class _Checker:
    """Collects the problems of one document; every message starts with the place it is about."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.problems: list[str] = []

    def add(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def mapping(self, value: object, where: str, kind: str) -> dict:
        """`value` as a mapping with exactly the keys of `kind` ({} when it is not a mapping)."""
        allowed = _KEYS[kind]
        if not isinstance(value, dict):
            self.add(where, f"must be a mapping with {', '.join(allowed)}")
            return {}
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
                self.add(where, f"unknown key {key!r}{hint}")
        for key in allowed:
            if key not in value:
                self.add(where, f"'{key}' missing")
        return value

    def indicator(self, value: object, where: str) -> bool:
        if not isinstance(value, str) or value not in self.catalog.indicators:
            hint = ""
            if isinstance(value, str):
                close = difflib.get_close_matches(value, list(self.catalog.indicators), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
            self.add(where, f"unknown indicator id {value!r}{hint}")
            return False
        return True

    def indicators(self, value: object, where: str, empty: bool = False) -> list[str]:
        """A list of catalog ids, each once; the valid ones."""
        if not isinstance(value, list) or (not value and not empty):
            self.add(where, "must be a list of indicator ids" + ("" if empty else " (at least one)"))
            return []
        good = []
        for n, item in enumerate(value):
            if self.indicator(item, f"{where} #{n + 1}"):
                if item in good:
                    self.add(f"{where} #{n + 1}", f"{item} listed twice")
                else:
                    good.append(item)
        return good

    def title(self, value: object, where: str) -> None:
        if not _text(value):
            self.add(where, "must be a non-empty text")


def validate_views(data: object, catalog: Catalog | None = None) -> list[str]:
    """Every problem with a views document (empty list when it is sound); never raises.
    Indicator ids are checked against `catalog` (default: the shipped one)."""
    check = _Checker(catalog or load_catalog())
    if not isinstance(data, dict):
        return ["views must be a mapping with " + ", ".join(_KEYS["views"])]
    root = check.mapping(data, "views.yaml", "views")

    topic_ids: list[str] = []
    topics = root.get("topics")
    if "topics" in root and (not isinstance(topics, list) or not topics):
        check.add("topics", "must be a list of topics (at least one)")
    for n, raw in enumerate(topics if isinstance(topics, list) else []):
        label = raw.get("id", "?") if isinstance(raw, dict) else "?"
        where = f"topics #{n + 1} ({label})"
        item = check.mapping(raw, where, "topic")
        if not item:
            continue
        topic_id = item.get("id")
        if not isinstance(topic_id, str) or not _ID.match(topic_id):
            check.add(f"{where}.id", "must be a snake_case page code")
        elif topic_id in topic_ids:
            check.add(f"{where}.id", f"duplicate topic id {topic_id!r}")
        else:
            topic_ids.append(topic_id)
        if "title" in item:
            check.title(item["title"], f"{where}.title")
        listed = item.get("indicators")
        if "indicators" in item:
            check.indicators(listed, f"{where}.indicators")
        count = len(listed) if isinstance(listed, list) and listed else None
        cards = item.get("cards")
        if "cards" in item and not (_is_int(cards) and 1 <= cards <= (count or cards)):
            check.add(
                f"{where}.cards",
                "must be a whole number from 1 to the number of indicators"
                + (f" ({count})" if count else "")
                + f", not {cards!r}",
            )

    overview = check.mapping(root["overview"], "overview", "overview") if "overview" in root else {}
    cards = overview.get("cards")
    if "cards" in overview and (not isinstance(cards, list) or not cards):
        check.add("overview.cards", "must be a list of {label, parts} (at least one)")
        cards = []
    for n, raw in enumerate(cards or []):
        where = f"overview.cards #{n + 1}"
        card = check.mapping(raw, where, "card")
        if not card:
            continue
        if "label" in card:
            check.title(card["label"], f"{where}.label")
        parts = check.indicators(card["parts"], f"{where}.parts") if "parts" in card else []
        meta = [check.catalog.get(p) for p in parts]
        if len(meta) > 1 and (any(m.agg != "sum" for m in meta) or len({m.unit for m in meta}) > 1):
            found = ", ".join(f"{m.id} {m.agg} {m.unit}" for m in meta)
            check.add(
                f"{where}.parts",
                f"a card over several indicators shows their sum: they must be sum "
                f"indicators of one unit ({found})",
            )
    for key in ("topic_cards", "map_indicators"):
        if key in overview:
            check.indicators(overview[key], f"overview.{key}")

    compare = check.mapping(root["compare"], "compare", "compare") if "compare" in root else {}
    for key in _KEYS["compare"]:
        if key in compare:
            check.indicator(compare[key], f"compare.{key}")
    query = check.mapping(root["query"], "query", "query") if "query" in root else {}
    if "indicators" in query:
        check.indicators(query["indicators"], "query.indicators")

    deck = check.mapping(root["deck"], "deck", "deck") if "deck" in root else {}
    if "kpi" in deck:
        check.indicators(deck["kpi"], "deck.kpi")
    if "map" in deck:
        check.indicator(deck["map"], "deck.map")
    if "slides" in deck:
        _check_slides(check, deck["slides"], topic_ids)
    if "attention" in deck:
        _check_attention(check, deck["attention"])
    return check.problems


def _check_slides(check: _Checker, slides: object, topic_ids: list[str]) -> None:
    known = [*FIXED_SLIDES, *(f"{t}-{kind}" for t in topic_ids for kind in TOPIC_SLIDES)]
    if not isinstance(slides, list) or not slides:
        check.add("deck.slides", "must be a list of {id, title} (at least one)")
        return
    seen: set[str] = set()
    for n, raw in enumerate(slides):
        label = raw.get("id", "?") if isinstance(raw, dict) else "?"
        where = f"deck.slides #{n + 1} ({label})"
        slide = check.mapping(raw, where, "slide")
        if not slide:
            continue
        if "title" in slide:
            check.title(slide["title"], f"{where}.title")
        slide_id = slide.get("id")
        if slide_id not in known:
            close = difflib.get_close_matches(str(slide_id), known, n=1)
            hint = (
                f"did you mean {close[0]}?"
                if close
                else ("known: " + ", ".join(FIXED_SLIDES) + ", <topic id>-trend, <topic id>-rank")
            )
            check.add(f"{where}.id", f"unknown slide id {slide_id!r} ({hint})")
        elif slide_id in seen:
            check.add(f"{where}.id", f"slide {slide_id} listed twice")
        seen.add(slide_id)


def _check_attention(check: _Checker, value: object) -> None:
    attention = check.mapping(value, "deck.attention", "attention")
    if not attention:
        return
    if "target_check" in attention and not isinstance(attention["target_check"], bool):
        check.add("deck.attention.target_check", f"must be true or false, not {attention['target_check']!r}")
    drop = attention.get("drop_percent")
    if "drop_percent" in attention and not (_is_number(drop) and 0 < drop < 100):
        check.add("deck.attention.drop_percent", f"must be a percent between 0 and 100, not {drop!r}")
    if "indicators" in attention:
        check.indicators(attention["indicators"], "deck.attention.indicators", empty=True)


def views_from_data(data: dict, catalog: Catalog | None = None) -> Views:
    """The views of a document; raises ValueError listing every problem when it is not sound."""
    problems = validate_views(data, catalog)
    if problems:
        raise ValueError("视图定义有误（data/catalog/views.yaml）：\n" + "\n".join(problems))
    topics = {t["id"]: Topic(t["id"], t["title"], tuple(t["indicators"]), t["cards"]) for t in data["topics"]}
    overview, deck, attention = data["overview"], data["deck"], data["deck"]["attention"]
    return Views(
        topics=MappingProxyType(topics),
        overview=Overview(
            tuple(Kpi(c["label"], tuple(c["parts"])) for c in overview["cards"]),
            tuple(overview["topic_cards"]),
            tuple(overview["map_indicators"]),
        ),
        compare=Compare(**data["compare"]),
        query=Query(tuple(data["query"]["indicators"])),
        deck=Deck(
            kpi=tuple(deck["kpi"]),
            map=deck["map"],
            slides=tuple((s["id"], s["title"]) for s in deck["slides"]),
            attention=Attention(
                attention["target_check"], float(attention["drop_percent"]), tuple(attention["indicators"])
            ),
        ),
    )


def read_views_data(path: str | Path | None = None) -> dict:
    """The raw YAML document (a fresh copy on every call, safe to mutate)."""
    path = VIEWS_FILE if path is None else path
    with open(path, encoding="utf-8") as f:
        try:
            return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise ValueError(f"视图定义不是有效的 YAML：{path}：{exc}") from exc


@lru_cache(maxsize=4)
def _load(path: str) -> Views:
    return views_from_data(read_views_data(path))


def load_views(path: str | Path | None = None) -> Views:
    """The views at `path` (default: `VIEWS_FILE`, read when called, so a test may point it
    elsewhere), loaded and checked once per path and process: pages ask on every rerun.

    Raises ValueError listing every problem when the file is not sound."""
    return _load(str(VIEWS_FILE if path is None else path))


load_views.cache_clear = _load.cache_clear  # type: ignore[attr-defined]
