"""A small convolutional classifier for 28x28 digits.

Through `features` it is the feature extractor for the sample-quality metrics
in genlib.metrics (a classifier FID and Inception Score computed in its 128-d penultimate space, since
the ImageNet Inception network does not fit MNIST or this CPU budget).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


def conv_trunk(in_channels: int, w: int) -> nn.Sequential:
    """conv(w) conv(w) pool conv(2w) conv(2w) pool, each conv 3x3 + BatchNorm + ReLU: (B, C, 28, 28) -> (B, 2w, 7, 7).
    The classifier below and the SimCLR encoder (genlib.simclr) share it."""
    return nn.Sequential(
        nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
        nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
        nn.MaxPool2d(2),  # (B, w, 14, 14)
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 2w, 7, 7)
    )


class MNISTClassifier(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlib",
    tags=["image-classification", "mnist", "genlib"],
    license="mit",
):
    """conv(32) conv(32) pool conv(64) conv(64) pool -> fc(feature_dim) -> fc(num_classes)."""

    def __init__(self, in_channels: int = 1, width: int = 32, feature_dim: int = 128, num_classes: int = 10, dropout: float = 0.3):
        super().__init__()
        self.conv = conv_trunk(in_channels, width)  # (B, 2w, 7, 7)
        self.fc = nn.Linear(2 * width * 7 * 7, feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations: (B, 1, 28, 28) in [-1, 1] -> (B, feature_dim)."""
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, num_classes)."""
        return self.head(self.dropout(self.features(x)))


# ---- what the CNN tab shows: convolution written out, feature maps, test-set errors --------------------------
def output_size(n: int, k: int, padding: int = 0, stride: int = 1) -> int:
    """Length of a convolution's output along one axis: floor((n + 2p - k) / s) + 1 (0 when the kernel does not fit)."""
    return max(0, (n + 2 * padding - k) // stride + 1)


def conv2d_direct(x: torch.Tensor, kernel: torch.Tensor, padding: int = 0, stride: int = 1) -> torch.Tensor:
    """One-channel cross-correlation written as the sum it is (what deep-learning libraries call convolution):
    out[i, j] = sum_{u, v} x_pad[s i + u, s j + v] k[u, v]. x (H, W), kernel (kh, kw) -> (H', W')."""
    x_pad = F.pad(x, (padding, padding, padding, padding))  # zeros around the image
    kh, kw = kernel.shape
    H, W = output_size(x.shape[0], kh, padding, stride), output_size(x.shape[1], kw, padding, stride)
    out = torch.zeros(H, W, dtype=x.dtype)
    for u in range(kh):  # one shifted, strided copy of the image per kernel entry
        for v in range(kw):
            out += kernel[u, v] * x_pad[u : u + stride * (H - 1) + 1 : stride, v : v + stride * (W - 1) + 1 : stride]
    return out


@torch.no_grad()
def feature_maps(model: MNISTClassifier, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The activations after every ReLU and pooling layer for one image x (1, 1, 28, 28): [(name, (C, H, W)), ...]."""
    out, h, conv = [], x, 0
    for layer in model.conv:
        h = layer(h)
        if isinstance(layer, nn.Conv2d):
            conv += 1
        elif isinstance(layer, nn.ReLU):
            out.append((f"conv{conv} + ReLU", h[0]))
        elif isinstance(layer, nn.MaxPool2d):
            out.append((f"max-pool after conv{conv}", h[0]))
    return out


@torch.no_grad()
def evaluate(model: MNISTClassifier, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> dict:
    """Confusion matrix C[true, predicted] (10, 10), per-class accuracy, and every mistake: its index, label,
    prediction and the probability the model gave its prediction."""
    probs = torch.cat([F.softmax(model(x[i : i + batch]), 1) for i in range(0, len(x), batch)])
    conf, pred = probs.max(1)
    k = probs.shape[1]
    C = torch.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    wrong = torch.nonzero(pred != y).flatten()
    return {"confusion": C, "per_class": C.diag() / C.sum(1).clamp(min=1), "accuracy": (pred == y).float().mean().item(),
            "wrong": wrong, "wrong_label": y[wrong], "wrong_pred": pred[wrong], "wrong_conf": conf[wrong]}
