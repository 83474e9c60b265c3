"""`python -m dashboard …`: the meeting pack and the administrator password from the command line.

    python -m dashboard deck --region 610300 [--year 2024|latest] [--children 610302,610326] \\
        [--slides cover,kpi,elderly_care-trend] --out 宝鸡_2024.pptx|.pdf
    python -m dashboard deck --list-slides      # the slide ids and titles, in default order
    python -m dashboard hash-password     # asks twice, prints the line for secrets.toml

`deck` reads the current warehouse of the data dir (`--data-dir` or MZ_DATA_DIR), like the app;
`--region` is any level (100000 全国, a province 610000, a city 610300; `--city` still works),
`--children` some of its children (`--counties` still works); `--year latest` (the default) is
the latest year with data for the region. Streamlit's own log
lines (no runtime, no script context: the cached helpers run here without a server) are
silenced, so stdout and stderr hold only the command's own Chinese lines.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import time
from pathlib import Path

from etl import settings
from etl.settings import ENV_ADMIN_PASSWORD_HASH, ENV_DATA_DIR, MIN_PASSWORD_LENGTH


def _quiet_streamlit() -> None:
    """Streamlit's loggers at ERROR before any dashboard module is imported: importing one
    decorates functions with st.cache_data outside a runtime ("No runtime found"), and calling
    them warns of a "missing ScriptRunContext". `set_log_level` sets every Streamlit logger made
    so far and the level of those made later; the environment variable keeps it there when
    Streamlit parses its config."""
    os.environ.setdefault(settings.ENV_STREAMLIT_LOG, settings.DECK_LOG_LEVEL)
    from streamlit import logger

    logger.set_log_level("ERROR")
    logging.getLogger("streamlit").setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="民政数据看板：导出汇报材料")
    sub = parser.add_subparsers(dest="command", required=True)
    deck = sub.add_parser("deck", help="导出演示文稿（PPTX 或 PDF）")
    deck.add_argument(
        "--region", "--city", dest="region", default=None, help="地区代码：全国 100000、省 610000、市 610300"
    )
    deck.add_argument(
        "--year", default="latest", help="数据年份，例如 2024；默认 latest（该地区有数据的最近年份）"
    )
    deck.add_argument(
        "--children", "--counties", dest="children", default="", help="逗号分隔的下级地区代码；默认全部"
    )
    deck.add_argument(
        "--slides", default="", help="逗号分隔的页面代码；默认全部，例如 cover,kpi,elderly_care-trend"
    )
    deck.add_argument("--from-year", type=int, default=None, help="走势起始年份；默认最早有数据的年份")
    deck.add_argument("--out", default=None, help="输出文件 .pptx 或 .pdf")
    deck.add_argument("--list-slides", action="store_true", help="列出页面代码和名称（按默认顺序）后退出")
    deck.add_argument("--data-dir", default=None)
    sub.add_parser("hash-password", help="生成管理员密码的哈希值（写入 .streamlit/secrets.toml）")
    args = parser.parse_args(argv)
    if args.command == "hash-password":
        return _hash_password()
    if args.data_dir:
        os.environ[ENV_DATA_DIR] = str(Path(args.data_dir).resolve())
    _quiet_streamlit()

    from . import deck as deck_model

    known = deck_model.slide_ids()
    ids = [s for s in args.slides.split(",") if s] or known
    bad = [s for s in ids if s not in known]
    if bad:
        print(f"未知的页面代码：{','.join(bad)}。可用：{','.join(known)}", file=sys.stderr)
        return 1
    if args.list_slides:
        titles = deck_model.slide_titles()
        for slide_id in ids:
            print(f"{slide_id}\t{titles.get(slide_id, slide_id)}")
        return 0
    if not args.region:
        print(
            "请用 --region 指定地区代码，例如 --region 610300（宝鸡市）或 --region 610000（陕西省）。",
            file=sys.stderr,
        )
        return 1
    if not args.out:
        print("请用 --out 指定输出文件（.pptx 或 .pdf）。", file=sys.stderr)
        return 1
    if Path(args.out).suffix.lower() not in (".pptx", ".pdf"):
        print(f"输出文件须为 .pptx 或 .pdf：{args.out}", file=sys.stderr)
        return 1
    year_text = args.year.strip().lower()
    if year_text != "latest" and not year_text.isdigit():
        print(f"年份“{args.year}”无效：须为四位数字（例如 2024）或 latest。", file=sys.stderr)
        return 1

    from etl import warehouse
    from etl.paths import data_dir

    from . import meeting_pack, store

    if warehouse.current_db(data_dir()) is None:
        print("数据仓库为空：请先运行 python -m etl build。", file=sys.stderr)
        return 1
    region = args.region
    children = store.children_of(region) if region in store.regions_with_views() else ()
    if not children:
        print(f"“{region}”不是有数据的地区代码。", file=sys.stderr)
        return 1
    chosen = tuple(c for c in args.children.split(",") if c) or children
    unknown = [c for c in chosen if c not in children]
    if unknown:
        print(f"下级地区代码 {','.join(unknown)} 不属于 {store.region_name(region)}。", file=sys.stderr)
        return 1
    years = store.years(region)
    if not years:
        print(f"{store.region_name(region)}没有任何年份的数据。", file=sys.stderr)
        return 1
    year = years[-1] if year_text == "latest" else int(year_text)
    if year not in years:
        print(
            f"{store.region_name(region)}没有 {year} 年的数据；有数据的年份：{years[0]}—{years[-1]}。",
            file=sys.stderr,
        )
        return 1
    scope = deck_model.Scope(region, year, chosen, args.from_year or years[0])
    start = time.perf_counter()
    slides = deck_model.build(scope, ids)
    # the deck's title (PDF and PPTX properties) is the cover's, also when the cover is left out
    cover = slides if "cover" in ids else deck_model.build(scope, ["cover"])
    title = next((s.title for s in cover if s.id == "cover"), None)
    out = meeting_pack.write(
        slides,
        Path(args.out),
        store.is_sample(),
        progress=lambda done, text: print(f"[{done:4.0%}] {text}", flush=True),
        title=title,
    )
    print(f"已导出 {len(slides)} 页（{year}年）：{out}（{time.perf_counter() - start:.1f} 秒）")
    return 0


def _hash_password() -> int:
    """Ask for the password twice (or read one line from a pipe) and print the hash to paste."""
    from .auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("管理员密码：")
        if getpass.getpass("再次输入：") != password:
            print("两次输入不一致。", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"密码太短：至少 {MIN_PASSWORD_LENGTH} 个字符。", file=sys.stderr)
        return 1
    digest = hash_password(password)
    print("# 写入 .streamlit/secrets.toml（不要提交到代码库）：")
    print("[admin]")
    print(f'password_hash = "{digest}"')
    print(f"# 或设置环境变量（单引号保留 $ 符号）：export {ENV_ADMIN_PASSWORD_HASH}='{digest}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
