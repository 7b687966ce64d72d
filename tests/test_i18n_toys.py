"""Issue 19 on the toy pages: the D* page and the 2-D toys page in Chinese, with the numbers of English.

Each page is opened through app.py with ``?lang=`` (the way a teacher's link opens it), so the
language switch is registered and every t()/Msg renders in the session's language. The figures'
legends and axis titles are read from the Plotly spec the page sends.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_demo import content, language, onedim, toylab, toys

ROOT = Path(__file__).resolve().parents[1]
D_STAR = "app_pages/d_star_1d.py"
TOYS_2D = "app_pages/toys_2d.py"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny networks, one intra-op thread


@pytest.fixture
def zh():
    """Render t()/Msg in Chinese outside a Streamlit session (the language source the app registers)."""
    content.set_language_source(lambda: "zh")
    yield
    content.set_language_source(None)


@pytest.fixture(autouse=True)
def _frontend_speaks_the_sessions_language(monkeypatch):
    """AppTest formats a widget's value into the label the browser would send back (``format_func``)
    in the test's own thread, which has no session and so renders English. A browser sends the label
    it shows, in the session's language: so the test thread reads the language of the last session
    opened here (the app's own source still decides in the script thread)."""
    session = language._session_language

    def source() -> str:
        return _BROWSER["lang"] if threading.current_thread() is threading.main_thread() else session()

    monkeypatch.setattr(language, "_session_language", source)
    yield
    content.set_language_source(None)
    _BROWSER["lang"] = content.DEFAULT_LANGUAGE


_BROWSER = {"lang": content.DEFAULT_LANGUAGE}  # the language of the last session _open() started


def _open(page: str, lang: str) -> AppTest:
    _BROWSER["lang"] = lang
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _spec(chart) -> dict:
    return json.loads(chart.proto.spec)


def _progress(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def _train(at: AppTest, page: str, steps: int, every: int, timeout_s: float = 60) -> None:
    at.number_input(key=f"{page}_steps").set_value(steps)
    at.number_input(key=f"{page}_snapshot_every").set_value(every)
    at.run()
    at.button(key=f"{page}_start").click().run()
    deadline = time.monotonic() + timeout_s
    while not (_progress(at).count(f"{steps:,}") >= 2 and ("done" in _progress(at) or "已完成" in _progress(at))):
        assert time.monotonic() < deadline, f"the run did not finish: {_progress(at)!r}"
        time.sleep(0.3)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    at.run()


# ---------------------------------------------------------------- the D* page
def _explore_saturated(lang: str) -> AppTest:
    """p_data = mixture of 2 (±3, σ 0.5), p_g = N(8, 0.2²): the page's own example of a saturated JS."""
    at = _open(D_STAR, lang)
    at.selectbox(key="d_star_1d_pdata").set_value("mix2").run()
    at.slider(key="d_star_1d_mu1").set_value(8.0)
    at.slider(key="d_star_1d_sd1").set_value(0.2).run()
    assert not at.exception
    return at


def test_d_star_explore_in_chinese_shows_chinese_text_and_the_numbers_of_english():
    en, zh = _explore_saturated("en"), _explore_saturated("zh")
    assert en.title[0].value == "The optimal discriminator D* in 1-D"
    assert zh.title[0].value == "一维上的最优判别器 D*"
    # the metrics' labels are symbols shared by both languages; their values are the same numbers
    assert _metrics(zh) == _metrics(en)
    assert _metrics(zh)["JS(p_data‖p_g)"] == "0.69315" and _metrics(zh)["W1"] == "8.00000"
    # the saturation warning: W1 = 8.000 (the mean of p_g minus p_data's mean 0) in both languages
    assert "W1 = 8.000 still measures the distance" in en.warning[0].value
    assert zh.warning[0].value.startswith("两个分布的支撑集几乎不重叠") and "W1 = 8.000 仍然" in zh.warning[0].value
    # the controls: p_data's toy titles, the mode and p_g options, the sliders, the loss views
    assert zh.selectbox(key="d_star_1d_pdata").options == [
        "高斯分布 N(0, 1)", "两个高斯的混合（±3，σ 0.5）", "三个高斯的混合（-4、0、4；σ 0.5）", "[-2, 2] 上的均匀分布"]
    assert zh.radio(key="d_star_1d_mode").options == ["探索", "训练"]
    assert zh.radio(key="d_star_1d_pg_kind").options == ["高斯分布", "两个高斯的混合"]
    assert zh.slider(key="d_star_1d_mu1").label == "均值 1" and en.slider(key="d_star_1d_mu1").label == "mean 1"
    assert zh.selectbox(key="d_star_1d_view").options[2] == "WGAN：两个 CDF、评判器斜率、W1"
    help_js = next(m.help for m in zh.metric if m.label == "JS(p_data‖p_g)")
    assert "奈特" in help_js and "0.69315" in help_js
    # the explanations, in Chinese, with the formulas and numbers of the English ones
    md = " ".join(m.value for m in zh.markdown)
    assert "JS 一直是 0.6931，而 W1 从 8 降到 6" in md and "V = −log 4 ≈ −1.3863" in md
    # the chart's legend: the same curves, named in Chinese where English names them in words
    zh.selectbox(key="d_star_1d_view").set_value("wgan").run()
    names = [tr["name"] for tr in _spec(zh.get("plotly_chart")[0])["data"]]
    assert names == ["F_data（CDF）", "F_g（CDF）；阴影面积 = W1 = 8.0000", "评判器斜率 f' = ±1", "最优评判器 f（可差一个常数）"]


def test_switching_to_chinese_keeps_the_d_star_controls_and_their_numbers():
    """The sidebar switch reruns the page while the browser still sends the English labels it showed:
    the options are ids shown through t(), so each control keeps its value across the switch."""
    at = _open(D_STAR, "en")
    at.selectbox(key="d_star_1d_pdata").set_value("mix2")
    at.radio(key="d_star_1d_pg_kind").set_value("mixture").run()
    at.slider(key="d_star_1d_mu1").set_value(-3.0)
    at.slider(key="d_star_1d_sd1").set_value(0.5)
    at.selectbox(key="d_star_1d_view").set_value("wgan").run()
    before = _metrics(at)
    at.session_state[language.STATE_KEY] = "zh"  # the switch
    at.run()
    assert not at.exception and at.title[0].value == "一维上的最优判别器 D*"
    kept = (at.selectbox(key="d_star_1d_pdata").value, at.radio(key="d_star_1d_pg_kind").value,
            at.selectbox(key="d_star_1d_view").value, at.slider(key="d_star_1d_mu1").value)  # fmt: skip
    assert kept == ("mix2", "mixture", "wgan", -3.0)
    assert _metrics(at) == before and before["W1"] != "0.00000"


def test_d_star_train_mode_in_chinese_names_the_same_numbers_in_its_sentences():
    at = _open(D_STAR, "zh")
    at.selectbox(key="d_star_1d_pdata").set_value("mix2").run()
    at.radio(key="d_star_1d_mode").set_value("Train").run()
    assert not at.exception
    h_mix = onedim.js_bandwidth(toys.TOYS_1D["mix2"], toylab.N_KDE)
    h_uniform = onedim.js_bandwidth(toys.TOYS_1D["uniform"], toylab.N_KDE)
    assert (f"{h_mix:.3f}", f"{h_uniform:.3f}") == ("0.111", "0.023")  # Silverman's rule at n = 2,500
    caption = at.caption[0].value
    assert caption.startswith("p_g 是 G 在固定噪声上的 2,500 个样本的高斯 KDE")
    assert "混合分布上为 0.111" in caption and "需要更小的带宽：0.023" in caption
    at.selectbox(key="d_star_1d_loss").set_value("wgan").run()  # clipping: the critic note's first case
    _train(at, "d_star_1d", steps=20, every=10)
    captions = " ".join(c.value for c in at.caption)
    assert "用 2,500 个样本时，完美 G 的 JS ≈ 0.0011（取 p_data 自己的样本，20 个随机种子" in captions
    m = _metrics(at)
    js_help = next(x.help for x in at.metric if x.label == "JS")
    assert f"带宽 {h_mix:.3f}" in js_help and "0.0011 ±" in js_help
    note = next(x.value for x in at.markdown if "评判器（critic）的 −L_D" in x.value)
    assert f"**真实的 W1** 为 {float(m['W1']):.3g}：" in note and "权重裁剪给 K 设了一个谁也不知道的常数上界" in note
    assert "（Arjovsky 等，2017，§3）。这个评判器在图中的最大斜率为" in note  # one paragraph, no space between
    train, history = (_spec(c) for c in at.get("plotly_chart"))
    assert train["layout"]["title"]["text"] == "第 20 步"
    assert [tr["name"] for tr in train["data"]][1] == "p_g（2,500 个样本的 KDE，h = 0.111）"
    assert train["layout"]["yaxis"]["title"]["text"] == "概率密度"
    assert train["layout"]["yaxis2"]["title"]["text"] == "最优评判器 f*(x)"
    assert history["layout"]["annotations"][0]["text"] == "完美的 G，2,500 个样本：JS ≈ 0.0011"
    assert history["layout"]["xaxis"]["title"]["text"] == "训练步数"


# ---------------------------------------------------------------- the 2-D toys page
def test_toys_2d_in_chinese_shows_chinese_titles_metrics_and_legends_with_the_same_numbers():
    at = _open(TOYS_2D, "zh")
    assert at.title[0].value == "二维玩具数据：看 G 如何追赶数据"
    md = " ".join(m.value for m in at.markdown)
    assert "**热力图**是 D 在整个平面上的输出" in md and "3σ 以内" in md
    assert "| VEEGAN | 8 / 52.9 | 24.6 / 40 |" in md  # the published numbers, unchanged
    assert at.info[0].value.startswith("选好设置（或一个预设），然后按 **开始**")
    _train(at, "toys_2d", steps=10, every=10)
    labels = [m.label for m in at.metric]
    assert labels == ["W1（256 个点）", "捕获的模式", "高质量样本", "主导模式"]
    w1 = at.metric[0]
    floor, _ = toylab.w1_floor_2d(toys.TOYS_2D["ring8"])
    assert f"{floor:.3g}" == "0.0932" and "数据自身的两次独立抽样之间读数为 0.0932" in w1.help
    assert at.metric[1].value.endswith("/ 8")
    assert any(c.value.startswith("第 10 步；生成样本上 |∇ₓ L_G| 的平均值：") for c in at.caption)
    plane, modes = (_spec(c) for c in at.get("plotly_chart"))
    assert [tr.get("name") for tr in plane["data"][1:]] == ["真实样本", "生成样本 G(z)", "−∇ L_G（G 推动生成样本的方向）"]
    assert [tr["name"] for tr in modes["data"]] == ["捕获的模式数", "高质量样本 %"]
    assert modes["data"][0]["y"][-1] == int(at.metric[1].value.split("/")[0])  # the chart and the metric agree


# ---------------------------------------------------------------- the engine's text
def test_toy_titles_and_errors_render_in_the_readers_language(zh):
    assert str(toys.TOYS_2D["ring8"].title) == "8 个高斯组成的圆环（σ 0.01）"
    assert toys.TOYS_2D["ring8"].title.render("en") == "Ring of 8 Gaussians (σ 0.01)"
    with pytest.raises(ValueError) as bad:
        toys.get("ring9")
    assert str(bad.value) == ("没有名为 'ring9' 的玩具分布；可选的有：gaussian, mix2, mix3, uniform, ring8, grid25, "
                              "spiral, moons")  # fmt: skip
    assert bad.value.args[0].render("en").startswith("unknown toy distribution 'ring9'; choose one of: gaussian")
    with pytest.raises(ValueError, match=r"w1_points 需要两个形状相同.*\(3, 2\) 和 \(2, 2\)"):
        toylab.w1_points(torch.zeros(3, 2).numpy(), torch.zeros(2, 2).numpy())


@pytest.mark.parametrize(
    ("constraint", "zh_why", "en_why"),
    [
        ("clip", "权重裁剪给 K 设了一个谁也不知道的常数上界", "weight clipping bounds K by a constant nobody knows"),
        ("gp", "梯度惩罚把 K 拉向 1", "the gradient penalty pulls K toward 1"),
        ("none", "既没有权重裁剪也没有梯度惩罚", "with neither clipping nor a penalty K is unbounded"),
    ],
)
def test_the_critic_note_says_the_same_numbers_in_both_languages(constraint, zh_why, en_why):
    en = toylab.critic_note(0.4567, 1.23456, constraint)
    content.set_language_source(lambda: "zh")
    try:
        zh = toylab.critic_note(0.4567, 1.23456, constraint)
    finally:
        content.set_language_source(None)
    assert en.startswith("**Critic's −L_D** 0.457 beside the **true W1** 1.23:") and en_why in en
    assert zh.startswith("**评判器（critic）的 −L_D** 为 0.457，**真实的 W1** 为 1.23：") and zh_why in zh
    assert "—" in toylab.critic_note(None, 1.0, constraint)  # no logged estimate yet


def test_the_2d_figure_names_its_traces_in_the_readers_language(zh):
    extras = {"hx": [0.0, 1.0], "hy": [0.0, 1.0], "hz": [[0.2, 0.8], [0.4, 0.6]],
              "points": torch.zeros(3, 2).numpy(), "arrows": torch.ones(3, 2).numpy()}  # fmt: skip
    fig = toylab.toy_2d_figure(extras, torch.zeros(4, 2).numpy(), "bce", 2.0, uirevision="u")
    assert [tr.name for tr in fig.data[1:]] == ["真实样本", "生成样本 G(z)", "−∇ L_G（G 推动生成样本的方向）"]
    assert fig.data[0].colorbar.title.text == "D(x)"  # a symbol, alike in both languages
