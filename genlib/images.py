"""Images for display and input: sheets of samples, and a user's drawing or upload turned into an MNIST-style digit.

Nothing here loads data sets (genlib.data) or knows about Gradio (demos/ui); the app and the benchmarks use it.
"""
from __future__ import annotations

import numpy as np
import torch

from genlib.data import to_uint8


def image_grid(x: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Images (N, 1, H, W) in [-1, 1] -> one uint8 (rows*(H+pad)+pad, cols*(W+pad)+pad) sheet."""
    n, _, h, w = x.shape
    nrow = nrow or max(1, int(np.ceil(np.sqrt(n))))
    ncol_rows = int(np.ceil(n / nrow))
    sheet = np.full((ncol_rows * (h + pad) + pad, nrow * (w + pad) + pad), 64, dtype=np.uint8)
    tiles = to_uint8(x[:, 0])
    for i in range(n):
        r, c = divmod(i, nrow)
        sheet[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = tiles[i]
    return sheet


def upscale(img: np.ndarray, k: int = 4) -> np.ndarray:
    """Nearest-neighbour enlargement so 28x28 digits stay crisp: (H, W) -> (kH, kW)."""
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)


# ---- user images -> MNIST-style digits --------------------------------------------------------------
MAX_SIDE = 512  # larger uploads are shrunk first, so a 4000x4000 image costs no more than a small one


class BlankImage(ValueError):
    """The image has no visible stroke."""


def _to_ink(img: np.ndarray) -> np.ndarray:
    """Any (H, W), (H, W, 3) or (H, W, 4) image -> float ink map in [0, 1] (1 = stroke)."""
    a = np.asarray(img).astype(np.float64)  # bool, uint8 or float
    if a.size and a.max() > 1.0:
        a = a / 255.0
    if a.ndim == 3 and a.shape[2] == 4:
        rgb, alpha = a[..., :3], a[..., 3]
        if alpha.min() < 0.99 and (alpha > 0.5).mean() < 0.5:
            return alpha  # opaque strokes on a transparent canvas: the alpha channel is the ink
        a = rgb * alpha[..., None] + (1.0 - alpha[..., None])  # composite onto white
    if a.ndim == 3:
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114])  # luminance
    if a.ndim != 2:
        raise ValueError(f"expected an image, got an array of shape {img.shape}")
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    background = float(np.median(border))
    return np.abs(a - background)  # dark-on-light and light-on-dark strokes both become 1


def prepare_digit(img: np.ndarray) -> np.ndarray:
    """A drawing or upload -> uint8 (28, 28) white-on-black digit, preprocessed the way MNIST was:
    the stroke's bounding box scaled to fit 20x20 (aspect kept), then centred by its centre of mass.
    Raises BlankImage when nothing is drawn."""
    from PIL import Image

    a = np.asarray(img)
    if a.ndim not in (2, 3) or min(a.shape[:2]) < 1:
        raise ValueError(f"expected an image, got an array of shape {a.shape}")
    if max(a.shape[:2]) > MAX_SIDE:  # shrink huge uploads before any float work
        pil = Image.fromarray(a if a.dtype == np.uint8 else (np.clip(a, 0, 1) * 255).astype(np.uint8))
        pil.thumbnail((MAX_SIDE, MAX_SIDE))
        a = np.asarray(pil)
    ink = _to_ink(a)
    if ink.max() < 0.15 or (ink > 0.15).sum() < 3:
        raise BlankImage("the image is blank: draw a digit (a bright or dark stroke on a plain background)")
    ink = ink / ink.max()
    rows, cols = np.flatnonzero((ink > 0.15).any(axis=1)), np.flatnonzero((ink > 0.15).any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float64)
    canvas = np.zeros((28, 28))
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = small
    # centre of mass -> image centre (MNIST's second step)
    ys, xs = np.indices(canvas.shape)
    mass = canvas.sum()
    dy, dx = round(13.5 - (ys * canvas).sum() / mass), round(13.5 - (xs * canvas).sum() / mass)
    canvas = np.roll(canvas, (int(np.clip(dy, -4, 4)), int(np.clip(dx, -4, 4))), axis=(0, 1))
    return np.clip(canvas, 0, 255).round().astype(np.uint8)
