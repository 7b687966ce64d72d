"""Issue 19 for the Train page's frame: the form, the run controls, the queue notice, the progress
text, the charts and the registry's messages in Chinese, with the same numbers as in English.

Every test here fails on the code before the conversion: the page then showed English whatever the
language, and the registry's messages were English strings built in the worker thread.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_demo import content, language, plots, ui
from gan_demo.config import TrainConfig
from gan_demo.runs import live
from gan_demo.runs.live import Busy, RunRegistry

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_train(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def page_runs(at: AppTest) -> list[live.Run]:
    return ui.registry().runs_for(at.session_state["gan_session_id"])


def in_chinese(build):
    """``build()`` with the reader's language set to Chinese (as a zh session's script thread sees it)."""
    try:
        content.set_language_source(lambda: "zh")
        return build()
    finally:
        content.set_language_source(None)


def test_the_train_page_in_chinese_shows_the_chinese_start_button_and_form_labels():
    at = open_train("zh")
    assert at.title[0].value == "训练一个 GAN"
    labels = {key: at.button(key=f"train_{key}").label for key in ("start", "pause", "resume", "step", "stop")}
    assert labels == {"start": "开始", "pause": "暂停", "resume": "继续", "step": "单步", "stop": "停止"}
    assert at.selectbox(key="train_model").label == "模型"
    assert at.selectbox(key="train_loss").label == "损失"
    assert at.selectbox(key="train_optimizer").label == "优化器"
    box = at.selectbox(key="train_preset")
    assert (box.label, box.options[0], box.value) == ("预设", "（无）", "")  # no preset chosen, listed first
    assert {"记录间隔", "怎样读这些曲线和其中的虚线", "打开保存的运行（.zip）"} <= {e.label for e in at.expander}
    assert "选好设置后按 **开始**，曲线和样本会显示在这里。" in [i.value for i in at.info]
    at.session_state[language.STATE_KEY] = "en"  # the sidebar switch: the same widgets, in English
    at.run()
    assert at.button(key="train_start").label == "Start" and at.selectbox(key="train_loss").label == "Loss"
    assert at.title[0].value == "Train a GAN"


def test_the_queue_notice_in_chinese_gives_the_same_place_and_wait_as_in_english(monkeypatch):
    reg = ui.registry()
    real_place = live.RunRegistry.queue_place

    def place_with_a_known_wait(self, run):  # the running runs' rates move: fix the estimate alone
        place = real_place(self, run)
        return None if place is None else dataclasses.replace(place, eta_s=1234.4)

    monkeypatch.setattr(live.RunRegistry, "queue_place", place_with_a_known_wait)
    others, at = [], None
    try:
        while reg.running_count() < reg.max_running:
            others.append(reg.start(f"someone-else-{len(others)}", TrainConfig.for_loss(
                "non-saturating", "ring8", steps=1_000_000, seed=100 + len(others))))  # fmt: skip
        queued_ahead = reg.start("queued-ahead", TrainConfig.for_loss("non-saturating", "ring8", steps=50, seed=7))
        others.append(queued_ahead)
        at = open_train("zh")
        at.button(key="train_start").click().run()
        (run,) = page_runs(at)
        place = reg.queue_place(run)
        assert (place.position, place.length, run.view().status) == (2, 2, "queued")
        (zh,) = [i.value for i in at.info if "队列" in i.value]
        assert f"服务器的训练名额（共 {reg.max_running} 个）已全部占用" in zh
        assert "**第 2 位，共 2 位**" in zh and "预计开始时间：约 1,234 秒后" in zh
        assert f"会等 {reg.grace_s:g} 秒" in zh
        at.session_state[language.STATE_KEY] = "en"
        at.run()
        (en,) = [i.value for i in at.info if "queue" in i.value]
        assert f"Every training slot of this server is taken ({reg.max_running})" in en
        assert "**place 2 of 2**, expected to start in about 1,234 s" in en
        assert f"after {reg.grace_s:g} s" in en
    finally:
        for r in others + (page_runs(at) if at is not None else []):
            r.stop()


def test_a_finished_run_in_chinese_shows_its_progress_caption_and_charts_with_the_english_numbers():
    at = open_train("zh")
    at.number_input(key="train_steps").set_value(40).run()
    at.number_input(key="train_snapshot_every").set_value(20).run()
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    run.join(60)
    assert not run.alive
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    rate = run.view().steps_per_s
    assert at.get("progress")[0].proto.text == f"第 40 步，共 40 步 · 每秒 {rate:,.1f} 步 · 已完成"
    assert at.get("image")[0].proto.imgs[0].caption == "固定噪声，第 40 步"
    assert at.slider(key="train_smoothing").label == "平滑（EMA 权重）"
    losses_zh = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert losses_zh["title"]["text"].startswith("损失 · ")
    assert [a["text"] for a in losses_zh["annotations"]] == ["均衡点处 L_D = 1.39", "均衡点处 L_G = 0.693"]
    at.session_state[language.STATE_KEY] = "en"  # the figure cache holds one figure per language
    at.run()
    assert at.get("progress")[0].proto.text == f"step 40 of 40 · {rate:,.1f} steps/s · done"
    losses_en = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert [a["text"] for a in losses_en["annotations"]] == ["L_D at equilibrium = 1.39", "L_G at equilibrium = 0.693"]


def test_the_charts_legends_axes_and_wgan_title_in_chinese():
    metrics = {"step": [1.0, 2.0], "loss_d": [-1e-4, -1e-4], "w1": [1e-4, 1e-4], "clip_frac": [0.9, 0.9],
               "d_real": [0.5, 0.5], "d_fake": [0.5, 0.5], "d_acc": [0.5, 0.5]}  # fmt: skip
    figs = in_chinese(lambda: plots.run_figures(metrics, "wgan", smoothing=0.0))
    assert figs["w1"].layout.title.text == "评判器的 −L_D ≤ K·W1，K 未知（权重裁剪）"
    assert [d.name for d in figs["w1"].data] == ["评判器的 −L_D = E D(x) − E D(G(z))（≤ K·W1）",
                                                 "判别器权重中被裁剪到 ±c 的比例"]  # fmt: skip
    assert figs["w1"].layout.yaxis2.title.text == "处于 ±c 的比例"
    assert figs["grads"].layout.title.text == "梯度范数" and figs["grads"].layout.xaxis.title.text == "训练步数"
    hinge = in_chinese(lambda: plots.d_output_figure({"step": [1.0], "d_real": [0.2]}, "hinge"))
    assert [a.text for a in hinge.layout.annotations if a.text] == ["hinge 间隔 ±1：在均衡点，[−1, 1] 内的任何 D 都使 L_D = 2"]
    english = plots.run_figures(metrics, "wgan")["w1"]  # no session: English, as before
    assert english.layout.title.text == "Critic's −L_D ≤ K·W1, K unknown (clipping)"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_run_stopped_by_the_registry_keeps_its_reason_as_a_message_for_each_reader():
    """The reason is built in the registry (any thread); it renders in the language of the page."""
    clock = FakeClock()
    reg = RunRegistry(max_running=1, grace_s=45, idle_timeout_s=1800, clock=clock)
    a = reg.start("alice", TrainConfig.for_loss("non-saturating", "ring8", steps=1_000_000, seed=1))
    b = reg.start("bob", TrainConfig.for_loss("non-saturating", "ring8", steps=1_000_000, seed=2))
    try:
        reg.release("bob")
        clock.now += 46
        reg.touch("alice")
        assert b.view().status == "stopped"
        assert b.view().error.render("en") == ("The run left the queue: its browser session disconnected and "
                                               "was not back within 45 s.")  # fmt: skip
        assert b.view().error.render("zh") == "运行已退出队列：它的浏览器会话断开了连接，45 秒内没有恢复。"
        clock.now += 1801  # alice untouched for 1801 s: 30 minutes
        a.join(10)
        assert a.view().error.render("zh") == "运行已停止：已经 30 分钟没有页面在观看它。"
        assert str(a.view().error) == "The run was stopped: no page watched it for 30 minutes."
    finally:
        a.stop()
        b.stop()


def test_the_per_session_limit_and_a_divergence_read_the_same_numbers_in_both_languages():
    reg = RunRegistry(max_running=1, per_session=1)
    a = reg.start("alice", TrainConfig.for_loss("non-saturating", "ring8", steps=1_000_000, seed=1))
    try:
        try:
            reg.start("alice", TrainConfig.for_loss("non-saturating", "ring8", steps=1_000_000, seed=2))
            raise AssertionError("a second run of the same session was accepted")
        except Busy as e:
            (msg,) = e.args
        assert msg.render("en").startswith("You already have 1 run training or waiting in this session, and "
                                           "the limit per session is 1")  # fmt: skip
        assert in_chinese(lambda: str(msg)).startswith("本会话已有 1 次运行正在训练或排队，而每个会话最多只能有 1 次")
    finally:
        a.stop()
    cfg = TrainConfig.for_loss("wgan", "ring8", clip=0.0, lr_d=5e-5, lr_g=5e-5)
    msg = live.divergence_message("loss_d", math.inf, 20, cfg, "D update 2 of 5")
    assert msg.render("en") == (
        "Training diverged: loss_d (in D update 2 of 5) became inf at step 20. The run was stopped. Try: lower "
        "the learning rates (lr_d=5e-05, lr_g=5e-05); WGAN needs weight clipping (clip, e.g. 0.01) or the "
        "gradient penalty (wgan-gp); watch D's logits (d_real, d_fake): when they grow without bound D outruns "
        "G; lower lr_d or d_steps.")  # fmt: skip
    zh = in_chinese(lambda: str(msg))  # (render("zh") renders a Msg inside it in the current language)
    assert zh.startswith("训练发散：loss_d（在判别器的第 2/5 次更新中） 在第 20 步变成了 inf，运行已停止。")
    assert "lr_d=5e-05，lr_g=5e-05" in zh and "WGAN 需要权重裁剪（clip，例如 0.01）" in zh


def test_a_run_saved_from_a_chinese_page_stores_its_reason_in_english():
    """The run folder is a file format (the CLI writes English): a zh reader's save stores the English
    text, nested messages included."""
    from gan_demo.runs import folder

    cfg = TrainConfig.for_loss("wgan", "ring8", clip=0.0, lr_d=5e-5, lr_g=5e-5)
    msg = live.divergence_message("loss_d", math.inf, 20, cfg, "G's update")
    assert in_chinese(lambda: live.english(msg)) == msg.render("en") == (
        "Training diverged: loss_d (in G's update) became inf at step 20. The run was stopped. Try: lower the "
        "learning rates (lr_d=5e-05, lr_g=5e-05); WGAN needs weight clipping (clip, e.g. 0.01) or the gradient "
        "penalty (wgan-gp); watch D's logits (d_real, d_fake): when they grow without bound D outruns G; lower "
        "lr_d or d_steps.")  # fmt: skip
    clock = FakeClock()
    reg = RunRegistry(max_running=1, grace_s=45, clock=clock)
    run = reg.start("alice", TrainConfig.for_loss("non-saturating", "ring8", steps=1_000_000, seed=3))
    try:
        run.view()  # started
        reg.release("alice")
        clock.now += 46
        run.join(10)
        assert run.view().status == "stopped"
        manifest = json.loads(in_chinese(lambda: run.files())[folder.MANIFEST])
        assert manifest["error"] == "The run was stopped: its browser session disconnected and was not back within 45 s."
        assert in_chinese(lambda: str(run.view().error)) == "运行已停止：它的浏览器会话断开了连接，45 秒内没有恢复。"
    finally:
        run.stop()


def test_the_progress_text_of_a_replay_and_of_a_status_from_a_file_in_chinese():
    """A replay scrubbed back has status "replay" (gan_demo.runs.folder); a manifest's own status
    string, which has no text in the catalogue, is shown as it is instead of failing the page."""

    def view(status: str, step: int, rate: float) -> live.RunView:
        return live.RunView(run_id="r", config=TrainConfig(), status=status, error=None, step=step, total_steps=2000,
                            steps_per_s=rate, eta_s=None, metrics={}, snapshots=(), metric_names=(), device="cpu")  # fmt: skip

    assert in_chinese(lambda: ui.progress_text(view("replay", 1200, 0.0))) == "第 1,200 步，共 2,000 步 · 回放"
    assert ui.progress_text(view("replay", 1200, 0.0)) == "step 1,200 of 2,000 · replay"
    assert in_chinese(lambda: ui.progress_text(view("archived", 1200, 812.25))) == (
        "第 1,200 步，共 2,000 步 · 每秒 812.2 步 · archived")  # fmt: skip
