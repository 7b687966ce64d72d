"""Issue 19 for saved runs and the Compare page: an upload's refusal, a replay and the Compare page in
Chinese, with the same file names, sizes, versions and numbers as in English."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import compare, content, runs_panel
from gan_demo.config import TrainConfig
from gan_demo.runs import archive, folder, loop, recordings
from gan_demo.runs.archive import ArchiveError
from gan_demo.train import GanTrainer

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    cfg = TrainConfig.for_loss("non-saturating", "ring8", steps=20, hidden=16, device="cpu")
    trainer = GanTrainer(cfg)
    record = loop.train(trainer, loop.Record.empty(trainer))
    return folder.encode(cfg, trainer.metric_names, record.metrics, record.snapshots, 20, trainer, name="ring")


@pytest.fixture
def zh():
    """The reader's language is Chinese (as the app's session source says) for the test's duration."""
    content.set_language_source(lambda: "zh")
    try:
        yield
    finally:
        content.set_language_source(None)


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _refusal(blob: bytes, where: str) -> ArchiveError:
    with pytest.raises(ArchiveError) as info:
        archive.from_zip(blob, where)
    return info.value


# ---------------------------------------------------------------- an upload's refusals
def test_an_oversized_upload_is_refused_in_chinese_with_its_name_and_size(monkeypatch, zh):
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 2 * 2**20)
    e = _refusal(bytes(3 * 2**20), "大模型.zip")  # 3.0 MB against 2 MB
    assert str(e) == "大模型.zip：文件有 3.0 MB；运行存档最大只允许 2 MB"
    assert e.args[0].render("en") == "大模型.zip: 3.0 MB; a run archive may be at most 2 MB"  # the same numbers


def test_a_foreign_file_is_refused_in_chinese_naming_it_and_what_is_allowed(files, zh):
    blob = _zip({f"run/{k}": v for k, v in files.items()} | {"run/model.pkl": b"\x80\x04N."})
    text = str(_refusal(blob, "lab3.zip"))
    assert text.startswith("lab3.zip：'run/model.pkl' 不是运行的文件；允许的文件：manifest.json, config.json, ")
    assert text.endswith("（只接受 JSON、CSV、npz 和 safetensors）")


def test_a_zip_bomb_a_traversal_and_a_bad_crc_are_refused_in_chinese(files, zh):
    bomb = _zip({**files, "weights.safetensors": bytes(archive.MAX_UNPACKED_BYTES + 10)})
    assert str(_refusal(bomb, "bomb.zip")).startswith("bomb.zip：其中的文件解压后超过 128 MB（是“压缩炸弹”")
    members = {f"run/{k}": v for k, v in files.items() if k != "manifest.json"} | {"../manifest.json": b"{}"}
    assert str(_refusal(_zip(members), "up.zip")).startswith("up.zip：压缩包中的 '../manifest.json' 路径不安全。")
    blob = bytearray(_zip(files, zipfile.ZIP_STORED))
    blob[blob.find(files["metrics.csv"][:40]) + 20] ^= 0x55
    text = str(_refusal(bytes(blob), "crc.zip"))
    assert text.startswith("crc.zip：zip 文件已损坏或不完整（") and "CRC" in text and text.endswith("请重新下载这次运行")


def _with_manifest(files: dict[str, bytes], **changes) -> dict[str, bytes]:
    return {**files, "manifest.json": json.dumps({**json.loads(files["manifest.json"]), **changes}).encode()}


def test_version_sha256_and_pickle_refusals_in_chinese(files, zh):
    text = str(_refusal(_zip(_with_manifest(files, format_version=2)), "old.zip"))
    assert text.startswith("old.zip：运行格式的版本是 2；当前的 gan_demo（") and text.endswith("）只能读取版本 1")
    changed = {**files, "metrics.csv": files["metrics.csv"].replace(b",", b";", 1)}
    assert str(_refusal(_zip(changed), "edit.zip")) == "edit.zip：metrics.csv 的 sha256 与 manifest 中记录的不同：文件被改动过"
    buf = io.BytesIO()
    np.savez(buf, **{"0.samples": np.array([{"run": "code"}], dtype=object)})
    npz = buf.getvalue()
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["snapshots.npz"] = {"size": len(npz), "sha256": hashlib.sha256(npz).hexdigest()}
    pickled = {**files, "snapshots.npz": npz, "manifest.json": json.dumps(manifest).encode()}
    text = str(_refusal(_zip(pickled), "pk.zip"))
    assert text.startswith("pk.zip：snapshots.npz 不借助 pickle 就无法读取（")
    assert text.endswith("允许的只有数值数组和字符串数组（本应用从不加载 pickle）")


def test_a_refusal_kept_in_the_session_follows_the_language_switch(monkeypatch):
    """The upload keeps the refusal as a Msg (runs_panel.upload): shown again after a switch, it
    speaks the new language, with the same file name and size."""
    from gan_demo.content import Msg

    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 2**20)
    e = _refusal(bytes(2**20 + 2**19), "x.zip")
    kept = Msg("runs.not_opened", error=e)
    assert kept.render("en") == "Not opened: x.zip: 1.5 MB; a run archive may be at most 1 MB"
    content.set_language_source(lambda: "zh")
    try:
        assert str(kept) == "未能打开：x.zip：文件有 1.5 MB；运行存档最大只允许 1 MB"
    finally:
        content.set_language_source(None)


# ---------------------------------------------------------------- replay and Compare in Chinese
def test_a_replay_in_chinese_says_what_it_shows_with_the_same_step_count():
    name = "healthy-non-saturating"
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = name
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    steps = recordings.load(name).step
    assert any(i.value.startswith(f"**回放**预设“{name}”的录制：共 {steps:,} 步，已完成，") for i in at.info), \
        [i.value for i in at.info]  # fmt: skip
    assert at.button(key="train_train_live").label == "实时训练它"
    assert at.button(key="train_close_replay").label == "关闭回放"
    assert any(s.label == "回放到第几步" for s in at.select_slider)


def _chart(at: AppTest) -> dict:
    return json.loads(next(iter(at.get("plotly_chart"))).proto.spec)


def test_the_compare_page_in_chinese_with_the_same_numbers():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    assert at.title[0].value == "比较多次运行"
    assert any(i.value.startswith("选择二到四次运行来比较") for i in at.info)
    assert [b.label for b in at.button if b.key.startswith("compare_lesson_")] == \
        ["极小极大与非饱和的 G 损失", "打包（packing）与不打包", "权重裁剪与梯度惩罚"]  # fmt: skip
    options = at.multiselect(key="compare_runs").options
    assert "录制：采用权重裁剪的 WGAN（c = 0.01）" in options and "录制：模式崩溃预设，打包数 pack = 2" in options

    at.button(key="compare_lesson_d-overpowers-g").click().run()
    assert not at.exception
    assert any(i.value.startswith("**极小极大与非饱和的 G 损失。** 同一个强大的判别器") for i in at.info)
    spec = _chart(at)
    assert spec["layout"]["title"]["text"] == "‖∇G‖ 随训练步数的变化"
    assert spec["layout"]["xaxis"]["title"]["text"] == "训练步数"
    assert [tr["name"] for tr in spec["data"]] == ["A：digits 上的 minimax", "B：digits 上的 non-saturating"]
    assert any(c.value == "高亮的是各次运行之间不同的设置（loss）。" for c in at.caption)
    table = at.dataframe[0].value
    assert list(table.columns) == ["设置项", "A", "B"] and "loss" in list(table["设置项"])
    runs = [recordings.load(n) for n in ("d-overpowers-g", "d-overpowers-g-non-saturating")]
    for letter, run in zip("AB", runs, strict=True):
        assert any(m.value == f"**{letter}**：digits 上的 {run.config.loss}，第 {run.step:,} 步（共 {run.step:,} 步）"
                   for m in at.markdown), [m.value for m in at.markdown]  # fmt: skip

    at.button(key="compare_lesson_mode-collapse").click().run()  # the toy runs: their numbers under the samples
    assert not at.exception
    captions = [c.value for c in at.caption]
    for name in ("mode-collapse", "mode-collapse-packed"):
        ex = recordings.load(name).snapshots[-1].extras
        line = (f"G 在固定噪声上的样本，第 1,500 步：覆盖的模式 {ex['captured']} / 8 · "
                f"高质量样本 {100 * ex['high_quality']:.1f} %")
        assert line in captions, (line, captions)


def test_the_metric_names_and_the_status_words_in_both_languages():
    assert compare.metric_label("clip_frac") == "share of D's weights at ±c"
    assert compare.metric_label("grad_g") == "‖∇G‖" and compare.metric_label("new_metric") == "new_metric"
    content.set_language_source(lambda: "zh")
    try:
        assert compare.metric_label("clip_frac") == "D 的权重中处在 ±c 的比例"
        assert compare.metric_label("grad_g") == "‖∇G‖"  # a symbol: the same in both
        assert runs_panel.status_text("paused") == "已暂停" and runs_panel.status_text("odd") == "odd"
        assert str(recordings.LESSONS[2][0]) == "权重裁剪与梯度惩罚"
    finally:
        content.set_language_source(None)
    assert runs_panel.status_text("paused") == "paused"
