"""Training and evaluation of the linear text classifiers (needs numpy, scipy and scikit-learn).

The method, in order:
1. features: sublinear TF-IDF of rjieba word 1–2-grams and character 1–3-grams (digits folded to 0), each block
   L2-normalised, plus one feature per label counting that label's lexicon terms (when a lexicon applies);
2. model selection: a small grid over the linear SVM's regularisation (class-balanced) and the weights of the
   character block and of the lexicon features, scored by stratified cross-validated macro-F1 on the training
   rows (one held-out fold for large data);
3. calibration: a softmax temperature fitted on the out-of-fold scores of the chosen configuration, so that the
   confidences are calibrated probabilities whatever the classifier;
4. the chosen configuration refitted on all training rows.
Data larger than `STREAMING_THRESHOLD` rows is streamed instead: the rows are dealt into shuffled shard files,
the vocabulary comes from a reservoir sample, and an SGD classifier reads the shards in chunks (3 passes).
"""

from __future__ import annotations

import codecs
import csv
import math
import platform
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from yidi.core.taxonomies import TAXONOMY_BY_CODE
from yidi.triage.engine.features import FeatureConfig, Lexicon, Vectorizer, text_features
from yidi.triage.engine.model import NOT_APPLICABLE, LinearTextModel
from yidi.triage.engine.resources import LEXICON_DIR
from yidi.triage.engine.text import segmenter_name

STREAMING_THRESHOLD = 120_000  # rows; above this the data is streamed through SGD instead of held in memory
VOCABULARY_SAMPLE = 60_000  # rows used to choose the vocabulary
MAX_WORDS = 150_000
MAX_CHARS = 200_000
TEST_FRACTION = 0.2
SEED = 20260305

Progress = Callable[[str], None]


class TrainingDataError(ValueError):
    """Training data that cannot be used; the message names the problem (file, line, column or label)."""


# ---------------------------------------------------------------------------------------------- reading CSV
def check_utf8(path: Path) -> None:
    """Raise TrainingDataError naming the line and byte offset of the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad = offset + error.start
                line = lines + chunk[: error.start].count(b"\n") + 1
                raise TrainingDataError(
                    f"{path} 不是 UTF-8 编码：第 {line} 行（字节偏移 {bad}）的字节 0x{chunk[error.start]:02x} 无法解码；"
                    "请另存为 UTF-8 后重试"
                ) from None
            lines += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise TrainingDataError(
                f"{path} 不是 UTF-8 编码：文件末尾（字节偏移 {offset}）有不完整的字符"
            ) from None


def _open_rows(path: Path, text_column: str, label_column: str) -> Iterator[tuple[int, str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise TrainingDataError(f"{path} 是空文件，没有表头也没有数据")
        header = [column.strip() for column in header]
        for column in (text_column, label_column):
            if column not in header:
                raise TrainingDataError(
                    f"{path} 缺少列 {column!r}；找到的列：{', '.join(repr(c) for c in header)}"
                    "（可用 --text-column / --label-column 指定）"
                )
        text_at, label_at = header.index(text_column), header.index(label_column)
        width = max(text_at, label_at)
        for row in reader:
            if len(row) <= width:
                continue
            yield reader.line_num, row[text_at], row[label_at].strip()


@dataclass
class CsvSummary:
    rows: int
    label_counts: Counter
    skipped: int  # rows without text or without label


def scan_csv(
    path: str | Path, *, text_column: str = "text", label_column: str = "label", for_training: bool = True
) -> CsvSummary:
    """Validate a CSV in one streaming pass: encoding, columns, emptiness and, for training, ≥ 2 labels each
    with ≥ 2 examples."""
    path = Path(path)
    if not path.is_file():
        raise TrainingDataError(f"找不到文件 {path}")
    if path.stat().st_size == 0:
        raise TrainingDataError(f"{path} 是空文件")
    check_utf8(path)
    counts: Counter = Counter()
    skipped = 0
    for _, text, label in _open_rows(path, text_column, label_column):
        if not text.strip() or not label:
            skipped += 1
            continue
        counts[label] += 1
    if not counts:
        raise TrainingDataError(f"{path} 没有可用的数据行（需要非空的 {text_column!r} 和 {label_column!r}）")
    if not for_training:
        return CsvSummary(sum(counts.values()), counts, skipped)
    if len(counts) < 2:
        raise TrainingDataError(f"{path} 只有一个类别 {next(iter(counts))!r}，至少需要两个类别")
    rare = sorted(label for label, count in counts.items() if count < 2)
    if rare:
        raise TrainingDataError(
            "以下类别的样本少于 2 条，无法训练和分层抽样："
            + "、".join(f"{label!r}（{counts[label]} 条）" for label in rare)
        )
    return CsvSummary(sum(counts.values()), counts, skipped)


def iter_csv(
    path: str | Path, *, text_column: str = "text", label_column: str = "label"
) -> Iterator[tuple[str, str]]:
    """(text, label) of every usable row, streamed."""
    for _, text, label in _open_rows(Path(path), text_column, label_column):
        if text.strip() and label:
            yield text, label


def read_csv(
    path: str | Path, *, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for text, label in iter_csv(path, text_column=text_column, label_column=label_column):
        texts.append(text)
        labels.append(label)
    return texts, labels


# ---------------------------------------------------------------------------------------------- lexicon
def detect_taxonomy(labels: Iterable[str]) -> str | None:
    """The known taxonomy whose codes or Chinese names contain every label (ignoring NOT_APPLICABLE)."""
    label_set = {label for label in labels if label != NOT_APPLICABLE}
    for spec in TAXONOMY_BY_CODE.values():
        codes = {code for code, _ in spec.labels}
        names = {name for _, name in spec.labels}
        if label_set and (label_set <= codes or label_set <= names):
            return spec.code
    return None


def lexicon_for(taxonomy: str | None, labels: Iterable[str]) -> Lexicon | None:
    """The shipped lexicon of a taxonomy, keyed by the label strings the data uses (codes or Chinese names)."""
    if not taxonomy:
        return None
    path = LEXICON_DIR / f"{taxonomy}.csv"
    spec = TAXONOMY_BY_CODE.get(taxonomy)
    if not path.is_file():
        return None
    lexicon = Lexicon.from_csv(path)
    label_set = set(labels)
    if spec is not None and not label_set & set(lexicon.entries):
        by_name = {code: name for code, name in spec.labels}
        lexicon = lexicon.relabelled({code: by_name[code] for code in lexicon.entries if code in by_name})
    lexicon = Lexicon({label: terms for label, terms in lexicon.entries.items() if label in label_set})
    return lexicon if lexicon else None


# ---------------------------------------------------------------------------------------------- splitting
def stratified_split(labels: Sequence[str], *, test_fraction: float = TEST_FRACTION, seed: int = SEED):
    """(train indices, test indices): every label keeps ≥ 1 row on each side, about `test_fraction` held out."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    train, test = [], []
    for label in sorted(by_label):
        rows = np.array(by_label[label])
        rng.shuffle(rows)
        n_test = min(len(rows) - 1, max(1, round(len(rows) * test_fraction)))
        test.extend(rows[:n_test].tolist())
        train.extend(rows[n_test:].tolist())
    return sorted(train), sorted(test)


# ---------------------------------------------------------------------------------------------- vocabulary
def build_vectorizer(
    texts: Sequence[str], config: FeatureConfig, lexicon: Lexicon | None, labels: Sequence[str]
) -> Vectorizer:
    """Vocabulary and IDF from (a sample of) the training texts; rare n-grams dropped on large data."""
    sample = texts
    if len(texts) > VOCABULARY_SAMPLE:
        picks = np.random.default_rng(SEED).choice(len(texts), VOCABULARY_SAMPLE, replace=False)
        sample = [texts[i] for i in sorted(picks)]
    word_df: Counter = Counter()
    char_df: Counter = Counter()
    for text in sample:
        features = text_features(text, config)
        word_df.update(features.words.keys())
        char_df.update(features.chars.keys())
    n_docs = len(sample)
    min_df = 1 if n_docs < 5_000 else 2
    words = _top(word_df, min_df, MAX_WORDS)
    chars = _top(char_df, min_df, MAX_CHARS)
    idf = np.array(
        [math.log((1 + n_docs) / (1 + word_df[w])) + 1 for w in words]
        + [math.log((1 + n_docs) / (1 + char_df[c])) + 1 for c in chars],
        dtype=np.float32,
    )
    lexicon_labels = sorted(set(lexicon.entries) & set(labels)) if lexicon else []
    return Vectorizer(config, words, chars, idf, lexicon, lexicon_labels)


def _top(df: Counter, min_df: int, limit: int) -> list[str]:
    kept = [(gram, count) for gram, count in df.items() if count >= min_df]
    kept.sort(key=lambda item: (-item[1], item[0]))
    return sorted(gram for gram, _ in kept[:limit])


# ---------------------------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class Candidate:
    c: float  # SVM regularisation
    char_weight: float  # weight of the character block against the word block
    lexicon_weight: float  # weight of the lexicon features (ignored without a lexicon)

    def describe(self) -> str:
        return f"svm(C={self.c}, char_weight={self.char_weight}, lexicon_weight={self.lexicon_weight})"


GRID_C = (0.3, 1.0, 3.0)
GRID_CHAR_WEIGHT = (1.0, 2.5)
GRID_LEXICON_WEIGHT = (0.05, 0.15)


def candidates(has_lexicon: bool) -> list[Candidate]:
    lexicon_weights = GRID_LEXICON_WEIGHT if has_lexicon else (0.0,)
    return [Candidate(c, cw, lw) for c in GRID_C for cw in GRID_CHAR_WEIGHT for lw in lexicon_weights]


def _estimator(candidate: Candidate):
    from sklearn.svm import LinearSVC

    return LinearSVC(C=candidate.c, class_weight="balanced", max_iter=5000)


def _scaled(matrix, blocks: tuple[int, int, int], candidate: Candidate):
    """The matrix with the char block and the lexicon columns re-weighted (the vectorizer built it with 1.0)."""
    from scipy import sparse

    n_words, n_chars, n_lexicon = blocks
    scale = np.ones(n_words + n_chars + n_lexicon, dtype=np.float32)
    scale[n_words : n_words + n_chars] = candidate.char_weight
    scale[n_words + n_chars :] = candidate.lexicon_weight
    return (matrix @ sparse.diags(scale)).tocsr()


def _decision(estimator, matrix, n_labels: int) -> np.ndarray:
    scores = estimator.decision_function(matrix)
    if n_labels == 2:
        scores = np.column_stack([-scores / 2, scores / 2])
    return np.asarray(scores, dtype=np.float64)


def _weights(estimator, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    if n_labels == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef.T.astype(np.float32), intercept.astype(np.float32)


def macro_f1(truth: Sequence[int], predicted: Sequence[int], n_labels: int) -> float:
    return float(np.mean([stats[2] for stats in _per_class(truth, predicted, n_labels) if stats[3] > 0]))


def _per_class(truth, predicted, n_labels):
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    rows = []
    for label in range(n_labels):
        tp = int(np.sum((truth == label) & (predicted == label)))
        fp = int(np.sum((truth != label) & (predicted == label)))
        fn = int(np.sum((truth == label) & (predicted != label)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((precision, recall, f1, tp + fn))
    return rows


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature minimising the log-loss of out-of-fold scores (a 1-D search)."""

    def loss(t: float) -> float:
        z = scores / t
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(truth)), truth]))

    grid = np.exp(np.linspace(np.log(0.02), np.log(20.0), 61))
    best = min(grid, key=loss)
    fine = np.exp(np.linspace(np.log(best / 1.2), np.log(best * 1.2), 21))
    return float(min(fine, key=loss))


def _folds(y: np.ndarray, n_rows: int):
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(y)
    if n_rows > 20_000:
        train, test = stratified_split([str(v) for v in y], seed=SEED + 1)
        return [(np.array(train), np.array(test))]
    n_splits = int(max(2, min(5, counts[counts > 0].min())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(
            StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y)
        )


def select_and_fit(
    matrix,
    y: np.ndarray,
    n_labels: int,
    blocks: tuple[int, int, int],
    progress: Progress,
    chosen: tuple[Candidate, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, float, Candidate, dict]:
    """Choose the candidate by cross-validated macro-F1, fit its temperature on out-of-fold scores, refit on all.

    `chosen` = (candidate, temperature) skips the search (a refit with the configuration chosen earlier)."""
    if chosen is not None:
        best, temperature = chosen
        coef, intercept = _fit_all(best, matrix, y, n_labels, blocks)
        return coef, intercept, temperature, best, {"chosen": best.describe(), "reused": True}
    folds = _folds(y, matrix.shape[0])
    results = []
    for candidate in candidates(blocks[2] > 0):
        scaled = _scaled(matrix, blocks, candidate)
        out_of_fold = np.zeros((len(y), n_labels))
        covered = np.zeros(len(y), dtype=bool)
        for train_rows, test_rows in folds:
            estimator = _fit(candidate, scaled[train_rows], y[train_rows])
            scores = np.full((len(test_rows), n_labels), -1e9)
            scores[:, estimator.classes_] = _decision(estimator, scaled[test_rows], len(estimator.classes_))
            out_of_fold[test_rows] = scores
            covered[test_rows] = True
        score = macro_f1(y[covered], out_of_fold[covered].argmax(axis=1), n_labels)
        progress(f"  候选 {candidate.describe()}：交叉验证 macro-F1 = {score:.4f}")
        results.append((score, candidate, out_of_fold, covered))
    best_score, best, out_of_fold, covered = max(results, key=lambda r: r[0])
    temperature = fit_temperature(out_of_fold[covered], y[covered])
    coef, intercept = _fit_all(best, matrix, y, n_labels, blocks)
    selection = {
        "chosen": best.describe(),
        "cv_macro_f1": round(best_score, 4),
        "candidates": {r[1].describe(): round(r[0], 4) for r in results},
        "folds": len(folds),
    }
    return coef, intercept, temperature, best, selection


def _fit_all(
    candidate: Candidate, matrix, y: np.ndarray, n_labels: int, blocks
) -> tuple[np.ndarray, np.ndarray]:
    estimator = _fit(candidate, _scaled(matrix, blocks, candidate), y)
    coef = np.zeros((matrix.shape[1], n_labels), dtype=np.float32)
    intercept = np.full(n_labels, -1e4, dtype=np.float32)
    fitted_coef, fitted_intercept = _weights(estimator, len(estimator.classes_))
    coef[:, estimator.classes_] = fitted_coef
    intercept[estimator.classes_] = fitted_intercept
    return coef, intercept


def _fit(candidate: Candidate, matrix, y):
    estimator = _estimator(candidate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(matrix, y)
    return estimator


def fit_streaming(
    vectorizer: Vectorizer,
    rows: Callable[[int], Iterable[tuple[str, int]]],
    n_labels: int,
    progress: Progress,
    *,
    epochs: int = 3,
    chunk: int = 20_000,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """SGD (modified Huber) over chunks of a re-readable, shuffled row stream (`rows(epoch)`), for data too
    large to hold in memory."""
    from sklearn.linear_model import SGDClassifier

    estimator = SGDClassifier(loss="modified_huber", alpha=2e-6, random_state=SEED)
    classes = np.arange(n_labels)
    for epoch in range(epochs):
        texts, ys, seen = [], [], 0
        for text, label in rows(epoch):
            texts.append(text)
            ys.append(label)
            if len(texts) == chunk:
                estimator.partial_fit(vectorizer.transform_many(texts), np.array(ys), classes=classes)
                seen += len(texts)
                texts, ys = [], []
                progress(f"  第 {epoch + 1}/{epochs} 轮：已处理 {seen} 行")
        if texts:
            estimator.partial_fit(vectorizer.transform_many(texts), np.array(ys), classes=classes)
    coef, intercept = _weights(estimator, n_labels)
    return coef, intercept, {"chosen": "sgd(modified_huber, streaming)", "epochs": epochs}


class _Shards:
    """An external shuffle: rows are dealt at random into shard files, then read shard by shard (in a random
    order, each shard shuffled in memory), so a file sorted by label still trains SGD on mixed chunks."""

    def __init__(self, directory: Path, n_shards: int):
        self.paths = [directory / f"shard-{i:03d}.csv" for i in range(n_shards)]
        self._handles = [path.open("w", encoding="utf-8", newline="") for path in self.paths]
        self._writers = [csv.writer(handle) for handle in self._handles]
        self._rng = np.random.default_rng(SEED)

    def add(self, text: str, label: int) -> None:
        self._writers[int(self._rng.integers(len(self._writers)))].writerow([text, label])

    def close(self) -> None:
        for handle in self._handles:
            handle.close()

    def rows(self, epoch: int) -> Iterator[tuple[str, int]]:
        rng = np.random.default_rng(SEED + epoch)
        for shard in rng.permutation(len(self.paths)):
            with self.paths[shard].open(encoding="utf-8", newline="") as handle:
                rows = [(text, int(label)) for text, label in csv.reader(handle)]
            for i in rng.permutation(len(rows)):
                yield rows[i]


# ---------------------------------------------------------------------------------------------- public API
def library_versions() -> dict:
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "segmenter": segmenter_name(),
    }


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    taxonomy: str = "custom",
    config: FeatureConfig | None = None,
    lexicon: Lexicon | bool | None = True,
    progress: Progress | None = None,
    extra_manifest: dict | None = None,
    reuse: LinearTextModel | None = None,
) -> LinearTextModel:
    """Train on in-memory rows (all of them; hold out rows yourself to measure). `lexicon=True` loads the
    taxonomy's shipped lexicon when there is one. `reuse`: take the configuration and temperature that model
    chose instead of searching again (the final refit after a held-out run)."""
    progress = progress or (lambda message: None)
    config = config or FeatureConfig()
    label_list = sorted(set(labels))
    if lexicon is True:
        lexicon = lexicon_for(taxonomy, label_list)
    elif lexicon is False:
        lexicon = None
    progress(f"建立词表：{len(texts)} 行，{len(label_list)} 个类别")
    vectorizer = build_vectorizer(texts, config, lexicon, label_list)
    progress(f"特征：{len(vectorizer.words)} 个词 n-gram，{len(vectorizer.chars)} 个字 n-gram，"
             f"{len(vectorizer.lexicon_labels)} 个词典特征")  # fmt: skip
    base = replace(config, char_weight=1.0, lexicon_weight=1.0)
    vectorizer.config = base
    matrix = vectorizer.transform_many(texts)
    index = {label: i for i, label in enumerate(label_list)}
    y = np.array([index[label] for label in labels])
    blocks = (len(vectorizer.words), len(vectorizer.chars), len(vectorizer.lexicon_labels))
    chosen = None
    if reuse is not None:
        chosen = (Candidate(**reuse.manifest["selection"]["candidate"]), reuse.temperature)
    coef, intercept, temperature, best, selection = select_and_fit(
        matrix, y, len(label_list), blocks, progress, chosen
    )
    if reuse is not None:
        selection = {**reuse.manifest["selection"], "refit_on_all_rows": True}
    selection["candidate"] = {
        "c": best.c,
        "char_weight": best.char_weight,
        "lexicon_weight": best.lexicon_weight,
    }
    vectorizer.config = replace(base, char_weight=best.char_weight, lexicon_weight=best.lexicon_weight or 1.0)
    return _assemble(
        vectorizer, label_list, coef, intercept, temperature, taxonomy, len(texts), selection, extra_manifest
    )


def _assemble(
    vectorizer, label_list, coef, intercept, temperature, taxonomy, n_rows, selection, extra_manifest
):
    manifest = {
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "training_size": n_rows,
        "selection": selection,
        "libraries": library_versions(),
        "metrics": {},
    }
    manifest.update(extra_manifest or {})
    return LinearTextModel(
        taxonomy=taxonomy,
        labels=label_list,
        config=vectorizer.config,
        words=vectorizer.words,
        chars=vectorizer.chars,
        lexicon_labels=vectorizer.lexicon_labels,
        coef=coef,
        intercept=intercept,
        idf=vectorizer.idf,
        temperature=temperature,
        lexicon=vectorizer.lexicon,
        manifest=manifest,
    )


def evaluate(model: LinearTextModel, texts: Sequence[str], labels: Sequence[str]) -> dict:
    """macro_f1, accuracy, n, per_class and confusion (rows: truth, columns: prediction, in `labels` order)."""
    order = sorted(set(model.labels) | set(labels))
    position = {label: i for i, label in enumerate(order)}
    matrix = model.vectorizer.transform_many(texts)
    scores = np.asarray(matrix @ model.coef) + model.intercept
    predicted = [position[model.labels[i]] for i in scores.argmax(axis=1)] if len(texts) else []
    truth = [position[label] for label in labels]
    stats = _per_class(truth, predicted, len(order))
    present = [i for i, row in enumerate(stats) if row[3] > 0]
    confusion = np.zeros((len(order), len(order)), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        confusion[t, p] += 1
    return {
        "macro_f1": round(float(np.mean([stats[i][2] for i in present])) if present else 0.0, 4),
        "accuracy": round(float(np.mean(np.array(truth) == np.array(predicted))) if truth else 0.0, 4),
        "n": len(truth),
        "per_class": {
            order[i]: {
                "precision": round(stats[i][0], 4),
                "recall": round(stats[i][1], 4),
                "f1": round(stats[i][2], 4),
                "support": stats[i][3],
            }
            for i in range(len(order))
        },
        "confusion": {"labels": order, "matrix": confusion.tolist()},
    }


def train_with_held_out(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    taxonomy: str,
    progress: Progress,
    extra_manifest: dict | None = None,
) -> tuple[LinearTextModel, dict]:
    """Hold out a stratified 20 %, search and train on the rest, measure, then refit the chosen configuration
    on every row. Returns the final model (metrics in its manifest) and the held-out metrics."""
    train_rows, test_rows = stratified_split(labels)
    progress(f"分层抽样：训练 {len(train_rows)} 行，留出 {len(test_rows)} 行用于评估")
    held_out_model = train_model(
        [texts[i] for i in train_rows], [labels[i] for i in train_rows], taxonomy=taxonomy, progress=progress
    )
    metrics = evaluate(held_out_model, [texts[i] for i in test_rows], [labels[i] for i in test_rows])
    progress(
        f"留出集 macro-F1 = {metrics['macro_f1']:.4f}，准确率 = {metrics['accuracy']:.4f}；用全部数据重新训练"
    )
    model = train_model(
        texts,
        labels,
        taxonomy=taxonomy,
        progress=progress,
        extra_manifest=extra_manifest,
        reuse=held_out_model,
    )
    model.manifest["metrics"] = {
        "held_out": {key: metrics[key] for key in ("macro_f1", "accuracy", "n")},
        "held_out_fraction": TEST_FRACTION,
    }
    return model, metrics


def train_from_csv(
    path: str | Path,
    *,
    out: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    taxonomy: str | None = None,
    progress: Progress | None = None,
) -> tuple[LinearTextModel, dict]:
    """Validate, hold out a stratified 20 %, train, measure, refit on everything, write the model directory.

    Returns the saved model and the held-out metrics. Large files (> STREAMING_THRESHOLD rows) are streamed."""
    progress = progress or (lambda message: print(message, file=sys.stderr))
    path = Path(path)
    summary = scan_csv(path, text_column=text_column, label_column=label_column)
    progress(f"读取 {path}：{summary.rows} 行可用，{len(summary.label_counts)} 个类别"
             + (f"，跳过 {summary.skipped} 行空文本或空标签" if summary.skipped else ""))  # fmt: skip
    taxonomy = taxonomy or detect_taxonomy(summary.label_counts) or "custom"
    extra = {"source": {"file": path.name, "text_column": text_column, "label_column": label_column}}
    if summary.rows > STREAMING_THRESHOLD:
        model, metrics = _train_streaming(path, summary, taxonomy, text_column, label_column, progress, extra)
    else:
        texts, labels = read_csv(path, text_column=text_column, label_column=label_column)
        model, metrics = train_with_held_out(
            texts, labels, taxonomy=taxonomy, progress=progress, extra_manifest=extra
        )
    model.save(out)
    return model, metrics


def _train_streaming(path, summary, taxonomy, text_column, label_column, progress, extra):
    """One pass deals the rows into shuffled shards (every fifth row of each label held out) and keeps a
    reservoir sample for the vocabulary; SGD then reads the shards; the held-out rows measure the model and
    fit its temperature."""
    label_list = sorted(summary.label_counts)
    index = {label: i for i, label in enumerate(label_list)}
    rng = np.random.default_rng(SEED)
    config = FeatureConfig(char_weight=1.0, lexicon_weight=0.15)
    with tempfile.TemporaryDirectory(prefix="yidi-train-") as workdir:
        shards = _Shards(Path(workdir), n_shards=max(1, summary.rows // 50_000))
        held_texts, held_labels, sample = [], [], []
        seen: Counter = Counter()
        trained = 0
        for text, label in iter_csv(path, text_column=text_column, label_column=label_column):
            seen[label] += 1
            if seen[label] % 5 == 1:
                held_texts.append(text)
                held_labels.append(label)
                continue
            shards.add(text, index[label])
            trained += 1
            if len(sample) < VOCABULARY_SAMPLE:
                sample.append(text)
            elif (slot := int(rng.integers(trained))) < VOCABULARY_SAMPLE:
                sample[slot] = text
        shards.close()
        vectorizer = build_vectorizer(sample, config, lexicon_for(taxonomy, label_list), label_list)
        del sample
        progress(f"流式训练：{trained} 行训练，{len(held_texts)} 行留出；特征 {vectorizer.n_features} 个")
        coef, intercept, selection = fit_streaming(vectorizer, shards.rows, len(label_list), progress)
    truth = np.array([index[label] for label in held_labels])
    scores = np.asarray(vectorizer.transform_many(held_texts) @ coef) + intercept
    temperature = fit_temperature(scores.astype(np.float64), truth)
    model = _assemble(
        vectorizer, label_list, coef, intercept, temperature, taxonomy, summary.rows, selection, extra
    )
    metrics = evaluate(model, held_texts, held_labels)
    progress(f"留出集 macro-F1 = {metrics['macro_f1']:.4f}，准确率 = {metrics['accuracy']:.4f}")
    model.manifest["metrics"] = {
        "held_out": {key: metrics[key] for key in ("macro_f1", "accuracy", "n")},
        "held_out_fraction": 0.2,  # every fifth row of each label
    }
    return model, metrics
