"""数据查询: pick indicators, regions (any level) and years; see and download exactly that.

Choices are made with widgets only — no user-written SQL. An indicator is shown by its name and
unit only; Streamlit's multiselect searches only that label, so a search box above it
(`SEARCH`) narrows the picker's options by name, English name, every alias (Chinese and
English) and definition, while the indicators already chosen always stay among the options (a
choice never disappears when the search changes).

Every choice is in the URL (`q_ind`, `q_reg`, `q_from`, `q_to`; written by `filters.keep_in_url`
only when one changed), so a copied link gives the same rows. A value in the URL that the
warehouse does not know — an unknown id or code, a year without data, any other text — is
ignored: the page falls back to its default for it, and never echoes the text.

Values are rounded to the catalog's `decimals` of their indicator on screen and in the downloads
(numbers stay numbers); the downloads keep the indicator id (指标代码) and the stored value in
数值（未修约）, and carry the 示例数据 mark in the file itself (`export.download_buttons`).
"""

import unicodedata

import streamlit as st

from dashboard import export, filters, store, topic, views
from dashboard.format import escape_markdown

IND, REG, YEARS, SEARCH = "q_ind", "q_reg", "q_years", "q_search"
TITLE = "民政数据看板 数据查询"
SHOWN = ["指标", "单位", "地区", "区划代码", "年份", "数值", "来源方式"]  # no indicator id on screen
DOWNLOAD = ["指标代码", "指标", "单位", "地区", "区划代码", "年份", "数值", export.FULL_VALUE, "来源方式"]
PIVOT_INDEX = ["指标", "单位", "地区", "区划代码", "指标代码"]

st.title("数据查询")
sample = topic.sample_banner()
indicators = store.indicators()
regions = store.regions_with_data()
levels = {"province": "省", "city": "市", "county": "区县"}
names = regions.set_index("code")["name"]
level_of = regions.set_index("code")["level"]
years = store.fact_years()
if not years:
    st.info("暂无数据：数据仓库为空。")
    st.stop()


def unit_of(i: str) -> str:
    return indicators.loc[i, "display_unit"] or indicators.loc[i, "unit"]


def fold(text: object) -> str:
    """Text as the search compares it: NFKC (full-width letters and digits as ASCII), case-folded."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


labels = {i: f"{indicators.loc[i, 'name_zh']}（{unit_of(i)}）" for i in indicators.index}
texts = indicators[["name_zh", "name_en", "aliases", "definition"]].fillna("").astype(str)
searched = {i: fold(" ".join(row)) for i, row in zip(texts.index, texts.itertuples(index=False))}


def from_url(key: str, known) -> list[str]:
    """The URL's values of `key` that are known, in order, once each; anything else ignored."""
    return list(dict.fromkeys(v for v in st.query_params.get_all(key) if v in known))


initial_ind = from_url(IND, labels) or [i for i in views.load_views().query.indicators if i in labels]
initial_reg = from_url(REG, names.index) or list(store.cities_with_data()[:1])

# The choices of this run: the widget's state (or, on the first run, what it starts with), so
# the search below can keep them among the options.
held = [i for i in st.session_state.get(IND, initial_ind) if i in labels]
search = st.text_input(
    "按名称或别名查找指标",
    key=SEARCH,
    placeholder="输入名称、别名或口径中的词，如：低保、床位",
)
words = fold(search).split()
found = {i for i in labels if all(w in searched[i] for w in words)}
if words:
    st.caption(
        f"找到 {len(found)} 个指标，已列在下方供选择。"
        if found
        else f"没有找到与“{escape_markdown(search)}”相符的指标，请换一个词。"
    )
chosen_ind = st.multiselect(
    "指标",
    [i for i in labels if i in found or i in held],  # catalog order
    default=None if IND in st.session_state else initial_ind,
    format_func=labels.__getitem__,
    key=IND,
    placeholder="选择指标",
)
chosen_reg = st.multiselect(
    "地区（省、市、区县均可）",
    list(regions["code"]),
    default=None if REG in st.session_state else initial_reg,
    format_func=lambda c: f"{names[c]}（{levels.get(level_of[c], '')}，{c}）",
    key=REG,
    placeholder="选择地区",
)
low, high = filters.url_year("q_from", years) or years[0], filters.url_year("q_to", years) or years[-1]
span = (min(low, high), max(low, high))
if len(years) > 1:
    kept = st.session_state.get(YEARS)
    if kept is not None and not set(kept) <= set(years):  # a range of an earlier data version
        del st.session_state[YEARS]
    span = st.select_slider("年份范围", options=years, value=span, format_func=lambda y: f"{y}年", key=YEARS)
filters.keep_in_url({"q_ind": chosen_ind, "q_reg": chosen_reg, "q_from": str(span[0]), "q_to": str(span[1])})

data = store.facts(tuple(chosen_reg), tuple(chosen_ind), *span)
if data.empty:
    st.info("暂无数据：请选择至少一个指标和一个地区，或扩大年份范围。")
    st.stop()
table = export.tidy_rounded(data, indicators)
note = topic.data_note(sample)
# The grid drops trailing zeros (33.0 shows as 33): with one number of decimals for every row,
# the value columns are written with it, as the topic pages write theirs.
places = set(data["indicator_id"].map(indicators["decimals"]).dropna().astype(int))
number = st.column_config.NumberColumn(format=f"%.{places.pop()}f") if len(places) == 1 else None
tidy_tab, pivot_tab = st.tabs(["明细表", "透视表（地区 × 年份）"])
with tidy_tab:
    st.dataframe(table[SHOWN], hide_index=True, column_config={"数值": number} if number else None)
    export.download_buttons(
        table[DOWNLOAD],
        "数据查询_明细",
        note + f"数值按各指标的小数位修约，未修约的数值在“{export.FULL_VALUE}”列。",
        key="q-tidy",
        title=f"{TITLE}·明细表",
        sample=sample,
    )
with pivot_tab:
    pivot = table.pivot_table(index=PIVOT_INDEX, columns="年份", values="数值", aggfunc="first").reset_index()
    pivot.columns = [f"{c}年" if isinstance(c, int) or str(c).isdigit() else c for c in pivot.columns]
    shown = pivot.drop(columns="指标代码")
    years_shown = [c for c in shown.columns if c.endswith("年")]
    st.dataframe(shown, hide_index=True, column_config=dict.fromkeys(years_shown, number) if number else None)
    export.download_buttons(
        pivot[["指标代码", *pivot.columns.drop("指标代码")]],
        "数据查询_透视",
        note + f"数值按各指标的小数位修约；未修约的数值见明细表下载的“{export.FULL_VALUE}”列。",
        key="q-pivot",
        title=f"{TITLE}·透视表",
        sample=sample,
    )
st.caption(f"共 {len(table)} 条数据。" + note)
