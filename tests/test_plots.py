"""The WGAN chart says what the critic's −L_D estimates (issue 12, item 5): at most K·W1 for a
K-Lipschitz critic (Arjovsky et al. 2017), K unknown under weight clipping, near 1 under the GP."""

from __future__ import annotations

from gan_demo import plots


def test_wgan_chart_title_names_k_for_clipping_and_gp():
    base = {"step": [1.0, 2.0], "loss_d": [-1e-4, -1e-4], "w1": [1e-4, 1e-4]}
    clip = plots.run_figures({**base, "clip_frac": [0.9, 0.9]}, "wgan")["w1"]
    assert "K·W1" in clip.layout.title.text and "K unknown" in clip.layout.title.text
    assert "W1 estimate" not in clip.data[0].name and "≤ K·W1" in clip.data[0].name
    gp = plots.run_figures({**base, "gp": [0.1, 0.1], "gp_norm": [1.0, 1.0]}, "wgan-gp")["w1"]
    assert "K near 1" in gp.layout.title.text
    bare = plots.run_figures(base, "wgan")["w1"]
    assert "not a W1 estimate" in bare.layout.title.text


def test_log_axes_label_whole_decades_only():
    """Plotly's default log ticks label the 2s and 5s between decades with their first digit alone
    ("2, 10, 5, 2"): every log chart labels decades (10^k) and leaves the minor ticks bare."""
    from gan_demo import quality_panel

    grads = plots.grad_figure({"step": [1.0, 2.0], "grad_d": [0.01, 30.0], "grad_g": [1.0, 2.0]})
    report = {"fd": 400.0, "fd_floor": 38.4, "n": 64}
    fd = quality_panel.fd_figure([(0, report), (100, report)], "x")
    for fig in (grads, fd):
        axis = fig.layout.yaxis
        assert (axis.type, axis.dtick, axis.exponentformat, axis.minor.dtick) == ("log", 1, "power", "D1")
