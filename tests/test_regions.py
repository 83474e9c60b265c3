"""The national registry and how written names and codes resolve to it."""

import pytest

from etl.regions import default_cities, load_registry
from etl.settings import DEFAULT_CITIES

SCOPE = DEFAULT_CITIES


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def resolve(registry, text, scope=SCOPE):
    """One name, resolved in a table whose other rows name the cities of `scope`."""
    return registry.resolve_names([text], context=scope)[text]


def test_registry_covers_the_country(registry):
    frame = registry.frame()
    levels = frame.groupby("level").size()
    assert levels["province"] == 31
    assert levels["city"] > 330
    assert 2800 < levels["county"] < 3300
    assert frame["code"].is_unique and frame["code"].str.fullmatch(r"\d{6}").all()
    parents = set(frame["code"])
    assert frame[frame["level"] != "province"]["parent_code"].isin(parents).all()
    assert (frame["code"] != frame["parent_code"]).all()


def test_default_area_structure(registry):
    assert [r.name for r in registry.counties_of_city("610300")][:3] == ["渭滨区", "金台区", "陈仓区"]
    assert len(registry.counties_of_city("610300")) == 12
    assert len(registry.counties_of_city("350100")) == 13
    bingtuan = registry.counties_of_city("659000")
    assert len(bingtuan) == 12 and {r.code for r in bingtuan} == {f"6590{i:02d}" for i in range(1, 13)}
    assert registry.name("659000") == "新疆生产建设兵团师市"
    assert "平潭" in registry.get("350128").note and registry.get("350128").parent_code == "350100"
    assert registry.city_of("610326") == "610300" and registry.province_of("610326") == "610000"
    assert registry.name("110100") == "北京市"


def test_zones_are_not_required_counties(registry):
    zones = [r for r in registry.children("130100") if r.kind == "zone"]
    assert zones and all(r.code[4] == "7" for r in zones)
    assert not set(zones) & set(registry.counties_of_city("130100"))


@pytest.mark.parametrize(
    "text,code,status",
    [
        ("眉县", "610326", "ok"),
        ("眉 县", "610326", "ok"),
        ("宝鸡市眉县", "610326", "ok"),
        ("陕西省宝鸡市眉县", "610326", "ok"),
        ("渭滨", "610302", "ok"),
        ("凤翔县", "610305", "alias"),
        ("长乐市", "350112", "alias"),
        ("第八师", "659001", "alias"),
        ("鼓楼区", "350102", "ok"),  # four 鼓楼区 in China; the table's other rows are in 福州
        ("平潭县*", "350128", "ok"),
        ("平潭县（综合实验区）", "350128", "ok"),
        ("宝鸡市", "610300", "ok"),
        ("北京市", "110000", "ok"),
        ("市辖区", None, "subtotal"),
        ("福州市辖区", None, "subtotal"),
        ("眉具", None, "unknown"),
        ("城关区", None, "ambiguous"),
    ],
)
def test_resolve_names(registry, text, code, status):
    res = resolve(registry, text)
    assert (res.code, res.status) == (code, status)


def test_same_name_outside_scope_is_ambiguous(registry):
    assert resolve(registry, "鼓楼区", scope=()).status == "ambiguous"
    assert resolve(registry, "鼓楼区", scope=("320100",)).code == "320106"


def test_total_row_takes_the_city_of_the_other_names(registry):
    out = registry.resolve_names(["眉县", "凤县", "合计"])
    assert (out["合计"].code, out["合计"].status) == ("610300", "total")
    out = registry.resolve_names(["眉县", "鼓楼区", "合计"], context=SCOPE)
    assert (out["合计"].code, out["合计"].status) == (None, "total")  # 宝鸡 and 福州 share no province
    assert "不属于同一个省" in out["合计"].note


FUJIAN_CITIES = ["福州市", "厦门市", "莆田市", "三明市", "泉州市", "漳州市", "南平市", "龙岩市", "宁德市"]


@pytest.mark.parametrize(
    "word,others,code",
    [
        ("全  省", FUJIAN_CITIES, "350000"),  # 福建统计年鉴 21-19: the row above the cities
        (
            "全省",
            ["鼓楼区", "台江区", "仓山区"],
            "350000",
        ),  # a city table printing the province for comparison
        ("合计", FUJIAN_CITIES, "350000"),
        ("总计", ["鼓楼区", "台江区", "仓山区", "马尾区"], "350100"),
        ("全市", ["眉县", "凤县", "太白县"], "610300"),
        ("全市", FUJIAN_CITIES, None),  # a province's cities have no one 全市
        ("合计", ["眉县"], None),  # one county is no table to total
        ("全区", ["南宁市", "柳州市"], "450000"),  # 广西壮族自治区
        ("全区", FUJIAN_CITIES, None),  # 福建 is no autonomous region
        ("全兵团", ["石河子市", "五家渠市"], "659000"),
    ],
)
def test_total_rows_mean_the_common_parent_the_word_fits(registry, word, others, code):
    res = registry.resolve_names([word, *others])[word]
    assert (res.code, res.status) == (code, "total")
    assert (res.note == "") == (code is not None)


def test_same_name_districts_follow_the_other_rows_never_the_default_area(registry):
    nanjing = registry.resolve_names(["玄武区", "秦淮区", "建邺区", "鼓楼区"])
    assert {t: r.code for t, r in nanjing.items()} == {
        "玄武区": "320102",
        "秦淮区": "320104",
        "建邺区": "320105",
        "鼓楼区": "320106",
    }
    alone = registry.resolve_names(["鼓楼区"])["鼓楼区"]
    assert alone.status == "ambiguous" and {"350102", "320106", "410204", "320302"} <= set(alone.candidates)
    assert [registry.full_name(c) for c in ("350102", "320106", "350100", "110100")] == [
        "福州市鼓楼区",
        "南京市鼓楼区",
        "福建省福州市",
        "北京市",
    ]


def test_leading_name_of_a_title(registry):
    assert registry.leading_name("表21-3 福建省社会救济情况") == "福建省"
    assert registry.leading_name("2006—2022年三明市主要民政指标") == "三明市"
    assert registry.leading_name("宝鸡市眉县城乡低保") == "宝鸡市眉县"
    assert registry.leading_name("新疆生产建设兵团社会服务") == "新疆生产建设兵团"
    assert registry.leading_name("各城区低保情况") is None  # a name inside the title is not the table's place
    assert registry.leading_name("21-19 各市、县（区）城乡居民最低生活保障情况（2019年）") is None


def test_resolve_code(registry):
    assert registry.resolve_code("610326").code == "610326"
    assert registry.resolve_code("610326000000").code == "610326"
    alias = registry.resolve_code("610322")
    assert (alias.code, alias.status) == ("610305", "alias")
    assert registry.resolve_code("350101").status == "subtotal"
    assert registry.resolve_code("999999").status == "unknown"
    assert registry.resolve_code("61032").status == "unknown"


def test_suggest_prefers_scope(registry):
    assert registry.suggest("眉具", scope=("610300",))[0] == "眉县（610326）"


def test_default_cities_configurable(monkeypatch):
    monkeypatch.delenv("MZ_CITIES", raising=False)
    assert default_cities() == ("610300", "350100", "659000")
    monkeypatch.setenv("MZ_CITIES", "610300, 320100")
    assert default_cities() == ("610300", "320100")
