"""Triage engine benchmark: analyse throughput against bare segmentation, model load time, resident memory.

    .venv/bin/python bench/bench_triage.py

`run()` returns the figures as dicts (figure, value, unit, floor, ratio, target). The texts are 10,000 variants of
the seed corpus (places, amounts, people counts, dates, openings and clause order varied with a fixed seed).
Everything runs on one core and rates are per second of CPU time, best of three runs; model loading and
memory are measured in a fresh process.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import figure, print_table  # noqa: E402

from yidi.triage.engine import (  # noqa: E402
    DuplicateCandidate,
    TriageContext,
    analyse,
    cut,
    lsh_keys,
    rank_duplicates,
)
from yidi.triage.engine.resources import PACKAGE_DATA_DIR  # noqa: E402

N_TEXTS = 10_000
COUNTY = "330681"
PLACES = ["枫桥镇枫源村", "店口镇湄池社区", "大唐街道开元社区", "璜山镇读山村", "次坞镇溪埭村", "暨阳街道浣纱社区",
          "牌头镇同文村", "山下湖镇解放村", "东白湖镇斯宅村", "姚江镇孙郭村"]  # fmt: skip
OPENINGS = ["", "来电反映：", "来访人称，", "网格员上报：", "市民来电，", "信访人反映，", "当事人陈述："]
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,4}(?:镇|街道)[\u4e00-\u9fff]{1,4}(?:村|社区)")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?万元|\d{3,6}元")
_PEOPLE = re.compile(r"\d+(?:名|人)|[二三四五六七八九十]+多名")


def realistic_texts(n: int = N_TEXTS, seed: int = 20260305) -> list[str]:
    with (PACKAGE_DATA_DIR / "seed_corpus.csv").open(encoding="utf-8", newline="") as handle:
        corpus = [row["text"] for row in csv.DictReader(handle)]
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        text = rng.choice(corpus)
        text = _PLACE.sub(lambda m: rng.choice(PLACES), text)
        text = _AMOUNT.sub(
            lambda m: f"{rng.randint(2, 90)}万元" if rng.random() < 0.5 else f"{rng.randint(300, 9000)}元",
            text,
        )
        text = _PEOPLE.sub(lambda m: f"{rng.randint(2, 60)}名", text)
        clauses = re.split(r"(?<=[，。；])", text)
        if len(clauses) > 3 and rng.random() < 0.3:
            middle = clauses[1:-1]
            rng.shuffle(middle)
            text = clauses[0] + "".join(middle) + clauses[-1]
        if rng.random() < 0.3:
            text += f"事发时间{rng.randint(1, 12)}月{rng.randint(1, 28)}日。"
        if rng.random() < 0.15:
            text += rng.choice(corpus)[:60]
        texts.append(rng.choice(OPENINGS) + text)
    return texts


_LOADER = """
import json, resource, time
start = time.perf_counter()
from yidi.triage.engine import registry
models = registry.active_models()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "models": len(models),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _load_in_fresh_process() -> dict:
    output = subprocess.run(
        [sys.executable, "-c", _LOADER], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def _rate(function, texts, repeats: int = 1) -> float:
    """Texts per second of CPU time (one core), best of `repeats` runs: other processes on a shared machine
    slow the wall clock, not the work."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for text in texts:
            function(text)
        best = min(best, time.process_time() - start)
    return len(texts) / best


def run(n: int = N_TEXTS) -> list[dict]:
    texts = realistic_texts(n)
    context = TriageContext(county_code=COUNTY, reference_on=date(2026, 3, 5))
    analyse(texts[0], context=context)  # load models and the gazetteer outside the timing
    cut_rate = _rate(cut, texts, repeats=3)
    analyse_rate = _rate(lambda text: analyse(text, context=context), texts, repeats=3)
    loading = _load_in_fresh_process()
    lsh_rate = _rate(lsh_keys, texts[:2000])
    candidates = [DuplicateCandidate(i, text, place_code="330681109290") for i, text in enumerate(texts[:50])]
    timings = []
    for text in texts[:300]:
        start = time.perf_counter()
        rank_duplicates(text, candidates)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return [
        figure(
            "analyse throughput (1 core)", analyse_rate, "texts/s", floor=cut_rate, target=">= 1,000 texts/s"
        ),
        figure("segmentation only (cut), the floor", cut_rate, "texts/s"),
        figure(
            f"load {loading['models']} active models (fresh process)",
            loading["seconds"],
            "s",
            target="<= 1 s",
        ),
        figure("RSS of a process with the models loaded", loading["rss_mb"], "MB", target="<= 300 MB"),
        figure("lsh_keys", lsh_rate, "texts/s"),
        figure("rank_duplicates of 50 candidates, p95", timings[int(len(timings) * 0.95)], "ms"),
    ]


if __name__ == "__main__":
    print_table(run())
