"""`python -m etl …`: the data clerk's and the operator's commands.

Every command takes `--data-dir` (default `data/`, or `MZ_DATA_DIR`). Progress goes to
stderr with rich; summaries are plain lines so they read well in logs and CI. `build`, `load`
and `rollback` wait for another publish in progress (one line on stderr says so) for up to
`MZ_PUBLISH_WAIT` seconds, then exit 1 with nothing changed.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from . import pipeline, settings, warehouse
from .issues import IssueList
from .paths import data_dir, sample_dir

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress_bar():
    """A rich progress bar fed by the pipeline's (step, done, total) callback."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(step: str, done: int, total: int) -> None:
            if step == pipeline.WAITING:  # a line of its own, also in logs (the bar is for terminals)
                _say_waiting()
                return
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=max(total, 1))
            bar.update(tasks[step], completed=done, total=max(total, 1))

        yield update


def _say_waiting() -> None:
    err.print(
        f"{pipeline.WAITING}（另一项导入、重建或回滚正在进行；最多等待 {warehouse.publish_wait():g} 秒，"
        f"可用环境变量 {warehouse.ENV_PUBLISH_WAIT} 调整）",
        markup=False,
    )


def _print_issues(issues: IssueList, limit: int = 200) -> None:
    for issue in issues.errors[:limit]:
        out.print(issue.as_text(), markup=False)
    if len(issues.errors) > limit:
        out.print(f"……另有 {len(issues.errors) - limit} 条错误未显示（用 --json 查看全部）", markup=False)
    for issue in issues.warnings[:limit]:
        out.print(issue.as_text(), markup=False)
    if len(issues.warnings) > limit:
        out.print(f"……另有 {len(issues.warnings) - limit} 条警告未显示", markup=False)
    for issue in issues.notes[:limit]:  # how sheets were read (which import recipe)
        out.print(issue.as_text(), markup=False)


def _summary(outcome: pipeline.Outcome, base: Path) -> None:
    issues = outcome.issues
    if not outcome.ok:
        out.print(
            f"未导入：发现 {len(issues.errors)} 个错误、{len(issues.warnings)} 个警告。"
            "数据仓库未作任何改动。",
            markup=False,
        )
        return
    label = "（示例数据）" if outcome.is_sample else ""
    if outcome.changed:
        out.print(
            f"已发布新版本 {outcome.version}{label}：{len(outcome.inputs)} 个文件，"
            f"{outcome.fact_count} 条数据，{len(issues.warnings)} 个警告。",
            markup=False,
        )
    else:
        out.print(f"数据无变化，当前版本仍为 {outcome.version}{label}。", markup=False)
    out.print(f"数据库：{warehouse.current_db(base)}", markup=False)


def cmd_build(args) -> int:
    base = data_dir(args.data_dir)
    with progress_bar() as update:
        outcome = pipeline.build(base, update)
    _print_issues(outcome.issues, args.limit)
    _summary(outcome, base)
    return 0 if outcome.ok else 1


def _recipe_option(args, base: Path) -> dict | None:
    """`--recipe NAME` as pipeline keyword arguments; None (after a Chinese line on stderr) when
    no valid recipe has that name."""
    if not args.recipe:
        return {}
    from .recipes import load_recipes

    found, problems = load_recipes(base)
    if not any(r.name == args.recipe for r in found):
        for issue in problems:
            err.print(issue.as_text(), markup=False)
        err.print(
            f"没有名为“{args.recipe}”的可用导入配方。用“python -m etl recipes”列出已有的导入配方。",
            markup=False,
        )
        return None
    return {"recipe": args.recipe}


def cmd_load(args) -> int:
    base = data_dir(args.data_dir)
    options = _recipe_option(args, base)
    if options is None:
        return 1
    with progress_bar() as update:
        outcome = pipeline.load(base, [Path(f) for f in args.files], update, region=args.region, **options)
    _print_issues(outcome.issues, args.limit)
    _summary(outcome, base)
    return 0 if outcome.ok else 1


def cmd_validate(args) -> int:
    base = data_dir(args.data_dir)
    options = _recipe_option(args, base)
    if options is None:
        return 1
    with progress_bar() as update:
        outcome = pipeline.validate(
            base, [Path(f) for f in args.files], update, region=args.region, **options
        )
    if args.json:
        print(outcome.issues.to_json())
    else:
        _print_issues(outcome.issues, args.limit)
        verdict = "可以导入" if outcome.ok else "不能导入"
        out.print(
            f"校验结果：{verdict}（{len(outcome.issues.errors)} 个错误，"
            f"{len(outcome.issues.warnings)} 个警告）。",
            markup=False,
        )
    return 0 if outcome.ok else 1


def cmd_recipes(args) -> int:
    """List the data dir's import recipes, print one (`--show`), or delete one (`--delete`).

    Deleting from the command line is not written to the audit log: that log belongs to the
    dashboard (`dashboard/audit.py`, who did what in 数据管理); the 导入向导 records its deletions."""
    from . import recipes

    base = data_dir(args.data_dir)
    try:
        if args.show:
            print(recipes.recipe_text(base, args.show), end="")
            return 0
        if args.delete:
            path = recipes.delete_recipe(base, args.delete)
            out.print(f"已删除导入配方“{args.delete}”（{path}）。", markup=False)
            return 0
    except recipes.RecipeError as exc:
        err.print(str(exc), markup=False)
        return 1
    found, problems = recipes.load_recipes(base)
    if not found and not problems:
        out.print(
            f"尚无导入配方（{recipes.recipes_dir(base)}）。可在“数据管理”的“导入向导”中建立。", markup=False
        )
        return 0
    catalog = _catalog()
    for r in found:
        mapped = "，".join(
            f"{m.column}列→{catalog.get(m.indicator).name_zh}" + (f"（{m.unit}）" if m.unit else "")
            for m in r.indicators
        )
        out.print(
            f"{r.name}  {r.author or '（未署名）'}  {r.created or '—'}  {len(r.indicators)}列：{mapped}",
            markup=False,
        )
    for issue in problems:
        out.print(issue.as_text(), markup=False)
    return 1 if problems else 0


def _catalog():
    from .catalog import load_catalog

    return load_catalog()


def cmd_template(args) -> int:
    from .template import write_template

    path = write_template(args.city, args.year, Path(args.out))
    out.print(f"已生成填报模板：{path}", markup=False)
    return 0


def cmd_settings(args) -> int:
    print(settings.markdown_table(), end="")
    return 0


def cmd_where(args) -> int:
    db = warehouse.current_db(data_dir(args.data_dir))
    if db is None:
        err.print("尚无已发布的数据仓库。请先运行：python -m etl build", markup=False)
        return 1
    print(db)
    return 0


def cmd_versions(args) -> int:
    base = data_dir(args.data_dir)
    current = warehouse.current_version(base)
    versions = warehouse.list_versions(base)
    if not versions:
        out.print("尚无已发布的版本。", markup=False)
        return 0
    for v in versions:
        mark = "*" if v["version"] == current else " "
        kind = "示例数据" if v.get("is_sample") else "正式数据"
        facts = v.get("row_counts", {}).get("facts", 0)
        out.print(
            f"{mark} {v['version']}  {v['created']}  {kind}  {facts}条数据  {len(v.get('inputs', []))}个文件"
            f"  {v.get('user', '')}",
            markup=False,
        )
    return 0


def cmd_rollback(args) -> int:
    base = data_dir(args.data_dir)
    try:
        pipeline.rollback(base, args.version, progress=lambda step, done, total: _say_waiting())
    except (ValueError, warehouse.Busy) as exc:
        err.print(f"未回退：{exc}", markup=False)
        return 1
    except pipeline.WRITE_ERRORS as exc:
        err.print(f"未回退：{pipeline.write_failed_message(exc, '回滚')}", markup=False)
        return 1
    out.print(f"已回退到版本 {args.version}。", markup=False)
    return 0


def cmd_sample(args) -> int:
    from .sample import generate

    folder = sample_dir(data_dir(args.data_dir))
    files = generate(folder)
    out.print(f"已生成 {len(files)} 个示例数据文件（示例数据，非真实统计）：{folder}", markup=False)
    return 0


def _region_code(text: str) -> str:
    """--region as a code: a name or code of exactly one place, else a Chinese usage error."""
    from .regions import load_registry

    registry = load_registry()
    found = registry.place(text)
    if found.code and found.status in ("ok", "alias"):
        return found.code
    if found.status == "ambiguous":
        places = "、".join(f"{registry.full_name(c)}（{c}）" for c in found.candidates[:6])
        raise argparse.ArgumentTypeError(f"“{text}”有重名：{places}，请写6位代码或带上所属城市")
    raise argparse.ArgumentTypeError(f"“{text}”不是可识别的地区名称或6位区划代码")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m etl", description="民政数据看板 ETL：校验、导入、发布数据仓库。"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="数据目录（默认 data/，或环境变量 MZ_DATA_DIR）")
    common.add_argument("--limit", type=int, default=200, help="最多显示多少条错误/警告")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("build", parents=[common], help="从 raw/（为空时用示例数据）重建并发布").set_defaults(
        func=cmd_build
    )
    region = argparse.ArgumentParser(add_help=False)
    region.add_argument(
        "--region",
        type=_region_code,
        metavar="地区",
        help="表格所属地区（6位代码或名称，如 350400 或 三明市）：用于标题没有写明地区的单一地区统计表，"
        "以及表中无法确定的重名区县",
    )
    recipe = argparse.ArgumentParser(add_help=False)
    recipe.add_argument(
        "--recipe",
        metavar="配方名称",
        help="只按这个导入配方读取文件中的表（表头与配方不一致的表报错）；不写时自动选用表头相同的配方",
    )
    s = sub.add_parser("load", parents=[common, region, recipe], help="校验并导入文件，发布新版本")
    s.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_load)
    s = sub.add_parser("validate", parents=[common, region, recipe], help="只校验，不导入")
    s.add_argument("files", nargs="+")
    s.add_argument("--json", action="store_true", help="以 JSON 输出校验结果")
    s.set_defaults(func=cmd_validate)
    s = sub.add_parser(
        "recipes", parents=[common], help="列出导入配方（数据目录 recipes/ 下），或显示、删除其中一个"
    )
    action = s.add_mutually_exclusive_group()
    action.add_argument("--show", metavar="名称", help="显示该导入配方的 YAML 内容")
    action.add_argument("--delete", metavar="名称", help="删除该导入配方")
    s.set_defaults(func=cmd_recipes)
    s = sub.add_parser("template", parents=[common], help="生成区县填报模板")
    s.add_argument("--city", required=True, help="城市6位区划代码，如 610300")
    s.add_argument("--year", required=True, type=int)
    s.add_argument("--out", required=True, help="输出 .xlsx 文件")
    s.set_defaults(func=cmd_template)
    sub.add_parser("where", parents=[common], help="打印当前 DuckDB 文件路径").set_defaults(func=cmd_where)
    sub.add_parser("settings", help="打印全部设置（README 的“设置”表）").set_defaults(func=cmd_settings)
    sub.add_parser("versions", parents=[common], help="列出已发布版本").set_defaults(func=cmd_versions)
    s = sub.add_parser("rollback", parents=[common], help="回退到指定版本")
    s.add_argument("version")
    s.set_defaults(func=cmd_rollback)
    sub.add_parser("sample", parents=[common], help="重新生成示例数据输入文件").set_defaults(func=cmd_sample)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
