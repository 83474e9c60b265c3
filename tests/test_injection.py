"""Hostile text never acts: a bad-text corpus (formulas, array formulas, URLs, markdown links,
emphasis, LaTeX, Streamlit directives, HTML, javascript:) written through every download — the
topic pages, 总览, 区县对比, 数据查询, 公开数据核对, 指标说明, the issues list and the fill-in
template — comes back from each xlsx as string cells equal to the text (no formula, no
hyperlink) and from each CSV with the inert apostrophe where a spreadsheet would run it; and in
the URL or an upload it shows in the notices as escaped text, never as a link or markup."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from dashboard import admin, auth, export
from dashboard.format import WORD_JOINER, escape_markdown
from etl import pipeline, warehouse
from etl.catalog import Catalog, load_catalog
from etl.issues import IssueList, error
from etl.regions import Registry, load_registry
from etl.template import write_template
from tests.browser import serve_app, wait_ready
from tests.util import BAOJI, HEADER, RecordingStorage, baoji_rows, download, open_page, write_long_csv

APP = str(Path(__file__).resolve().parents[1] / "app.py")
EVIL_LINK = "**…**[请点此登录新系统](https://evil.example/login)"
CORPUS = [
    '=HYPERLINK("http://evil.example/?x","点我")',
    '{=HYPERLINK("http://evil.example/?x","点我")}',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "http://evil.example/x",
    "mailto:a@evil.example",
    "[点我](https://evil.example)",
    EVIL_LINK,
    "**粗体**",
    "$x$",
    ":red[x]",
    "<b>html</b>",
    "javascript:alert(1)",
    ":material/home: www.evil.example",
    "眉县\r=1+1",  # a carriage return inside: a bare one in a CSV starts a new row there
]
BAOJI_CODES = ["610300", *BAOJI]  # the city first, then its 12 counties
INDICATORS = {"dibao_urban_persons": "城市低保人数", "dibao_rural_persons": "农村低保人数"}
REGION_NAMES = dict(zip(BAOJI_CODES, CORPUS))  # 13 regions named by the first 13 texts
INDICATOR_NAMES = dict(zip(INDICATORS, CORPUS[len(BAOJI_CODES) :]))  # the next two


# ---------------------------------------------------------------- reading the files back
def xlsx_strings(data: bytes) -> list[str]:
    """Every text cell of every sheet, after checking that the workbook holds no formula, no
    hyperlink and no text that is not a string cell."""
    book = zipfile.ZipFile(io.BytesIO(data))
    sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    assert sheets
    for name in sheets:
        xml = book.read(name).decode()
        assert not re.search(r"<f[ >]", xml), f"a formula in {name}"
        assert "<hyperlink" not in xml, f"a hyperlink in {name}"
    assert not [n for n in book.namelist() if n.startswith("xl/worksheets/_rels/")]  # no link targets
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in workbook:
        assert not sheet._hyperlinks
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type in ("s", "n"), (cell.coordinate, cell.data_type, cell.value)
    # calamine turns xlsx's _x000D_ escapes back into the characters (openpyxl does not)
    frames = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine="calamine")
    return [v for frame in frames.values() for v in frame.to_numpy().ravel() if isinstance(v, str)]


def csv_cells(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf")
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row]


def runs(text: str) -> bool:
    """Would a spreadsheet opening a CSV run this text as a formula?"""
    return text.startswith(export.FORMULA_START)


def assert_written_as_is(xlsx: bytes, csv_data: bytes, expected: list[str]) -> None:
    """The xlsx holds each expected text exactly, as a string cell, and nothing anywhere carries
    the CSV's apostrophe; the CSV holds each text inert (prefixed where a spreadsheet runs it)."""
    strings = xlsx_strings(xlsx)
    assert set(expected) <= set(strings), set(expected) - set(strings)
    assert not {s for s in strings if s.startswith("'") and s[1:] in CORPUS}  # unaltered in xlsx
    cells = csv_cells(csv_data)
    for text in expected:
        assert ("'" + text if runs(text) else text) in cells, text
    assert not [c for c in cells if runs(c) and not is_number(c)], "a CSV cell a spreadsheet would run"


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_corpus_covers_every_formula_start():
    starts = {text[:2] if text.startswith("{=") else text[:1] for text in CORPUS if runs(text)}
    assert starts == set(export.FORMULA_START)


# ---------------------------------------------------------------- the writers themselves
def test_xlsx_download_keeps_text_as_string_cells_and_csv_makes_it_inert():
    table = pd.DataFrame({"文本": CORPUS, "数值": range(-3, len(CORPUS) - 3)})
    table.columns = [CORPUS[0], "数值"]  # a header is text too
    made = export.files(table, EVIL_LINK)
    assert_written_as_is(made.xlsx, made.csv, CORPUS)
    data = pd.read_excel(io.BytesIO(made.xlsx), sheet_name="数据", engine="calamine")
    assert data.columns.tolist() == [CORPUS[0], "数值"] and data[CORPUS[0]].tolist() == CORPUS
    assert data["数值"].tolist() == list(range(-3, len(CORPUS) - 3))  # numbers stay numbers
    sheet = openpyxl.load_workbook(io.BytesIO(made.xlsx))["数据"]
    assert [c.data_type for c in sheet["B"]][1:] == ["n"] * len(CORPUS)
    assert pd.read_excel(io.BytesIO(made.xlsx), sheet_name="说明", engine="calamine").iloc[0, 0] == EVIL_LINK
    rows = list(csv.reader(io.StringIO(made.csv.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "'" + CORPUS[0] and [int(r[1]) for r in rows[1:]][:4] == [-3, -2, -1, 0]


def test_fill_in_template_writes_names_as_string_cells(tmp_path):
    catalog, registry = load_catalog(), load_registry()
    reported = [i for i in catalog.indicators.values() if not i.is_ratio]
    indicators = {
        i.id: dataclasses.replace(i, name_zh=CORPUS[n % len(CORPUS)], definition=CORPUS[-1 - n % len(CORPUS)])
        for n, i in enumerate(reported)
    } | {i.id: i for i in catalog.indicators.values() if i.is_ratio}
    frame = registry.frame()
    hostile = Registry(
        frame.assign(name=frame["code"].map(REGION_NAMES).fillna(frame["name"])), registry.aliases_frame()
    )
    out = write_template(
        "610300",
        2024,
        tmp_path / "template.xlsx",
        catalog=Catalog(indicators, catalog.categories),
        registry=hostile,
        title_note=EVIL_LINK,
    )
    strings = xlsx_strings(out.read_bytes())
    assert set(CORPUS[1:13]) <= set(strings)  # the counties, down the side of every sheet
    assert CORPUS[0] in strings  # the city, in each sheet's 城市 row
    assert {f"{CORPUS[n % len(CORPUS)]}（{i.unit}）" for n, i in enumerate(reported)} <= set(strings)


# ---------------------------------------------------------------- every page's downloads
@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A data dir serving 宝鸡 whose region and indicator names, published quotes and catalog
    texts are the corpus (as if reference data or a future source carried them)."""
    base = tmp_path_factory.mktemp("hostile") / "data"
    rows = "".join(baoji_rows(name, 300 + n) for n, name in enumerate(INDICATORS.values()))
    catalog, registry = load_catalog(), load_registry()
    frames, issues, _ = pipeline.read_files([write_long_csv(base.parent / "in.csv", rows)], catalog, registry)
    assert issues.ok
    tables, issues = pipeline.assemble(frames, catalog, registry, is_sample=False)
    assert issues.ok
    regions = tables["regions"]  # region_coverage takes its names from here (warehouse.SUMMARY_TABLES)
    tables["regions"] = regions.assign(name=regions["code"].map(REGION_NAMES).fillna(regions["name"]))
    ind = tables["indicators"]
    many = [CORPUS[n % len(CORPUS)] for n in range(len(ind))]
    tables["indicators"] = ind.assign(
        name_zh=ind["id"].map(INDICATOR_NAMES).fillna(ind["name_zh"]), definition=many, source=many
    )
    pub = tables["published"]
    texts = [CORPUS[n % len(CORPUS)] for n in range(len(pub))]
    tables["published"] = pub.assign(quote=texts, document=texts[::-1])
    warehouse.publish(base, tables, {"command": "test"})
    return base


app = open_page


def downloads(at) -> list[tuple[bytes, bytes]]:
    """Every (xlsx, CSV) pair of download buttons on the page, in page order."""
    files = [
        RecordingStorage.files[b.proto.url.rsplit("/", 1)[-1].split(".")[0]]
        for b in at.get("download_button")
        if b.proto.url  # chart pictures are made on click (lazy data), tables are files already
    ]
    xlsx = [f for f in files if f.startswith(b"PK")]
    csvs = [f for f in files if f.startswith(b"\xef\xbb\xbf")]
    assert len(xlsx) == len(csvs) == len(files) // 2 and files
    return list(zip(xlsx, csvs))


REGIONS = CORPUS[: len(BAOJI_CODES)]
COUNTIES = REGIONS[1:]
URBAN = INDICATOR_NAMES["dibao_urban_persons"]
PAGE_DOWNLOADS = {
    # page, URL parameters: the texts each of its downloads must carry
    "topic": ("social_relief", {"view": "表格"}, [REGIONS + [URBAN]]),
    "overview": ("overview", {}, [[REGIONS[0], *INDICATOR_NAMES.values()]]),  # the city's card data
    "compare-ranking": ("compare", {"ind": "dibao_urban_persons"}, [REGIONS + [URBAN]]),
    "compare-table": ("compare", {"ind": "dibao_urban_persons", "cview": "排名表"}, [COUNTIES]),
    "query": (
        "query",
        {"q_ind": list(INDICATORS), "q_reg": BAOJI_CODES},
        [REGIONS + list(INDICATOR_NAMES.values())] * 2,  # 明细表 and 透视表
    ),
    "reconcile": ("reconcile", {}, [CORPUS]),
    "catalog": ("catalog", {}, [CORPUS]),
}


@pytest.mark.parametrize("name", list(PAGE_DOWNLOADS))
def test_every_page_download_writes_hostile_text_as_text(monkeypatch, hostile, name):
    page, params, expected = PAGE_DOWNLOADS[name]
    at = app(monkeypatch, hostile, page, **params)
    pairs = downloads(at)
    assert len(pairs) == len(expected)
    for (xlsx, csv_data), texts in zip(pairs, expected):
        assert_written_as_is(xlsx, csv_data, texts)


# ---------------------------------------------------------------- markdown: the notices
def bodies(at) -> list[str]:
    """Every text the page hands to Streamlit's markdown: bodies of markdown, captions and
    alerts, and the labels of metrics, expanders, tabs and widgets."""
    texts = [
        str(e.value)
        for kind in ("markdown", "caption", "info", "warning", "error", "success", "toast")
        for e in at.get(kind)
    ]
    for kind in ("metric", "expander", "tab", "button", "checkbox", "selectbox", "multiselect", "text_input"):
        texts += [str(e.label) for e in at.get(kind) if getattr(e, "label", None)]
    return texts


# GFM's literal autolinks as Streamlit's frontend finds them in text (mdast-util-gfm-autolink-literal)
BARE_LINK = re.compile(r"(https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.I)


def rendered(body: str) -> tuple[str, str]:
    """A body rendered by a CommonMark renderer (raw HTML on): the HTML, and the text it shows
    without the invisible word joiners; a bare link GFM would make there is an <a> too."""
    out = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(body)
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    return out + ("<a bare>" if BARE_LINK.search(text) else ""), text.replace(WORD_JOINER, "")


def shown_literally(at, text: str) -> None:
    """`text` is in a body only escaped, renders as itself, and no body links anywhere."""
    literal = one_line(text)
    hits = [b for b in bodies(at) if escape_markdown(text) in b]
    assert hits, f"{text!r} not shown"
    for body in hits:
        out, visible = rendered(body)
        assert literal in visible, (body, visible)
        assert not re.search(r"<(a|strong|em|code|b|del|img|h\d|li|table)\b", out), (body, out)
    no_raw_link(at)


def no_raw_link(at) -> None:
    for body in bodies(at):
        assert not re.search(r"(?<!\\)\]\((?:https?|javascript|mailto)", body), body
        assert "<a " not in rendered(body)[0], body


MARKDOWN_TEXTS = ["a\\b", "1. 列表", "# 标题", "> 引用", "| a | b |", "&amp; &lt;", "x\n\n    代码", "~~删~~"]


def one_line(text: str) -> str:
    """How an escaped text reads: line breaks and tabs as one space."""
    return re.sub(r"[\r\n\t]+", " ", text)


def test_escaped_text_renders_as_itself():
    for text in CORPUS + MARKDOWN_TEXTS:
        body = "前文“" + escape_markdown(text) + "”后文"
        out, visible = rendered(body)
        assert not re.search(r"<(?!/?p>)", out), (text, out)  # one paragraph, nothing else
        assert "前文“" + one_line(text) + "”后文" in visible, (text, visible)
        # what CommonMark does not know, Streamlit does: emoji shortcodes, icons, LaTeX, directives
        assert not re.search(r":(?!material\/|streamlit:)[\w+-][\w_+-]*:", body), body
        assert ":material/" not in body and not re.search(r"(?<!\\)[$\[\]]", body), body


URL_TEXTS = [EVIL_LINK, "[点我](https://evil.example)", "$x$ :red[x] <b>html</b> javascript:alert(1)"]


@pytest.mark.parametrize("text", URL_TEXTS)
def test_unknown_city_in_the_url_is_quoted_escaped(monkeypatch, served_template, text):
    at = app(monkeypatch, served_template, "overview", city=text)
    assert at.sidebar.selectbox[0].value == "610300"
    assert any(escape_markdown(text) in i.value for i in at.sidebar.info)
    shown_literally(at, text)


def test_unknown_counties_in_the_url_are_quoted_escaped(monkeypatch, served_template):
    at = app(monkeypatch, served_template, "overview", county=[URL_TEXTS[0], "610326", URL_TEXTS[2]])
    assert at.sidebar.multiselect[0].value == ["610326"]
    for text in (URL_TEXTS[0], URL_TEXTS[2]):
        shown_literally(at, text)


URL_PARAMS = {
    # page: the parameters it reads besides the filters' city and county
    "overview": ("from", "to", "map"),
    "social_relief": ("from", "to", "ind", "view"),
    "compare": ("ind", "x", "y", "cview"),
    "query": ("q_ind", "q_reg"),
    "present": ("slides", "s", "screen", "theme", "auto"),
}


@pytest.mark.parametrize("page", list(URL_PARAMS))
def test_other_url_parameters_never_reach_markdown(monkeypatch, served_template, page):
    at = app(monkeypatch, served_template, page, **dict.fromkeys(URL_PARAMS[page], EVIL_LINK))
    assert not [b for b in bodies(at) if EVIL_LINK in b or escape_markdown(EVIL_LINK) in b]
    no_raw_link(at)


def test_catalog_search_text_is_quoted_escaped(monkeypatch, served_template):
    at = app(monkeypatch, served_template, "catalog")
    at.text_input(key="cat_q").set_value(EVIL_LINK).run()
    assert any(escape_markdown(EVIL_LINK) in c.value for c in at.caption)
    shown_literally(at, EVIL_LINK)


# ---------------------------------------------------------------- markdown: uploads
ADMIN_NAME = "[管理员](https://evil.example) :red[x]"  # as an identity provider might name someone


def logged_in_admin(monkeypatch, base: Path) -> AppTest:
    """The 数据管理 page with an administrator signed in (the session as a login leaves it)."""
    monkeypatch.setenv(auth.ENV_HASH, auth.hash_password("not used: the session is signed in"))
    at = app(monkeypatch, base, "admin", state={"admin_user": ADMIN_NAME, "admin_seen": time.time()})
    assert at.file_uploader
    return at


def test_administrator_name_is_escaped(monkeypatch, served):
    at = logged_in_admin(monkeypatch, served)
    assert any(escape_markdown(ADMIN_NAME) in c.value for c in at.sidebar.caption)
    shown_literally(at, ADMIN_NAME)


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, content, "text/csv") for name, content in files]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


CONTROL = re.compile(r"[\x00-\x1f]")


def corpus_csvs() -> list[tuple[str, bytes]]:
    """Two returns whose region cells are the corpus: the texts the check refuses as unsafe
    (formula-like, control characters) and the rest (unknown regions) — reading a file stops at
    unsafe text, so the rest would not be reported beside them."""
    unsafe = [t for t in CORPUS if t.lstrip()[:1] in ("=", "+", "-", "@") or CONTROL.search(t)]
    files = []
    for n, texts in enumerate((unsafe, [t for t in CORPUS if t not in unsafe])):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows(
            [HEADER.strip().split(","), *[[t, "", 2023, "城市低保人数", 1, "人"] for t in texts]]
        )
        files.append((f"{EVIL_LINK}{n}.csv", buffer.getvalue().encode("utf-8")))
    return files


def test_issues_list_download_keeps_the_clerks_text(monkeypatch, served):
    at = upload(logged_in_admin(monkeypatch, served), *corpus_csvs())
    assert any("错误" in e.value for e in at.error)
    issues = pd.concat([d.value for d in at.dataframe if "问题" in d.value.columns])
    strings = xlsx_strings(download(at, "下载问题清单 (xlsx)，发回区县修改"))
    # every cell as the table shows it (control characters are shown as \t, \r by the check)
    expected = {v for v in issues.to_numpy().ravel() if isinstance(v, str) and v}
    assert expected <= set(strings), expected - set(strings)
    assert {t for t in CORPUS if not CONTROL.search(t)} <= set(strings)
    assert not [s for s in strings if s.startswith("'")]
    no_raw_link(at)


def test_oversized_upload_quotes_its_name_escaped(monkeypatch, served):
    name = f"{EVIL_LINK}.csv"
    huge = b"#" * (admin.UPLOAD_LIMIT_MB * 1024 * 1024 + 1)
    at = upload(logged_in_admin(monkeypatch, served), (name, huge))
    assert any("文件过大" in e.value and escape_markdown(name) in e.value for e in at.error)
    shown_literally(at, name)


def test_publish_failure_quotes_file_sheet_and_cell_escaped(monkeypatch, served):
    at = upload(
        logged_in_admin(monkeypatch, served),
        ("眉县2023.csv", (HEADER + "眉县,610326,2023,城市低保人数,320,人\n").encode()),
    )
    failed = IssueList()
    failed.add(
        error(
            "file_unreadable",
            f"单元格“{CORPUS[9]}”无法读取。",
            file=f"{EVIL_LINK}.xlsx",
            sheet=CORPUS[13],
            row=3,
            column="B",
            suggestion=CORPUS[15],
        )
    )
    monkeypatch.setattr(pipeline, "load", lambda *a, **k: pipeline.Outcome(issues=failed))
    at.button(key="publish").click().run()
    assert not at.exception
    (shown,) = [e.value for e in at.error if e.value.startswith("发布失败")]
    for text in (f"{EVIL_LINK}.xlsx", CORPUS[13], CORPUS[9], CORPUS[15]):
        assert escape_markdown(text) in shown
        shown_literally(at, text)


# ---------------------------------------------------------------- the real frontend
@pytest.fixture(scope="module")
def injected_url(served_template, tmp_path_factory):
    with serve_app(served_template, tmp_path_factory.mktemp("log") / "streamlit.log") as server:
        yield server.url


@pytest.mark.browser
@pytest.mark.slow
def test_browser_shows_url_text_literally(browser, injected_url):
    """Streamlit's own markdown (GFM autolinks, directives, emoji, icons, KaTeX) in chromium:
    the notice shows each text as written and the page links nowhere outside."""
    texts = [EVIL_LINK, "$x$ :red[x] :material/home: :smile: <b>html</b> _www.evil.example a@evil.example"]
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{injected_url}/?" + urlencode({"city": texts[0], "county": texts[1]}))
        wait_ready(page)
        notices = page.get_by_test_id("stSidebar").get_by_test_id("stAlertContentInfo")
        expect(notices).to_have_count(2, timeout=30_000)  # one for the city, one for the counties
        shown = " ".join(notices.all_inner_texts()).replace(WORD_JOINER, "")
        for text in texts:
            assert text in shown, (text, shown)
        for bad in ("a", "strong", "b", "img", ".katex", ".stMarkdownColoredText", "[role=img]"):
            assert notices.locator(bad).count() == 0, bad
        assert page.locator('a[href*="evil"]').count() == 0
    finally:
        context.close()
