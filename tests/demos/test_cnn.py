"""The CNN tab's callbacks as plain functions: prediction, the confusion view, the convolution demo, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demos import cnn as tab
from demos import ui
from genlib import cnn


def test_strings_exist_in_both_languages_with_the_tab_prefix():
    keys = {k for k in ui.STRINGS["en"] if k.startswith("cnn_")}
    assert {"cnn_title", "cnn_kernel", "cnn_padding", "cnn_stride"} <= keys
    assert keys == {k for k in ui.STRINGS["zh"] if k.startswith("cnn_")}
    assert tab.TAB_ID == "cnn" and tab.MODELS == ("cnn", "cnn_fashion")


def test_predict_a_bundled_digit():
    digits, labels = ui.sample_digits()
    probs, maps, filters, status = tab.predict(digits[0])
    assert probs.startswith("<svg") and maps.ndim == 3 and filters.ndim == 3
    assert f"Prediction {labels[0]}" in status


@pytest.mark.parametrize("bad", [None, np.zeros((5, 5), np.uint8), "junk"])
def test_predict_without_a_usable_digit_is_a_message(bad):
    *outputs, status = tab.predict(bad)
    assert "No digit" in status and outputs[1] is None


@pytest.mark.parametrize("padding,stride", [(0, 1), (1, 1), (2, 3), (4, 4)])
def test_convolution_demo_equals_f_conv2d_and_states_the_output_size(padding, stride):
    digit = ui.sample_digits()[0][3]
    k = [[0.5, -1.0, 0.25], [2.0, 0.0, -0.5], [1.0, 1.0, -3.0]]
    picture, status = tab.convolve(digit, k, padding, stride)
    n = cnn.output_size(28, 3, padding, stride)
    assert picture is not None and f"Output {n}×{n}" in status
    x = torch.as_tensor(digit, dtype=torch.float64) / 127.5 - 1
    ref = F.conv2d(x[None, None], torch.tensor(k, dtype=torch.float64)[None, None], padding=padding, stride=stride)
    assert f"gives {tuple(ref.shape[-2:])}" in status and "F.conv2d: 0." in status


@pytest.mark.parametrize("kernel,words", [([[float("nan"), 1.0], [1.0, 1.0]], "NaN"), ([["a", 1]], "table of numbers"),
                                          ([[1.0] * 9] * 9, "at most"), ([], "non-empty"),
                                          ({"data": [[1e400, 0.0]]}, "infinite")])
def test_bad_kernels_are_messages(kernel, words):
    picture, status = tab.convolve(ui.sample_digits()[0][0], kernel, 1, 1)
    assert picture is None and words in status and "⛔" in status


def test_out_of_range_padding_and_stride_are_clamped():
    picture, status = tab.convolve(ui.sample_digits()[0][0], None, 99, 0)
    assert picture is not None and "padding: 99 is outside" in status and "stride: 0 is outside" in status


def test_confusion_view_of_the_mnist_classifier():
    conf, per_class, cell, confident, status = tab.confusion_view("cnn", 9, 4)
    assert conf.startswith("<svg") and per_class.startswith("<svg") and confident is not None
    assert "MNIST test set: accuracy 0.99" in status and "Cell (true 9, predicted 4)" in status
    _, _, diag, _, s = tab.confusion_view("cnn", 3, 3)
    assert diag is None and "diagonal" in s


def test_kernel_presets():
    assert tab.kernel_preset("blur")["data"] == tab.KERNELS["blur"]
    assert tab.kernel_preset("nope")["data"] == tab.KERNELS["edge_x"]


def test_fashion_items_go_through_the_fashion_classifier():
    image, preview, status, name = tab.pick_fashion(0)
    assert image.shape == (28, 28) and name == "cnn_fashion" and "Fashion-MNIST test item #0" in status
    _, _, s, _ = tab.pick_fashion(500)
    assert "outside" in s
    probs, maps, filters, status = tab.predict(image, "cnn_fashion")
    if "No weights" in status:  # before `python genlib/train.py cnn_fashion`
        assert probs == "" and "⛔" in status
    else:
        assert "Fashion-MNIST classifier" in status and maps is not None
    *_, bad = tab.predict(image, "nope")
    assert "classifier: 'nope' is not one of" in bad
