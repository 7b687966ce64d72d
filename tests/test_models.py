"""The DCGAN pair's convolutions as dense matrix products on small images (models._DenseConv): the
same function of the same parameters as Conv2d / ConvTranspose2d, to float32 rounding."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from gan_demo import models, presets
from gan_demo.train import GanTrainer

# biases that a BatchNorm follows: BatchNorm subtracts them out again, so their gradient is zero in
# exact arithmetic and float32 rounding noise (about 1e-8) on either path; Adam scales any gradient to
# a step of about lr, so these two drift apart by up to 2 lr per step and are compared separately
BEFORE_BATCHNORM = ("G.project.0.bias", "G.net.0.bias")


def test_taps_count_the_pixels_under_each_kernel_tap():
    # 4x4 input, kernel 4, stride 2, padding 1: 2x2 outputs, each over 3x3 real pixels (one row and
    # one column of each 4x4 window fall on the padding): 4 * 9 = 36 ones in 16 taps x 4 positions x 16 pixels
    taps, positions = models._taps(4, 4, 2, 1)
    assert positions == 4 and taps.shape == (16, 4 * 16) and taps.sum().item() == 36
    assert set(taps.unique().tolist()) == {0.0, 1.0}
    # 8x8: 4x4 outputs, whose windows cover 3, 4, 4, 3 real rows (and as many columns): 14 * 14 = 196
    taps, positions = models._taps(8, 4, 2, 1)
    assert positions == 16 and taps.shape == (16, 16 * 64) and taps.sum().item() == 196
    # output position 0 (top left) under tap 5 (row 1, column 1 of the kernel) sees pixel 0: the
    # window starts at row -1, column -1
    assert taps[5, 0].item() == 1.0 and taps[0, : 64].sum().item() == 0.0  # tap (0, 0) falls on padding


@pytest.mark.parametrize("pack", [1, 2])
def test_dense_path_equals_the_convolution_layers(pack):
    torch.manual_seed(0)
    G, D = models.build("dcgan", (1, 8, 8), z_dim=100, hidden=64, pack=pack)
    assert G.dense and D.dense  # the default on 8x8 images
    assert sorted(G._dense) == ["0", "3"] and sorted(D._dense) == ["0", "2"]  # every convolution
    z, x = torch.randn(128, 100), torch.randn(128, 1, 8, 8)
    names = [f"G.{n}" for n, _ in G.named_parameters()] + [f"D.{n}" for n, _ in D.named_parameters()]
    start = copy.deepcopy((G, D))
    out, grads = {}, {}
    for dense in (False, True):
        G, D = copy.deepcopy(start)  # each path from the same BatchNorm running statistics
        G.dense = D.dense = dense
        params = [*G.parameters(), *D.parameters()]
        fake = G(z)
        out[dense] = (fake.detach(), D(x).detach())
        grads[dense] = torch.autograd.grad(D(fake).pow(2).mean() + D(x).mean(), params)
        with torch.no_grad():
            G.eval()
            out[dense] += (G(z),)  # BatchNorm's running statistics
            G.train()
    for a, b in zip(out[False], out[True], strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= 2e-6 * a.abs().max().item()
    for name, a, b in zip(names, grads[False], grads[True], strict=True):
        if name in BEFORE_BATCHNORM:
            assert max(a.abs().max().item(), b.abs().max().item()) < 1e-6  # zero up to rounding
        else:
            assert (a - b).abs().max().item() <= 2e-5 * a.abs().max().item(), name


def test_dense_path_leaves_the_parameters_and_state_dict_alone_and_only_small_images_use_it():
    torch.manual_seed(0)
    G, D = models.build("dcgan", (1, 8, 8), z_dim=100, hidden=64)
    assert list(G.state_dict()) == ["project.0.weight", "project.0.bias", "project.1.weight", "project.1.bias",
                                    "project.1.running_mean", "project.1.running_var",
                                    "project.1.num_batches_tracked", "net.0.weight", "net.0.bias", "net.1.weight",
                                    "net.1.bias", "net.1.running_mean", "net.1.running_var",
                                    "net.1.num_batches_tracked", "net.3.weight", "net.3.bias"]  # fmt: skip
    assert list(D.state_dict()) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.5.weight",
                                    "net.5.bias"]  # fmt: skip
    assert models.count_parameters(G) == 21_681 and models.count_parameters(D) == 8_625
    # 28x28: layers of 14x14 and 7x7 positions keep the convolutions
    G28, D28 = models.build("dcgan", (1, 28, 28), z_dim=100, hidden=64)
    assert not G28.dense and not D28.dense and len(G28._dense) == len(D28._dense) == 0
    # asked for, on a network with nothing to run densely: stays off
    assert not models.ConvDiscriminator((1, 28, 28), 16, dense=True).dense
    assert not models.ConvDiscriminator((1, 8, 8), 16, dense=False).dense


def test_dense_path_uses_layers_replaced_after_construction():
    torch.manual_seed(0)
    D = models.ConvDiscriminator((1, 8, 8), channels=8)
    assert D.dense and sorted(D._dense) == ["0", "2"]  # the path under test
    x = torch.randn(5, 1, 8, 8)
    D.net[1] = D.net[3] = torch.nn.Identity()  # a linear critic, as tests/test_losses.py makes one
    with torch.no_grad():
        D.net[0].weight.zero_()
        D.net[0].bias.fill_(1.0)  # conv 1 outputs 1 everywhere: D(x) is the same number for every x
        dense = D(x)
        D.dense = False
        assert torch.allclose(dense, D(x), rtol=1e-6)
    assert torch.allclose(dense, dense[0].expand(5))


@pytest.mark.parametrize("preset", ["healthy-lsgan", "healthy-non-saturating"])
def test_a_training_run_on_the_dense_path_follows_the_convolution_path(preset):
    cfg = dataclasses.replace(presets.get(preset).config(), steps=100, device="cpu", seed=0)
    dense, conv = GanTrainer(cfg), GanTrainer(cfg)
    conv.G.dense = conv.D.dense = False
    assert dense.G.dense and dense.D.dense
    rows = [(dense.step(), conv.step())]
    a, b = dense.state_tensors(), conv.state_tensors()
    assert a.keys() == b.keys()
    for key in a:  # after one step: the same weights up to rounding
        if key in BEFORE_BATCHNORM:
            assert (a[key] - b[key]).abs().max().item() <= 2 * cfg.lr_g
        else:
            assert (a[key] - b[key]).abs().max().item() <= 1e-4 * max(b[key].abs().max().item(), 1e-3), key
    rows += [(dense.step(), conv.step()) for _ in range(19)]
    for x, y in rows:  # 20 steps: the same losses to 1e-4
        for name in ("loss_d", "loss_g", "d_real", "d_fake"):
            assert x[name] == pytest.approx(y[name], abs=1e-4), (x["step"], name)


def test_patch_index_gathers_what_unfold_gives():
    # each output position's window, channel by channel, taps row by row: F.unfold's columns, with the
    # padding read from the zero appended to the flat image
    for size, channels, kernel, stride, padding in [(8, 1, 4, 2, 1), (8, 2, 4, 2, 1), (5, 3, 3, 1, 0), (6, 1, 3, 2, 2)]:
        x = torch.randn(3, channels, size, size)
        where = models._patch_index(size, channels, kernel, stride, padding)
        flat = torch.cat([x.reshape(3, -1), torch.zeros(3, 1)], 1)
        expected = torch.nn.functional.unfold(x, kernel, padding=padding, stride=stride).transpose(1, 2)
        assert torch.equal(flat[:, where].view(expected.shape), expected), (size, channels, kernel, stride, padding)
    # 8x8, kernel 4, stride 2, padding 1: 16 positions x 16 taps, of which 256 - 196 fall on the padding
    where = models._patch_index(8, 1, 4, 2, 1)
    assert where.shape == (256,) and (where == 64).sum().item() == 256 - 196


def test_d_first_layer_runs_on_patches_and_hands_rows_to_the_second():
    torch.manual_seed(0)
    G, D = models.build("dcgan", (1, 8, 8), z_dim=100, hidden=64)
    # D's first layer (1 channel in, kernel 4 of 8x8 pixels): the patches; the second (4x4 in) and
    # G's transposed layers: the dense matrix
    assert [(i, d.mode, d.in_rows, d.out_rows) for i, d in D._dense.items()] == [
        ("0", "patches", False, True), ("2", "matrix", True, False)]  # fmt: skip
    assert all(d.mode == "matrix" and not d.in_rows and not d.out_rows for d in G._dense.values())
    # the rows between them: (n, 16 positions, 16 channels), what conv 1 gives transposed
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        rows = D._dense["0"](D.net[0], x)
        assert rows.shape == (4, 16, 16)
        conv = D.net[0](x)
        assert (rows.transpose(1, 2).reshape(4, 16, 4, 4) - conv).abs().max().item() <= 2e-6 * conv.abs().max().item()


def test_without_patches_every_layer_is_a_dense_matrix_with_the_same_values():
    torch.manual_seed(0)
    D = models.ConvDiscriminator((1, 8, 8), channels=16)
    x = torch.randn(6, 1, 8, 8, requires_grad=True)
    before = models._dense_plan(D.net, 8, patches=False)
    assert [(d.mode, d.in_rows, d.out_rows) for d in before.values()] == [("matrix", False, False)] * 2
    out, grads = {}, {}
    for name, plan in (("patches", D._dense), ("matrix", before)):
        D._dense = plan
        out[name] = D(x)
        grads[name] = torch.autograd.grad(out[name].square().sum(), [x, *D.parameters()])
    assert (out["patches"] - out["matrix"]).abs().max().item() <= 2e-6 * out["matrix"].abs().max().item()
    for a, b in zip(grads["patches"], grads["matrix"], strict=True):
        assert (a - b).abs().max().item() <= 2e-5 * b.abs().max().item()


def test_patches_follow_a_first_layer_replaced_with_other_channels():
    torch.manual_seed(0)
    D = models.ConvDiscriminator((1, 8, 8), channels=8)
    assert D._dense["0"].mode == "patches"
    D.net[0] = torch.nn.Conv2d(3, 8, 4, 2, 1)  # three channels in instead of one
    x = torch.randn(5, 3, 8, 8)
    with torch.no_grad():
        patches = D(x)
        D.dense = False
        conv = D(x)
    assert (patches - conv).abs().max().item() <= 2e-6 * conv.abs().max().item()
