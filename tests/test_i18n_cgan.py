"""Issue 19 for the Conditional GAN page and the Train page's Quality panel: both render in Chinese,
with the same numbers as in English (a message's numbers are its parameters).

- the cGAN page with ``?lang=zh``: title, tabs, captions, the label-accuracy and per-class Fréchet
  figures in Chinese, preset links that keep ``lang=zh``; the switch to English shows the same numbers;
- the Quality panel on a report with known numbers: metric names, values, help and the summary line
  in Chinese, and the same numbers, in the same order, as the English panel;
- the "no classifier for this data set" line (MNIST ships without weights) in Chinese.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_demo import content, language, presets, ui
from gan_demo.content import t

APP = str(Path(__file__).resolve().parents[1] / "app.py")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_the_cgan_page_renders_in_chinese_with_the_numbers_of_the_english_page():
    content.MISSING.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/cgan.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "条件 GAN：给我画一个 7"
    links = [m.value for m in at.markdown if "?preset=cgan-" in m.value]
    titles = [t(f"presets.{p.name.replace('-', '_')}.title", lang="zh") for p in presets.for_page("cgan")]
    assert titles[0] == "健康：条件 GAN，投影判别器"
    assert links == [f"- [{title}](/cgan?preset={p.name}&lang=zh)" for title, p in zip(titles, presets.for_page("cgan"), strict=True)]
    at.number_input(key="cgan_steps").set_value(40).run()
    at.number_input(key="cgan_snapshot_every").set_value(20).run()
    at.button(key="cgan_start").click().run()
    (run,) = ui.registry().runs_for(at.session_state["gan_session_id"])
    run.join(60)
    assert not run.alive and run.view().status == "done"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    report = run.view().snapshots[-1].extras["cgan"]
    clf = f"{100 * report['classifier_accuracy']:.1f}"  # 98.4 for the shipped digits classifier

    assert [tab.label for tab in at.tabs] == ["按类别的样本网格", "指定类别", "类别插值", "标签准确率",
                                              "各类别的 Fréchet 距离", "曲线"]  # fmt: skip
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert captions[0].startswith("第 40 步：第 k 行是类别 k（从上往下依次为 0, 1, 2, ...）")
    assert captions[1] == "“0”的 64 个样本（第 40 步的 G）"
    assert captions[2] == "“1” → “7”，z 固定不变（以 GIF 动图播放）"
    assert "第 500 步之后才评判标签（现在是第 40 步）。" in [i.value for i in at.info]
    acc, fd = charts(at)[:2]
    assert acc["layout"]["title"]["text"] == "标签准确率：G 的样本被分类器判为所要求类别的比例"
    assert [a["text"] for a in acc["layout"]["annotations"]] == ["随机猜测 = 1/10", f"分类器在留出真实图像上的准确率 = {clf} %"]
    mean = next(t for t in acc["data"] if t["name"] == "平均")
    assert mean["x"] == [0, 20, 40] and mean["y"][-1] == report["accuracy_mean"]
    assert fd["layout"]["title"]["text"] == "各类别的 Fréchet 距离，第 40 步（每类 n = 50）"
    assert fd["data"][0]["y"] == report["fd"] and fd["data"][0]["name"] == "G 的样本 vs 真实图像（类别 k）"
    zh = (captions, [a["text"] for a in acc["layout"]["annotations"]], fd["layout"]["title"]["text"])

    at.session_state[language.STATE_KEY] = "en"  # the sidebar switch
    at.run()
    assert not at.exception
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert captions[1] == "64 samples of '0' (G at step 40)"
    acc, fd = charts(at)[:2]
    assert [a["text"] for a in acc["layout"]["annotations"]] == ["chance = 1/10", f"classifier on held-out real images = {clf} %"]
    assert fd["layout"]["title"]["text"] == "Fréchet distance per class, step 40 (n = 50 per class)"
    en = (captions, [a["text"] for a in acc["layout"]["annotations"]], fd["layout"]["title"]["text"])
    # the same numbers, each language in its own order ("“0”的 64 个样本" / "64 samples of '0'")
    assert [sorted(numbers(c)) for c in zh[0]] == [sorted(numbers(c)) for c in en[0]]
    assert sorted(numbers(en[0][1])) == ["0", "40", "64"]
    assert [numbers(a) for a in zh[1]] == [numbers(a) for a in en[1]] == [["1", "10"], [clf]]
    assert numbers(zh[2]) == numbers(en[2]) == ["40", "50"]
    assert content.MISSING == set()


REPORT = {  # a quality report with numbers a reader can follow through the panel
    "n": 64, "fd": 12.3456, "fd_floor": 3.4567, "fd_floor_min": 3.1, "fd_floor_max": 3.9,
    "counts": [8, 8, 8, 8, 8, 8, 8, 8, 0, 0], "class_names": [str(k) for k in range(10)], "coverage": 8,
    "coverage_real": 10, "kl": 0.2231, "kl_real": 0.0456, "confidence": 0.8765, "confidence_real": 0.9543,
    "top_class": 0, "top_share": 0.125, "accuracy": 0.984,
}  # fmt: skip


def quality_panel(lang: str, data: str = "digits") -> AppTest:
    def script(data: str, report: dict):
        from types import SimpleNamespace

        from gan_demo import language, quality_panel
        from gan_demo.config import TrainConfig

        language.choose()
        shots = (SimpleNamespace(step=40, extras={"quality": report}),)
        view = SimpleNamespace(config=TrainConfig.for_loss("non-saturating", data), snapshots=shots,
                               run_id="i18n-quality-test")  # fmt: skip
        quality_panel.render(view, "train")

    at = AppTest.from_function(script, args=(data, REPORT), default_timeout=30)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_quality_readout_renders_in_chinese_with_the_same_numbers():
    content.MISSING.clear()
    zh, en = quality_panel("zh"), quality_panel("en")
    assert zh.subheader[0].value == "样本质量" and en.subheader[0].value == "Quality"
    assert {m.label: m.value for m in zh.metric} == {"Fréchet 距离": "12.3", "真实对真实的下限": "3.46",
                                                     "标签覆盖率": "8 / 10 类", "置信度": "0.88"}  # fmt: skip
    assert {m.label: m.value for m in en.metric} == {"Fréchet distance": "12.3", "Real-vs-real floor": "3.46",
                                                     "Label coverage": "8 of 10", "Confidence": "0.88"}  # fmt: skip
    floor_help = zh.metric[1].proto.help
    assert floor_help == "两批各 64 张真实图像之间的同一距离（10 次的平均，范围 3.1 到 3.9）：一个完美的 G 能得到的分数"
    assert [numbers(m.proto.help) for m in zh.metric] == [numbers(m.proto.help) for m in en.metric]
    assert numbers(en.metric[2].proto.help) == ["0.5", "3.2", "64", "10", "10"]  # 0.5 × 64/10 = 3.2 samples
    summary_zh, summary_en = zh.caption[1].value, en.caption[1].value
    assert summary_zh.startswith("第 40 步，n = 64 个固定噪声样本：KL(标签 ‖ 均匀分布) = 0.22 奈特（一批 64 张真实图像：0.05）；"
                                 "真实图像上的置信度 0.95；分类器在留出的真实图像上的准确率为 98.4 %。")  # fmt: skip
    assert numbers(summary_zh) == numbers(summary_en)
    assert numbers(summary_en)[:7] == ["40", "64", "0.22", "64", "0.05", "0.95", "98.4"]
    assert zh.caption[0].value.startswith("下面每个数字都基于 G 的 **n = 64** 个固定噪声样本")
    fd_zh, hist_zh = charts(zh)
    assert fd_zh["layout"]["title"]["text"] == "Fréchet 距离（分类器特征，n = 64）"
    assert [t["name"] for t in fd_zh["data"]] == ["G vs 真实图像", "真实 vs 真实（下限）", "2 × 下限"]
    assert fd_zh["data"][1]["y"] == [3.4567, 3.4567] and fd_zh["data"][2]["y"] == [2 * 3.4567] * 2
    assert hist_zh["layout"]["title"]["text"] == "G 的样本按预测标签计数（第 40 步，n = 64）"
    assert hist_zh["layout"]["annotations"][0]["text"] == "平均份额 n/K = 6.4"
    assert charts(en)[1]["layout"]["annotations"][0]["text"] == "fair share n/K = 6.4"
    assert content.MISSING == set()


def test_no_classifier_for_this_data_set_is_said_in_chinese():
    at = quality_panel("zh", data="mnist")  # MNIST ships without classifier weights
    (caption,) = at.caption
    assert caption.value.startswith("不显示质量指标：") and "没有 'mnist' 的分类器权重" in caption.value
    assert "`python -m gan_demo train-classifier --data mnist`" in caption.value and not at.metric


def test_fashion_mnist_class_names_are_shown_in_the_readers_language_and_digits_as_they_are():
    from gan_demo import cgan_views, quality_panel
    from gan_demo.data import CLASS_NAMES
    from gan_demo.metrics import quality

    fashion = CLASS_NAMES["fashion-mnist"]
    report = {**REPORT, "class_names": list(fashion)}
    assert quality.class_labels(fashion) == list(fashion)  # no session: English, as data.py names them
    try:
        content.set_language_source(lambda: "zh")
        zh = ["T恤/上衣", "裤子", "套衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"]  # as in 《动手学深度学习》 3.5
        assert quality.class_labels(fashion) == zh
        assert quality.class_labels(CLASS_NAMES["digits"]) == [str(k) for k in range(10)]
        assert list(quality_panel.histogram_figure(report, 40, "x").data[0].x) == zh
        per_class = {**report, "fd": [1.0] * 10, "fd_floor": [0.5] * 10}
        assert list(cgan_views.frechet_figure(per_class, 40).data[0].x) == zh
    finally:
        content.set_language_source(None)
