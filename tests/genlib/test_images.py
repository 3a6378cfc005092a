"""genlib.images: user drawings and uploads -> MNIST-style digits, and sample sheets."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genlib import images


# ---- user images ---------------------------------------------------------------------------------
def _stroke(canvas: np.ndarray, value) -> np.ndarray:
    canvas[60:220, 120:160] = value  # a thick vertical bar: a "1"
    return canvas


def test_prepare_digit_dark_on_light_and_light_on_dark_agree():
    light = _stroke(np.full((280, 280, 3), 255, np.uint8), 0)
    dark = _stroke(np.zeros((280, 280), np.uint8), 255)
    a, b = images.prepare_digit(light), images.prepare_digit(dark)
    assert a.shape == (28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    ys, xs = np.indices(a.shape)
    com = ((ys * a).sum() / a.sum(), (xs * a).sum() / a.sum())
    assert abs(com[0] - 13.5) <= 1 and abs(com[1] - 13.5) <= 1  # centred by centre of mass
    assert (a > 128).any(axis=1).sum() == 20  # scaled so the long side is 20 px


def test_prepare_digit_rgba_strokes_on_transparent_canvas():
    rgba = np.zeros((300, 200, 4), np.uint8)
    rgba[50:250, 80:120, 3] = 255  # black, opaque strokes; the rest is transparent
    out = images.prepare_digit(rgba)
    assert out.max() > 200 and out[0].max() == 0


def test_prepare_digit_blank_and_odd_inputs():
    for blank in (np.zeros((280, 280, 4), np.uint8), np.full((280, 280, 3), 255, np.uint8), np.full((5, 5), 0.5)):
        with pytest.raises(images.BlankImage):
            images.prepare_digit(blank)
    with pytest.raises(ValueError):
        images.prepare_digit(np.zeros((3, 3, 3, 3)))


def test_prepare_digit_huge_colour_upload_is_shrunk_first():
    big = np.full((4000, 4000, 3), (250, 240, 200), np.uint8)  # a cream page
    big[800:3200, 1800:2300] = (20, 30, 200)  # a blue stroke
    out = images.prepare_digit(big)
    assert out.shape == (28, 28) and out.max() > 200


def test_image_grid_layout():
    x = torch.linspace(-1, 1, 5).view(5, 1, 1, 1).expand(5, 1, 28, 28)
    sheet = images.image_grid(x, nrow=3, pad=2)
    assert sheet.shape == (2 * 30 + 2, 3 * 30 + 2)
    assert sheet[2, 2] == 0 and sheet[32, 32] == 255  # first tile black, fifth (row 1, col 1) white
