"""genlib.cnn: the convolution written out equals torch's F.conv2d, the output-size formula matches the tensor
shapes, parameter counts, max pooling, the feature maps and the test-set evaluation of the classifier."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genlib import cnn


@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kshape", [(3, 3), (2, 5), (1, 1)])
def test_convolution_sum_equals_f_conv2d(padding, stride, kshape):
    g = torch.Generator().manual_seed(padding * 10 + stride)
    x = torch.randn(13, 11, generator=g, dtype=torch.float64)
    k = torch.randn(*kshape, generator=g, dtype=torch.float64)
    ours = cnn.conv2d_direct(x, k, padding, stride)
    ref = F.conv2d(x[None, None], k[None, None], padding=padding, stride=stride)[0, 0]
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref)


def test_convolution_is_cross_correlation_by_hand():
    x = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    k = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    # out[i, j] = x[i, j] - x[i + 1, j + 1] = -5 everywhere (no kernel flip)
    torch.testing.assert_close(cnn.conv2d_direct(x, k), torch.full((3, 3), -5.0, dtype=torch.float64))


@pytest.mark.parametrize("n,k,p,s", [(28, 3, 1, 1), (28, 3, 0, 1), (28, 5, 2, 2), (28, 7, 0, 4), (7, 3, 1, 2), (5, 5, 0, 1)])
def test_output_size_formula_matches_the_tensor_shape(n, k, p, s):
    y = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=p, stride=s)
    assert y.shape[-1] == cnn.output_size(n, k, p, s) == (n + 2 * p - k) // s + 1
    assert cnn.output_size(3, 5) == 0  # the kernel does not fit


def test_parameter_count_of_a_conv_layer_vs_a_dense_layer():
    conv = nn.Conv2d(32, 64, 3, padding=1)
    assert sum(p.numel() for p in conv.parameters()) == 64 * 32 * 3 * 3 + 64  # C_out C_in k^2 + C_out
    dense = nn.Linear(32 * 14 * 14, 64 * 14 * 14)  # the same map from (32, 14, 14) to (64, 14, 14), fully connected
    assert sum(p.numel() for p in dense.parameters()) == (32 * 196 + 1) * 64 * 196
    assert sum(p.numel() for p in dense.parameters()) > 4000 * sum(p.numel() for p in conv.parameters())  # 78.7 M vs 18,496


def test_max_pooling_takes_the_largest_of_each_window():
    x = torch.randn(1, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    ref = x.reshape(1, 1, 3, 2, 3, 2).amax(dim=(3, 5))
    torch.testing.assert_close(nn.MaxPool2d(2)(x), ref)


def test_translation_equivariance_of_convolution():
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(12, 12, dtype=torch.float64)
    x[3:6, 3:6] = torch.randn(3, 3, generator=g, dtype=torch.float64)
    k = torch.randn(3, 3, generator=g, dtype=torch.float64)
    shifted = torch.roll(x, shifts=(2, 3), dims=(0, 1))
    torch.testing.assert_close(cnn.conv2d_direct(shifted, k, 1), torch.roll(cnn.conv2d_direct(x, k, 1), (2, 3), (0, 1)))


def test_feature_maps_follow_the_layers_and_evaluate_counts_every_image():
    torch.manual_seed(0)
    model = cnn.MNISTClassifier(width=4, feature_dim=8).eval()
    maps = cnn.feature_maps(model, torch.zeros(1, 1, 28, 28))
    assert [tuple(m.shape) for _, m in maps] == [(4, 28, 28), (4, 28, 28), (4, 14, 14), (8, 14, 14), (8, 14, 14), (8, 7, 7)]
    x, y = torch.randn(50, 1, 28, 28), torch.randint(0, 10, (50,))
    r = cnn.evaluate(model, x, y, batch=16)
    pred = model(x).argmax(1)
    assert int(r["confusion"].sum()) == 50 and r["confusion"][y[0], pred[0]] >= 1
    assert abs(r["accuracy"] - (pred == y).float().mean().item()) < 1e-9
    assert len(r["wrong"]) == int((pred != y).sum()) and (r["wrong_conf"] <= 1).all()
    torch.testing.assert_close(r["per_class"][r["confusion"].sum(1) > 0],
                               (r["confusion"].diag() / r["confusion"].sum(1))[r["confusion"].sum(1) > 0])
