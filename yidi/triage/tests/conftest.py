"""Shared builders for the triage tests (pure: no database)."""

import csv
from pathlib import Path

import pytest

from yidi.triage.engine import registry, resources

TINY_CORPUS = {
    "labour": [
        "老板拖欠工资三个月不发，工人们去厂里讨薪",
        "工地包工头欠薪跑路了，工资一分没拿到",
        "公司不给交社保还把我辞退了",
        "加班费一直没有给，找老板他说没钱",
        "在厂里受了工伤以后老板不管医药费",
        "讨要工资被保安拦在厂门口",
    ],
    "neighbour": [
        "楼上邻居半夜噪音扰民，敲门也不理",
        "隔壁邻居家卫生间漏水到我家天花板",
        "邻居在楼道堆放杂物堵住通道",
        "对门邻居养的狗天天乱叫",
        "邻居加建阳台挡住了我家采光",
        "两户邻居因为门前排水沟吵架",
    ],
    "consumer": [
        "网上买的手机质量有问题，商家不给退货",
        "超市卖过期牛奶，要求退款赔偿",
        "健身房办卡以后关门跑路了",
        "买的瓷砖有色差，店家不肯换货",
        "在餐馆吃饭吃出虫子，商家只肯免单",
        "刚买的电动车电池不行，商家拒绝保修",
    ],
}


def write_csv(path: Path, rows, header=("text", "label")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def tiny_rows():
    return [(text, label) for label, texts in TINY_CORPUS.items() for text in texts]


@pytest.fixture
def tiny_csv(tmp_path):
    return write_csv(tmp_path / "tiny.csv", tiny_rows())


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty deployment data directory: only the shipped models are active."""
    directory = tmp_path / "var"
    monkeypatch.setenv("YIDI_DATA_DIR", str(directory))
    registry.clear_cache()
    yield directory
    registry.clear_cache()


@pytest.fixture(scope="session")
def tiny_model():
    from yidi.triage.engine.train import train_model

    texts, labels = zip(*tiny_rows(), strict=True)
    return train_model(list(texts), list(labels), taxonomy="mediation_type")


assert resources.SHIPPED_MODELS_DIR.is_dir()
