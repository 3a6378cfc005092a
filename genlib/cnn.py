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
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2w, 7, 7)
        )
        self.fc = nn.Linear(2 * w * 7 * 7, feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations: (B, 1, 28, 28) in [-1, 1] -> (B, feature_dim)."""
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, num_classes)."""
        return self.head(self.dropout(self.features(x)))
