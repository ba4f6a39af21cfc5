"""`yidi triage …`: train, evaluate, analyse and install triage models (wired by the lead to `yidi triage`).

Exit codes: 0 success, 2 bad input (unreadable CSV, missing column, rare label, incompatible model, empty text).
Progress goes to stderr; results to stdout (`evaluate` and `analyse` print exactly one JSON object).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from yidi.triage.engine.analysis import TriageContext, TriageInputError, analyse
from yidi.triage.engine.grading import GradingRulesError
from yidi.triage.engine.model import ModelFormatError

EXIT_BAD_INPUT = 2


class CommandError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yidi triage", description="矛调中心自动分级分类：训练、评估、分析、安装模型"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="从 CSV（或工作人员确认的反馈）训练模型")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="UTF-8 CSV，每行一条文本及其类别")
    source.add_argument("--from-feedback", action="store_true", help="用工作人员确认或更正的类别训练")
    train.add_argument("--text-column", default="text")
    train.add_argument("--label-column", default="label")
    train.add_argument(
        "--taxonomy", help="分类体系代码，如 mediation_type；不给时按类别自动识别，否则为 custom"
    )
    train.add_argument("--out", type=Path, required=True, help="模型目录（原子写入）")

    evaluate = commands.add_parser("evaluate", help="在带标签的 CSV 上评估模型，输出一个 JSON 对象")
    evaluate.add_argument("--model", type=Path, required=True)
    evaluate.add_argument("--data", type=Path, required=True)
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--label-column", default="label")

    analyse_cmd = commands.add_parser("analyse", help="分析一段文本（参数或标准输入），输出 JSON")
    analyse_cmd.add_argument("--model", type=Path, help="用这个模型目录代替其分类体系的当前模型")
    analyse_cmd.add_argument("--county", help="县级区划代码（如 330681），用于识别乡镇和村名")
    analyse_cmd.add_argument("text", nargs="?", help="要分析的文本；省略时从标准输入读取")

    install = commands.add_parser("install", help="校验并启用一个模型目录")
    install.add_argument("--model", type=Path, required=True)
    install.add_argument("--taxonomy", required=True)
    return parser


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has already printed the usage error
        return int(exit_.code or 0)
    try:
        return {"train": _train, "evaluate": _evaluate, "analyse": _analyse, "install": _install}[
            args.command
        ](args)
    except (CommandError, ModelFormatError, TriageInputError, GradingRulesError, ValueError) as error:
        print(f"错误：{error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _train(args) -> int:
    from yidi.triage.engine.train import train_from_csv

    out: Path = args.out
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").is_file())):
        raise CommandError(f"{out} 已存在且不是模型目录，拒绝覆盖")
    if args.from_feedback:
        if not args.taxonomy:
            raise CommandError("--from-feedback 需要同时给出 --taxonomy")
        with tempfile.TemporaryDirectory(prefix="yidi-feedback-") as workdir:
            data = Path(workdir) / "feedback.csv"
            count = _write_feedback_csv(args.taxonomy, data)
            _progress(f"反馈数据：{count} 条")
            model, metrics = train_from_csv(data, out=out, taxonomy=args.taxonomy, progress=_progress)
    else:
        model, metrics = train_from_csv(
            args.data,
            out=out,
            text_column=args.text_column,
            label_column=args.label_column,
            taxonomy=args.taxonomy,
            progress=_progress,
        )
    print(
        f"held-out macro-F1 = {metrics['macro_f1']:.4f} (accuracy {metrics['accuracy']:.4f}, n = {metrics['n']}); "
        f"model {model.model_version} written to {out}"
    )
    return 0


def _write_feedback_csv(taxonomy: str, path: Path) -> int:
    try:
        from yidi.triage.feedback import feedback_rows
    except Exception as error:  # ImportError, or Django not configured in this process
        raise CommandError(
            f"无法读取反馈数据（yidi.triage.feedback 不可用：{error}）；请在配置好数据库的环境中运行"
        ) from None
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for text, label in feedback_rows(taxonomy):
            writer.writerow([text, label])
            count += 1
    return count


def _evaluate(args) -> int:
    from yidi.triage.engine.model import LinearTextModel
    from yidi.triage.engine.train import evaluate, read_csv, scan_csv

    model = LinearTextModel.load(args.model)
    summary = scan_csv(
        args.data, text_column=args.text_column, label_column=args.label_column, for_training=False
    )
    texts, labels = read_csv(args.data, text_column=args.text_column, label_column=args.label_column)
    _progress(f"评估 {summary.rows} 行（{len(summary.label_counts)} 个类别）")
    print(json.dumps(evaluate(model, texts, labels), ensure_ascii=False))
    return 0


def _analyse(args) -> int:
    text = args.text if args.text is not None else sys.stdin.read()
    models = {}
    if args.model is not None:
        from yidi.triage.engine.registry import load_model

        model = load_model(args.model)
        models[model.taxonomy] = model
    context = TriageContext(county_code=args.county, reference_on=date.today(), models=models)
    analysis = analyse(text, context=context)
    result = analysis.to_dict()
    result["route"] = _route_suggestion(analysis)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _route_suggestion(analysis) -> dict:
    """Where the shipped routing rules would send the matter (the deployment's own rules live in its
    database; the staff pages use those). Pure: no database is needed."""
    from yidi.routing.domain import Facts, load_rules, route

    mediation = analysis.labels.get("mediation_type")
    places = analysis.facts.places
    place = max(places, key=lambda p: len(p.code)) if places else None  # the most precise place named
    facts = Facts(
        dispute_type=getattr(mediation, "label", None), grade=analysis.grade.grade,
        complexity=analysis.grade.complexity, region_code=place.code if place else None,
        region_level=place.level if place else None, amount=analysis.facts.amount_involved,
        people=analysis.facts.people_involved,
    )
    decision = route(facts, load_rules())
    return {
        "matched": decision.matched, "rule_id": decision.rule_id,
        "handling_level": decision.handling_level.value if decision.handling_level else None,
        "lead": decision.lead.label() if decision.lead else None,
        "co_units": [unit.label() for unit in decision.co_units], "reasons": list(decision.reasons),
    }


def _install(args) -> int:
    from yidi.triage.engine.registry import install_model

    target = install_model(args.model, args.taxonomy)
    print(f"已启用 {args.taxonomy} 模型：{target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
