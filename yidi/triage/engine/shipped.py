"""Retrain the default models shipped in `yidi/triage/trained/` from the seed corpus.

    .venv/bin/python -m yidi.triage.engine.shipped

Each taxonomy column of `data/seed_corpus.csv` gives one model. An empty cell means the taxonomy does not apply
to that text (a street light report has no 人民调解 type); those rows train the NOT_APPLICABLE class, so the
model can answer "not applicable" instead of forcing a label.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from yidi.triage.engine.model import NOT_APPLICABLE
from yidi.triage.engine.registry import SHIPPED_TAXONOMIES
from yidi.triage.engine.resources import PACKAGE_DATA_DIR, SHIPPED_MODELS_DIR
from yidi.triage.engine.train import train_with_held_out

SEED_CORPUS = PACKAGE_DATA_DIR / "seed_corpus.csv"


def corpus_rows(taxonomy: str, path: Path = SEED_CORPUS) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(row[taxonomy].strip() or NOT_APPLICABLE)
    return texts, labels


def train_shipped(taxonomy: str, out_root: Path = SHIPPED_MODELS_DIR) -> dict:
    texts, labels = corpus_rows(taxonomy)
    extra = {"source": {"file": SEED_CORPUS.name, "label_column": taxonomy}}
    model, metrics = train_with_held_out(
        texts, labels, taxonomy=taxonomy, progress=lambda message: None, extra_manifest=extra
    )
    model.save(out_root / taxonomy)
    return metrics


def main(argv: list[str]) -> int:
    for taxonomy in argv or SHIPPED_TAXONOMIES:
        metrics = train_shipped(taxonomy)
        print(f"{taxonomy}: held-out macro-F1 {metrics['macro_f1']:.4f}, accuracy {metrics['accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
