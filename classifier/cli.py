"""`hotline classifier …` commands. Plain click: the classifier package knows nothing of hotline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from classifier import artifacts
from classifier.errors import ClassifierError
from classifier.pipeline import FEATURE_CHOICES

DEFAULT_SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


SHARED_DATA_OPTION = click.option(
    "--shared-data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with citizen_messages/ (default: ../shared/data).",
)


def _fail(exc: ClassifierError) -> None:
    raise click.ClickException(str(exc)) from exc


@click.group("classifier")
def group() -> None:
    """Chinese call classifier: train, evaluate, predict."""


@group.command("train")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Authored corpus folder (default: classifier/corpus).",
)
@SHARED_DATA_OPTION
@click.option(
    "--extra",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Extra labelled CSV (e.g. exported feedback); repeatable.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=artifacts.DEFAULT_MODEL,
    show_default=True,
)
@click.option(
    "--features",
    type=click.Choice(FEATURE_CHOICES),
    default=None,
    help="Skip the comparison and use these features.",
)
@click.option("--seed", default=2026, show_default=True)
@click.option("--force", is_flag=True, help="Replace the model even if police recall drops.")
def train_command(
    corpus: Path | None,
    shared_data: Path | None,
    extra: tuple[Path, ...],
    output: Path,
    features: str | None,
    seed: int,
    force: bool,
) -> None:
    """Train from scratch; promote only if police recall on the hold-out does not drop."""
    from classifier.data import CORPUS_DIR
    from classifier.model_card import write_model_card
    from classifier.train import train, write_holdout

    shared = shared_data if shared_data is not None else DEFAULT_SHARED
    try:
        result = train(
            corpus or CORPUS_DIR,
            shared if shared.exists() else None,
            extra,
            seed=seed,
            features=features,
            log=click.echo,
        )  # type: ignore[arg-type]
        new_recall = result.report["police"]["police_recall"]
        if output.exists() and not force:
            from classifier.evaluate import evaluate_bundle

            try:
                current = evaluate_bundle(artifacts.load(output), result.holdout)
                old_recall = current["police"]["police_recall"]
            except ClassifierError as exc:
                click.echo(f"现有模型无法加载，将被替换：{exc}")
                old_recall = None
            if old_recall is not None and new_recall < old_recall:
                raise click.ClickException(
                    f"新模型警情召回率 {new_recall} 低于现有模型 {old_recall}，未替换"
                    "（确认无误可加 --force）"
                )
        artifacts.save(result.bundle, output)
        write_holdout(result.holdout, output.with_name("holdout.csv"))
        write_model_card(result.bundle.metadata, output.with_name("MODEL_CARD.md"))
    except ClassifierError as exc:
        _fail(exc)
    holdout = result.report["police"]
    click.echo(
        f"已保存 {output}：特征 {result.bundle.metadata['features']}，"
        f"阈值 {result.bundle.metadata['police_threshold']}，留出集警情召回率 "
        f"{holdout['police_recall']}，分流精确率 {holdout['diversion_precision']}"
    )


@group.command("cross-validate")
@SHARED_DATA_OPTION
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def cross_validate_command(shared_data: Path | None, model: Path | None, as_json: bool) -> None:
    """Re-run the model card's category figure: 5-fold CV over the real citizen messages with
    the model's features and seed, the authored training split always in training."""
    from classifier.data import CORPUS_DIR, load_all_citizen_messages, load_corpus
    from classifier.evaluate import format_report
    from classifier.train import REAL_MESSAGES, real_message_report, split_holdout

    folder = (shared_data if shared_data is not None else DEFAULT_SHARED) / REAL_MESSAGES
    try:
        meta = artifacts.load(model or artifacts.DEFAULT_MODEL).metadata
        real = load_all_citizen_messages(folder) if folder.is_dir() else []
        if not real:
            raise click.ClickException(f"{folder} 中没有带 subject、body、label 列的留言文件")
        train_set, _ = split_holdout(load_corpus(CORPUS_DIR), meta["seed"])
        report = real_message_report(train_set, real, meta["features"], meta["seed"])
    except ClassifierError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"公开留言 {len(real)} 条，5 折交叉验证（特征 {meta['features']}，种子 {meta['seed']}）"
    )
    click.echo(format_report({**report, "data": str(folder), "task": "category_level1"}))
    card = meta["metrics"].get("real_messages_level1_macro_f1_cv5")
    click.echo(f"macro-F1 {report['macro_f1']:.4f}（模型卡记录 {card}）")


@group.command("evaluate")
@click.option("--data", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text-column", required=True)
@click.option("--label-column", required=True)
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def evaluate_command(
    data: Path, text_column: str, label_column: str, model: Path | None, as_json: bool
) -> None:
    """Per-class precision/recall/F1, macro-F1, confusion matrix, police recall at threshold."""
    from classifier.evaluate import evaluate_file, format_report

    try:
        report = evaluate_file(model, data, text_column, label_column)
    except ClassifierError as exc:
        _fail(exc)
    click.echo(
        json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report)
    )


@group.command("predict")
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to classify (with --text-column); otherwise TEXTS or stdin lines.",
)
@click.option("--text-column", default="text", show_default=True)
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def predict_command(
    texts: tuple[str, ...],
    input_file: Path | None,
    text_column: str,
    model: Path | None,
    as_json: bool,
) -> None:
    """Classify transcripts: decision, police probability, category, and the words behind it."""
    from classifier.data import read_csv
    from classifier.predict import Classifier

    try:
        if input_file is not None:
            items = [r[text_column] for r in read_csv(input_file, (text_column,))]
        elif texts:
            items = list(texts)
        else:
            items = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        classifier = Classifier.load(model)
        for text in items:
            p = classifier.predict(text)
            if as_json:
                click.echo(json.dumps(p.to_dict(), ensure_ascii=False))
                continue
            prob = "—" if p.police_probability is None else f"{p.police_probability:.3f}"
            words = "、".join(t for t, _ in p.explanation) or "—"
            category = "/".join(c for c in (p.category_level1, p.category_level2) if c) or "—"
            extra = f"（{p.police_type}）" if p.police_type else ""
            click.echo(
                f"{p.decision}{extra}\tP(警情)={prob}\t{category}\t依据：{words}"
                + (f"\t{p.reason}" if p.reason else "")
            )
    except ClassifierError as exc:
        _fail(exc)
