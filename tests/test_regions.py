"""The national registry and how written names and codes resolve to it."""
import pytest

from etl.regions import DEFAULT_CITIES, default_cities, load_registry

SCOPE = DEFAULT_CITIES


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def resolve(registry, text, scope=SCOPE):
    return registry.resolve_names([text], default_scope=scope)[text]


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


@pytest.mark.parametrize("text,code,status", [
    ("眉县", "610326", "ok"),
    ("眉 县", "610326", "ok"),
    ("宝鸡市眉县", "610326", "ok"),
    ("陕西省宝鸡市眉县", "610326", "ok"),
    ("渭滨", "610302", "ok"),
    ("凤翔县", "610305", "alias"),
    ("长乐市", "350112", "alias"),
    ("第八师", "659001", "alias"),
    ("鼓楼区", "350102", "ok"),          # four 鼓楼区 in China; 福州 is in scope
    ("平潭县*", "350128", "ok"),
    ("平潭县（综合实验区）", "350128", "ok"),
    ("宝鸡市", "610300", "ok"),
    ("北京市", "110000", "ok"),
    ("市辖区", None, "subtotal"),
    ("福州市辖区", None, "subtotal"),
    ("眉具", None, "unknown"),
    ("城关区", None, "ambiguous"),
])
def test_resolve_names(registry, text, code, status):
    res = resolve(registry, text)
    assert (res.code, res.status) == (code, status)


def test_same_name_outside_scope_is_ambiguous(registry):
    assert resolve(registry, "鼓楼区", scope=()).status == "ambiguous"
    assert resolve(registry, "鼓楼区", scope=("320100",)).code == "320106"


def test_total_row_takes_the_city_of_the_other_names(registry):
    out = registry.resolve_names(["眉县", "凤县", "合计"], default_scope=SCOPE)
    assert (out["合计"].code, out["合计"].status) == ("610300", "total")
    out = registry.resolve_names(["眉县", "鼓楼区", "合计"], default_scope=SCOPE)
    assert out["合计"].status == "ambiguous"


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
