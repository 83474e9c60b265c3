"""One registry of settings (etl/settings.py): complete, documented in the README, read at call time."""

import re
import tomllib
from pathlib import Path

import pytest

from etl import paths, settings, warehouse
from etl.regions import default_cities

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("app.py", "etl", "dashboard", "pages", "deploy")  # the code that runs, not tests or tools
START, END = "<!-- settings:start -->", "<!-- settings:end -->"

# A variable read by name: os.environ.get("X"), os.getenv("X"), os.environ["X"], os.environ.setdefault("X").
_READ_LITERAL = re.compile(
    r"""(?:environ\.(?:get|setdefault|pop)|getenv)\(\s*(['"])(\w+)\1"""
    r"""|environ\[\s*(['"])(\w+)\3\s*\]"""
)
# Any variable name of ours written as a string, wherever it is used (ENV_X = "MZ_…", env dicts …).
_NAMED = re.compile(r"""['"]((?:MZ|STREAMLIT)_[A-Z0-9_]+|BROWSER_PATH)['"]""")
# Reading the environment (not writing it: `os.environ[X] = …`, nor passing it on: `{**os.environ}`).
_READS = re.compile(r"environ\.get\(|getenv\(|environ\[[^\]]+\](?!\s*=[^=])")


def product_sources():
    for name in PRODUCT:
        path = REPO / name
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def registered_env() -> set[str]:
    return {s.env for s in settings.SETTINGS if s.env}


def test_readme_table_is_generated_from_the_settings():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, f"README.md needs {START} … {END} around it"
    shown = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == settings.markdown_table().strip(), (
        "README.md's settings table differs from etl/settings.py: run `.venv/bin/python -m etl settings` "
        f"and paste its output between {START} and {END} in README.md"
    )


def test_the_registry_is_well_formed():
    names = [s.name for s in settings.SETTINGS]
    envs = [s.env for s in settings.SETTINGS if s.env]
    assert len(names) == len(set(names)) and len(envs) == len(set(envs))
    for s in settings.SETTINGS:
        assert s.meaning and "|" not in s.meaning and "\n" not in s.meaning, s.name
        assert s.env or s.default is not None, f"{s.name}: a fixed limit needs its value"
    # Every constant of the module is a registered setting (or an environment variable's name).
    constants = {
        n for n in vars(settings) if n.isupper() and not n.startswith(("ENV_", "_")) and n != "SETTINGS"
    }
    assert constants <= set(names), f"constants missing from SETTINGS: {sorted(constants - set(names))}"
    for s in settings.SETTINGS:
        if s.name in constants:
            assert getattr(settings, s.name) == s.default, s.name
    env_constants = {v for n, v in vars(settings).items() if n.startswith("ENV_")}
    assert env_constants == registered_env()


def env_names(text: str) -> list[str]:
    return [m.group(2) or m.group(4) for m in _READ_LITERAL.finditer(text)] + _NAMED.findall(text)


def test_the_scan_finds_variables():
    sample = """os.environ.get("A_B"), os.getenv('C'), os.environ["D"], env["MZ_NEW"] = 1,
                x = {"STREAMLIT_SERVER_PORT": "1"}, os.environ.setdefault("BROWSER_PATH", p)"""
    assert set(env_names(sample)) == {"A_B", "C", "D", "MZ_NEW", "STREAMLIT_SERVER_PORT", "BROWSER_PATH"}
    assert _READS.search("os.environ.get(NAME)") and _READS.search("x = os.environ[NAME]")
    assert not _READS.search("os.environ[NAME] = value") and not _READS.search("{**os.environ, NAME: v}")


def test_every_environment_variable_read_is_registered():
    found: dict[str, str] = {}
    for path in product_sources():
        for name in env_names(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(REPO)))
    missing = {name: where for name, where in found.items() if name not in registered_env()}
    assert not missing, f"environment variables read but not in etl/settings.py SETTINGS: {missing}"


def test_only_the_settings_module_reads_the_environment():
    readers = [
        str(p.relative_to(REPO))
        for p in product_sources()
        if p != REPO / "etl" / "settings.py" and _READS.search(p.read_text(encoding="utf-8"))
    ]
    assert not readers, f"read the environment through etl/settings.py accessors instead: {readers}"


def test_publish_wait_from_the_environment(monkeypatch):
    monkeypatch.delenv(settings.ENV_PUBLISH_WAIT, raising=False)
    assert warehouse.publish_wait() == settings.PUBLISH_WAIT == 300
    for text, expected in [
        ("0.5", 0.5),
        (" 2 ", 2.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("abc", 300.0),
        ("", 300.0),
        ("  ", 300.0),
    ]:
        monkeypatch.setenv("MZ_PUBLISH_WAIT", text)
        assert warehouse.publish_wait() == expected, text


def test_cities_from_the_environment(monkeypatch):
    monkeypatch.delenv("MZ_CITIES", raising=False)
    assert default_cities() == settings.DEFAULT_CITIES == ("610300", "350100", "659000")
    monkeypatch.setenv("MZ_CITIES", " 610300 ,320100,")
    assert default_cities() == ("610300", "320100")
    for blank in ("", " , ,"):
        monkeypatch.setenv("MZ_CITIES", blank)
        assert default_cities() == settings.DEFAULT_CITIES


def test_data_dir_and_the_other_variables(monkeypatch, tmp_path):
    for env in registered_env():
        monkeypatch.delenv(env, raising=False)
    assert paths.data_dir() == paths.REFERENCE_DIR
    assert settings.admin_password_hash() is None and settings.cookie_secret() is None
    assert settings.browser_path() == "/usr/bin/chromium"
    monkeypatch.setenv("MZ_DATA_DIR", str(tmp_path))
    assert paths.data_dir() == tmp_path.resolve()
    monkeypatch.setenv("MZ_DATA_DIR", "")
    assert paths.data_dir() == paths.REFERENCE_DIR
    monkeypatch.setenv("BROWSER_PATH", "/opt/chromium/chrome")
    monkeypatch.setenv("STREAMLIT_SERVER_COOKIE_SECRET", "s3cret")
    monkeypatch.setenv("MZ_ADMIN_PASSWORD_HASH", "scrypt$1")
    assert settings.browser_path() == "/opt/chromium/chrome" and settings.cookie_secret() == "s3cret"
    assert settings.admin_password_hash() == "scrypt$1"


@pytest.mark.parametrize(
    "setting, shown",
    [
        ("MAX_FILE_BYTES", "256 MB"),
        ("MAX_ROWS", "1,000,000 行"),
        ("ADMIN_IDLE_SECONDS", "1,800 秒（30 分钟）"),
        ("PUBLISH_WAIT", "300 秒（5 分钟）"),
        ("MAX_NAME_BYTES", "200 字节"),
        ("BROWSER_PATH", "`/usr/bin/chromium`"),
    ],
)
def test_defaults_are_shown_readably(setting, shown):
    assert settings.shown_default(next(s for s in settings.SETTINGS if s.name == setting)) == shown


def test_streamlit_upload_cap_equals_the_app_limit():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == settings.UPLOAD_LIMIT_MB
