"""Every knob of the product in one place: the environment variables it reads and the limits it keeps.

Each knob is a `Setting` in `SETTINGS` (name, environment variable or None for a fixed limit,
default, unit, meaning), and the "设置 / Settings" table of README.md is generated from that list
(`python -m etl settings` prints it). tests/test_settings.py fails when the README table is stale
and when code anywhere in the product reads an environment variable that is not registered here,
so no knob goes undocumented again. The modules import their limits from here
(`from .settings import MAX_ROWS`) instead of defining their own.

The environment is read when a value is asked for (`Setting.value()` and the accessors at the
end), never at import, so a variable set after start (or by a test) counts. An empty value, or one
that cannot be read (MZ_PUBLISH_WAIT=abc), counts as unset: the default applies.

No Streamlit here: etl never imports it, and dashboard/ and deploy/ import this module.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str  # the Python name (a constant here, or the accessor's subject)
    env: str | None  # the environment variable that overrides it; None: fixed
    default: object
    unit: str  # of the value as the code uses it ("" for texts)
    meaning: str  # one line for the README table (Chinese, no "|")
    parse: Callable[[str], object] = str  # the environment's text → value; ValueError → default
    shown: str = ""  # the default as the README shows it, when the value says little

    def value(self) -> object:
        """The environment's value when set, non-empty and readable, else the default."""
        text = os.environ.get(self.env, "") if self.env else ""
        if not text.strip():
            return self.default
        try:
            return self.parse(text)
        except ValueError:
            return self.default


# ------------------------------------------------------------------ environment variables
ENV_DATA_DIR = "MZ_DATA_DIR"
ENV_CITIES = "MZ_CITIES"
ENV_PUBLISH_WAIT = "MZ_PUBLISH_WAIT"
ENV_ADMIN_PASSWORD_HASH = "MZ_ADMIN_PASSWORD_HASH"
ENV_BROWSER_PATH = "BROWSER_PATH"  # also what kaleido reads
ENV_COOKIE_SECRET = "STREAMLIT_SERVER_COOKIE_SECRET"  # also what Streamlit reads
ENV_STREAMLIT_LOG = "STREAMLIT_LOGGER_LEVEL"  # Streamlit's own; the deck command sets it
DECK_LOG_LEVEL = "error"
ENV_TRUSTED_PROXIES = "MZ_TRUSTED_PROXIES"
ENV_NUMPY_HUGEPAGE = "NUMPY_MADVISE_HUGEPAGE"  # numpy's own, read once at its import; etl sets it first
NUMPY_HUGEPAGE = "0"

DEFAULT_CITIES = ("610300", "350100", "659000")  # 宝鸡市, 福州市, 兵团师市
# How long a writer waits for another one: a build of the national file takes ~15 s, a clerk's
# upload a few seconds.
PUBLISH_WAIT = 300.0
BROWSER_PATH = "/usr/bin/chromium"

# ------------------------------------------------------------------ limits on input files (etl/sources.py)
# The national benchmark CSV (every county x 30 indicators x 10 years) has ~850,000 rows, so
# MAX_ROWS stays above it (Excel itself stops at 1,048,576); a county's return is a few hundred
# rows and a yearbook table ~20 columns.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLS = 500
MAX_CELL_CHARS = 1000
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # sum over the workbook's zip members
MAX_COMPRESSION_RATIO = 200  # for members over 1 MB; real sheet XML is ~5-30x
MAX_ZIP_MEMBERS = 10_000
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200  # raw/ adds a 31-byte prefix; Linux allows 255
MAX_SHOWN_CHARS = 50  # values quoted in messages

# ------------------------------------------------------------------ import recipes (etl/recipes.py)
MAX_RECIPE_BYTES = 64 * 1024  # a recipe is a few hundred bytes; hand-edited ones are read too
MAX_RECIPE_NAME_CHARS = 50  # the name is the file name: <data-dir>/recipes/<name>.yaml

# ------------------------------------------------------------------ issues listed one by one
MAX_LISTED_CELLS = 20  # per file, for cell-level text problems (etl/sources.py)
MAX_LISTED_WARNINGS = 500  # per warning class; the rest is summarised in one line (etl/validate.py)
MAX_CONFLICTS = 200  # values that differ between the files of one load (etl/pipeline.py)

# ------------------------------------------------------------------ publishing and administration
KEEP_VERSIONS = 5  # published versions kept (the current one always is)
UPLOAD_LIMIT_MB = 50  # a county's return is a few hundred KB; a national yearbook table a few MB
ADMIN_IDLE_SECONDS = 30 * 60
FAILED_LOGIN_WINDOW = 15 * 60
# Failed logins in the window, from all clients together, after which every login waits (1 s,
# doubling every 5 more failures, at most 30 s): a distributed guessing attack slows down, while a
# few failures of one client (which has its own, steeper per-address and per-session slow-down)
# do not delay anybody else.
GLOBAL_FAILED_LOGINS = 20
MIN_PASSWORD_LENGTH = 10
# nginx of `make serve` (deploy/nginx.conf.template): requests to Streamlit's upload endpoint per
# client address and minute, and the burst allowed above that rate (a clerk's handful of files;
# each file is one request, removing one from the uploader another).
UPLOAD_REQUESTS_PER_MINUTE = 30
UPLOAD_BURST = 20


def _seconds(text: str) -> float:
    return max(0.0, float(text))


def _networks(text: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks ("127.0.0.1, 10.0.0.0/8"), normalised; one unreadable
    entry makes the whole value unreadable, so the safe default (no proxy trusted) applies."""
    return tuple(str(ipaddress.ip_network(e.strip(), strict=False)) for e in text.split(",") if e.strip())


def _codes(text: str) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in text.split(",") if c.strip())
    if not codes:
        raise ValueError("no codes")
    return codes


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR",
        ENV_DATA_DIR,
        None,
        "",
        "数据目录：导入的原始文件（raw/）、示例数据、已发布的版本和审计日志；命令行 `--data-dir` 优先",
        shown="仓库内 `data/`",
    ),
    Setting(
        "DEFAULT_CITIES",
        ENV_CITIES,
        DEFAULT_CITIES,
        "",
        "默认地区：逗号分隔的地级区划代码，ETL 和看板共用",
        parse=_codes,
        shown="`610300,350100,659000`（宝鸡市、福州市、兵团师市）",
    ),
    Setting(
        "PUBLISH_WAIT",
        ENV_PUBLISH_WAIT,
        PUBLISH_WAIT,
        "秒",
        "另一项导入、重建或回滚正在进行时，发布最多等待的时间；超时则不做任何改动",
        parse=_seconds,
    ),
    Setting(
        "ADMIN_PASSWORD_HASH",
        ENV_ADMIN_PASSWORD_HASH,
        None,
        "",
        "管理员密码的 scrypt 哈希（`python -m dashboard hash-password` 生成）；"
        "未设置时读 `.streamlit/secrets.toml` 的 `[admin] password_hash`",
        shown="无（没有默认密码）",
    ),
    Setting(
        "BROWSER_PATH", ENV_BROWSER_PATH, BROWSER_PATH, "", "导出汇报材料时生成图表图片和 PDF 所用的 chromium"
    ),
    Setting(
        "DECK_LOG_LEVEL",
        ENV_STREAMLIT_LOG,
        DECK_LOG_LEVEL,
        "",
        "Streamlit 的日志级别；`python -m dashboard deck` 未设置时用 error，输出不夹带 Streamlit 警告",
    ),
    Setting(
        "COOKIE_SECRET",
        ENV_COOKIE_SECRET,
        None,
        "",
        "`make serve` 各副本共用的 Streamlit cookie 密钥",
        shown="每次启动随机生成",
    ),
    Setting(
        "TRUSTED_PROXIES",
        ENV_TRUSTED_PROXIES,
        (),
        "",
        "直接连接看板的反向代理地址（逗号分隔，可写网段）：只有来自这些地址的连接才采用代理给出的 "
        "`X-Real-IP` 作为用户地址（登录限速、审计日志），其他连接一律用连接本身的地址",
        parse=_networks,
        shown="无（不信任任何代理；`make serve` 为其副本设为 `127.0.0.1,::1`）",
    ),
    Setting(
        "NUMPY_HUGEPAGE",
        ENV_NUMPY_HUGEPAGE,
        NUMPY_HUGEPAGE,
        "",
        "etl 命令的进程里 numpy 是否为 4 MB 以上的数组申请透明大页（numpy 自己的变量，1 为申请）；"
        "默认不申请：内核的大页整理会让导入时快时慢",
    ),
    Setting("MAX_FILE_BYTES", None, MAX_FILE_BYTES, "字节", "一个输入文件的大小上限"),
    Setting("MAX_ROWS", None, MAX_ROWS, "行", "一个工作表的行数上限"),
    Setting("MAX_COLS", None, MAX_COLS, "列", "一个工作表的列数上限"),
    Setting("MAX_CELL_CHARS", None, MAX_CELL_CHARS, "字符", "一个单元格的字符数上限"),
    Setting(
        "MAX_UNCOMPRESSED_BYTES",
        None,
        MAX_UNCOMPRESSED_BYTES,
        "字节",
        "一个工作簿（xlsx 等压缩格式）解压后的总大小上限",
    ),
    Setting(
        "MAX_COMPRESSION_RATIO",
        None,
        MAX_COMPRESSION_RATIO,
        "倍",
        "工作簿中超过 1 MB 的内容解压后与压缩前之比的上限（防压缩炸弹）",
    ),
    Setting("MAX_ZIP_MEMBERS", None, MAX_ZIP_MEMBERS, "个", "一个工作簿压缩包内的文件数上限"),
    Setting("MAX_NAME_CHARS", None, MAX_NAME_CHARS, "字符", "上传文件保存和显示时文件名的字符数上限"),
    Setting("MAX_NAME_BYTES", None, MAX_NAME_BYTES, "字节", "上传文件保存时文件名的 UTF-8 字节数上限"),
    Setting("MAX_SHOWN_CHARS", None, MAX_SHOWN_CHARS, "字符", "问题说明中引用单元格内容的字符数上限"),
    Setting(
        "MAX_RECIPE_BYTES",
        None,
        MAX_RECIPE_BYTES,
        "字节",
        "一个导入配方文件（`<数据目录>/recipes/<名称>.yaml`）的大小上限，超过的不予读取",
    ),
    Setting(
        "MAX_RECIPE_NAME_CHARS", None, MAX_RECIPE_NAME_CHARS, "字符", "导入配方名称（即文件名）的字符数上限"
    ),
    Setting(
        "MAX_LISTED_CELLS", None, MAX_LISTED_CELLS, "条", "每个文件逐条列出的单元格文字问题数，其余合并为一条"
    ),
    Setting("MAX_LISTED_WARNINGS", None, MAX_LISTED_WARNINGS, "条", "每类警告逐条列出的条数，其余合并为一条"),
    Setting("MAX_CONFLICTS", None, MAX_CONFLICTS, "项", "一次导入中逐条列出的文件之间数值不同的数据项数"),
    Setting(
        "KEEP_VERSIONS",
        None,
        KEEP_VERSIONS,
        "个",
        "保留最近的几个已发布版本（当前版本总会保留）；回滚只能回到保留的版本",
    ),
    Setting(
        "UPLOAD_LIMIT_MB",
        None,
        UPLOAD_LIMIT_MB,
        "MB",
        "数据管理页面单个上传文件的大小上限（`.streamlit/config.toml` 的 `server.maxUploadSize` 与之相同）",
    ),
    Setting("ADMIN_IDLE_SECONDS", None, ADMIN_IDLE_SECONDS, "秒", "管理员无操作多久后自动退出"),
    Setting(
        "FAILED_LOGIN_WINDOW",
        None,
        FAILED_LOGIN_WINDOW,
        "秒",
        "统计登录失败次数的时间范围（同一地址、同一会话失败越多，下次登录前等待越久）",
    ),
    Setting(
        "GLOBAL_FAILED_LOGINS",
        None,
        GLOBAL_FAILED_LOGINS,
        "次",
        "所有用户合计登录失败达到此数（统计时间范围内）后，每次登录都要等待"
        "（1 秒起，每多 5 次加倍，最多 30 秒）",
    ),
    Setting(
        "MIN_PASSWORD_LENGTH", None, MIN_PASSWORD_LENGTH, "字符", "`hash-password` 接受的管理员密码最短长度"
    ),
    Setting(
        "UPLOAD_REQUESTS_PER_MINUTE",
        None,
        UPLOAD_REQUESTS_PER_MINUTE,
        "次/分钟",
        "`make serve` 的 nginx 对同一地址上传请求的速率限制（超出且超过突发量时答 429）",
    ),
    Setting(
        "UPLOAD_BURST", None, UPLOAD_BURST, "次", "`make serve` 的 nginx 在上述速率之外允许的突发上传请求数"
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}


# ------------------------------------------------------------------ accessors (read the environment now)
def data_dir_override() -> str | None:
    """`MZ_DATA_DIR` as written, or None (etl/paths.py resolves it and falls back to data/)."""
    return _BY_NAME["DATA_DIR"].value()


def default_cities() -> tuple[str, ...]:
    """The app's default area: `MZ_CITIES="610300,350100"`, else 宝鸡, 福州 and the 兵团 cities."""
    return _BY_NAME["DEFAULT_CITIES"].value()


def numpy_hugepage() -> str:
    """`NUMPY_MADVISE_HUGEPAGE` as set, else "0" (etl/__init__.py hands it to numpy)."""
    return _BY_NAME["NUMPY_HUGEPAGE"].value()


def publish_wait() -> float:
    """Seconds a writer waits for the publish lock: `MZ_PUBLISH_WAIT` (negative → 0), else PUBLISH_WAIT."""
    return _BY_NAME["PUBLISH_WAIT"].value()


def admin_password_hash() -> str | None:
    """`MZ_ADMIN_PASSWORD_HASH`, or None (dashboard/auth.py then reads the secrets)."""
    return _BY_NAME["ADMIN_PASSWORD_HASH"].value()


def browser_path() -> str:
    """The chromium that renders the meeting pack: `BROWSER_PATH`, else Debian's."""
    return _BY_NAME["BROWSER_PATH"].value()


def cookie_secret() -> str | None:
    """`STREAMLIT_SERVER_COOKIE_SECRET`, or None (deploy/serve.py then makes a random one)."""
    return _BY_NAME["COOKIE_SECRET"].value()


def trusted_proxies() -> tuple[str, ...]:
    """The networks whose connections may name the client (`X-Real-IP`): `MZ_TRUSTED_PROXIES`, else
    none. deploy/serve.py sets loopback for its replicas, whose only client is its own nginx."""
    return _BY_NAME["TRUSTED_PROXIES"].value()


# ------------------------------------------------------------------ the README table
def shown_default(setting: Setting) -> str:
    """The default as the README shows it: "256 MB", "1,800 秒（30 分钟）", "`/usr/bin/chromium`"."""
    value = setting.default
    if setting.shown:
        return setting.shown
    if isinstance(value, str):
        return f"`{value}`"
    if setting.unit == "字节" and value % 2**20 == 0:
        return f"{value // 2**20} MB"
    text = f"{value:,g}" if isinstance(value, float) else f"{value:,}"
    if setting.unit == "秒" and value >= 60 and value % 60 == 0:
        return f"{text} 秒（{value // 60:g} 分钟）"
    return f"{text} {setting.unit}".strip()


def markdown_table() -> str:
    """The "设置 / Settings" table of README.md, one row per setting."""
    lines = ["| 设置 | 环境变量 | 默认值 | 含义 |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | {f'`{s.env}`' if s.env else '—'} | {shown_default(s)} | {s.meaning} |")
    return "\n".join(lines) + "\n"
