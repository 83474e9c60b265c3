"""The shared caches are safe by construction: what `store.per_version` keeps cannot be changed by
a caller. Every page run twice (present's slides restyled between) leaves every cached answer as
it was; a caller changing a figure, frame, mapping or card it was handed changes its own copy."""

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from dashboard import missions, navigation, store, topic
from dashboard.filters import Filters
from tests.test_pages import APP
from tests.util import RecordingStorage

BAOJI = "610300"
SCRIPTS = [script for pages in navigation.SECTIONS.values() for script, _, _ in pages]


def fingerprint(value):
    """A comparable digest of an answer as a caller gets it."""
    if isinstance(value, go.Figure):
        return ("figure", value.to_json())
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        rows = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
        shape = (tuple(map(str, frame.columns)), tuple(map(str, frame.dtypes)), frame.index.names)
        return ("frame", shape, hashlib.sha256(rows).hexdigest(), repr(frame.attrs))
    if isinstance(value, Mapping):
        return ("mapping", tuple((key, fingerprint(part)) for key, part in value.items()))
    if isinstance(value, tuple | list):  # the cache keeps a list as a tuple
        return ("tuple", tuple(fingerprint(part) for part in value))
    if isinstance(value, bytes) and value.startswith(b"PK"):  # xlsx: its parts but the time it was made
        with zipfile.ZipFile(io.BytesIO(value)) as book:
            parts = [(n, book.read(n)) for n in sorted(book.namelist()) if n != "docProps/core.xml"]
        return ("xlsx", hashlib.sha256(repr(parts).encode()).hexdigest())
    if isinstance(value, bytes):
        return ("bytes", hashlib.sha256(value).hexdigest())
    return ("value", repr(value))


def snapshot() -> dict:
    """Every answer the per-version caches hold, by function and arguments, with what its
    function makes of the same arguments now."""
    misses = sum(cache.cache_info().misses for cache in store._CACHES)
    found = {
        (function.__qualname__, repr(args)): (fingerprint(answer), fingerprint(function(*args, **kwargs)))
        for function, args, kwargs, answer in store.cached_answers()
    }
    # every answer came from the cache as it was: none was evicted and made again
    assert sum(cache.cache_info().misses for cache in store._CACHES) == misses
    return found


def session(monkeypatch, base: Path, **params) -> AppTest:
    monkeypatch.setenv("MZ_DATA_DIR", str(base))
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def every_page(monkeypatch, base: Path, theme: str, **params) -> None:
    """One session through every page of the navigation, the topic pages' other tabs, and the
    deck on the `theme` screen (every slide with a figure restyled)."""
    at = session(monkeypatch, base, **params)
    for script in SCRIPTS:
        at.switch_page(script).run()
        assert not at.exception, (script, [e.value for e in at.exception])
    for view in ("地图", "表格"):
        at = session(monkeypatch, base, view=view, **params)
        at.switch_page("pages/elderly_care.py").run()
        assert not at.exception, (view, [e.value for e in at.exception])
    at = session(monkeypatch, base, theme=theme, **params)
    at.switch_page("pages/present.py").run()
    for _ in range(4):
        at.button(key="next").click().run()
        assert not at.exception, [e.value for e in at.exception]


def test_every_page_twice_leaves_every_shared_answer_unchanged(monkeypatch, sample):  # noqa: F811
    some = dict(city=BAOJI, county=["610302", "610326"])
    every_page(monkeypatch, sample, "dark", **some)
    every_page(monkeypatch, sample, "dark", city=BAOJI)
    first = snapshot()
    kinds = {kind for (kind, *_), _ in first.values()}
    names = {name.rsplit(".", 1)[-1] for name, _ in first}
    assert {"figure", "frame", "mapping", "tuple"} <= kinds
    assert {"chart_parts", "ranking_figure", "map_figure", "card_models", "_mission_cards", "_facts"} <= names
    # what the caches hold is what their functions make: nothing changed them in the first pass
    assert [key for key, (held, made) in first.items() if held != made] == []
    every_page(monkeypatch, sample, "light", **some)
    every_page(monkeypatch, sample, "light", city=BAOJI)
    again = snapshot()
    assert {key: again.get(key) for key in first} == first


@pytest.fixture
def view(monkeypatch, sample):  # noqa: F811
    monkeypatch.setenv("MZ_DATA_DIR", str(sample))
    counties = store.counties_of(BAOJI)
    years = store.years(BAOJI)
    return Filters(BAOJI, counties[:3], years[0], years[-1], counties)


def test_a_caller_changing_a_shared_figure_changes_its_own(view):
    trend, ranking, words = topic.chart_parts(view, "elderly_beds", False)
    shown = trend.to_json(), ranking.to_json()
    # the figures are the ones the builder made (the cache keeps their JSON text)
    built = topic.chart_parts.__wrapped__(view, "elderly_beds", False)
    assert [json.loads(f.to_json()) for f in built[:2]] == [json.loads(text) for text in shown]
    trend.update_layout(title_text="改过", paper_bgcolor="black")
    trend.data[0].name = "改过"
    trend.add_hline(y=1)
    ranking.layout.height = 10
    assert trend.layout.title.text == "改过" and len(trend.layout.shapes) >= 1
    again, ranking_again, words_again = topic.chart_parts(view, "elderly_beds", False)
    assert (again.to_json(), ranking_again.to_json(), words_again) == (*shown, words)
    assert again is not trend and topic.ranking_figure(view, "elderly_beds").to_json() == shown[1]
    county_map = topic.map_figure(BAOJI, view.children, "elderly_beds", view.year_to)
    before = county_map.to_json()
    county_map.update_traces(marker_line_width=9)
    assert topic.map_figure(BAOJI, view.children, "elderly_beds", view.year_to).to_json() == before


def test_a_caller_changing_a_shared_frame_changes_its_own(view):
    args = ((BAOJI, *view.children), ("elderly_beds", "pop_60plus"), view.year_from, view.year_to)
    frame = store.facts(*args)
    before = fingerprint(frame)
    frame.loc[frame.index[0], "value"] = -1.0  # in place, through each kind of column
    frame.iloc[1, frame.columns.get_loc("region_name")] = "改过"
    frame.loc[frame.index[2], "region_code"] = "000000"
    frame["value"] *= 2
    frame["extra"] = 1
    frame.index.name = "改过"
    frame.attrs["note"] = "改过"
    with pytest.raises(ValueError, match="read-only"):
        frame["year"].to_numpy()[0] = 0  # numpy views of a copy-on-write frame are read-only
    assert fingerprint(store.facts(*args)) == before
    assert store.facts(*args) is not store.facts(*args)  # each call its own shallow copy

    for table in (store.regions, store.indicators):
        shared = fingerprint(table())
        mine = table()
        mine.iloc[0, 0] = "改过"
        mine.columns.name = "改过"
        assert fingerprint(table()) == shared


def test_shared_mappings_and_cards_are_read_only(view):
    names = store.region_names()
    with pytest.raises(TypeError):
        names[BAOJI] = "改过"  # type: ignore[index]
    assert store.region_name(BAOJI) == "宝鸡市"
    cards = topic.card_models(view, ("elderly_beds", "pop_60plus"))
    metric, caption = cards[0]
    with pytest.raises(TypeError):
        metric["label"] = "改过"  # type: ignore[index]
    assert isinstance(metric["chart_data"], tuple | type(None)) and isinstance(caption, str)
    assert topic.card_models(view, ("elderly_beds", "pop_60plus")) is cards  # nothing to copy
    for card in missions.mission_cards(view):
        with pytest.raises(TypeError):
            card["value"] = "改过"  # type: ignore[index]


def test_per_version_keeps_only_what_a_caller_cannot_change(view):
    @store.per_version(maxsize=2)
    def lists() -> dict:
        return {"a": [1, 2], "b": ({"c": [3]},), "d": np.arange(3)}

    got = lists()
    assert got["a"] == (1, 2) and got["b"][0]["c"] == (3,)
    with pytest.raises(TypeError):
        got["b"][0]["c"] = ()  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        got["d"][0] = 9

    @store.per_version(maxsize=2)
    def a_set() -> set:
        return {1, 2}

    with pytest.raises(TypeError, match="a caller could change"):
        a_set()
