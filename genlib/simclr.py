"""SimCLR: contrastive representations without labels (Chen, Kornblith, Norouzi & Hinton 2020, arXiv:2002.05709).

Each image x of a batch of N gets two random views x~_a = t(x), x~_b = t'(x), t, t' ~ T (the augmentations below).
An encoder f gives the representation h = f(x~); a projection head g (a 2-layer MLP) gives z = g(h). Over the 2N
views, the NT-Xent loss (normalised temperature-scaled cross-entropy) asks each view to pick out its partner among
the other 2N - 1 views by cosine similarity at temperature tau:

    l(i, j) = -log  exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau),   s_ik = z_i . z_k / (|z_i| |z_k|)   (eq. 1)
    L = (1 / 2N) sum_i l(i, p(i)),  p(i) the other view of the same image

After training, g is thrown away: downstream tasks use h, read by a linear classifier on frozen features (the
linear evaluation protocol) or by nearest neighbours.

Images are (B, 1, 28, 28) in [-1, 1] (genlib.data's range, background -1). Every augmentation takes a
torch.Generator, so the same seed draws the same views.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from genlib.cnn import conv_trunk

BACKGROUND = -1.0  # the value of an empty pixel in [-1, 1]


# ---- the augmentations T: each maps (B, 1, H, W) in [-1, 1] to the same shape, range and dtype ---------------
def _uniform(n: int, lo: float, hi: float, g: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, dtype=dtype)


def _chosen(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    """(n,) bool: which images an augmentation applied with probability p touches."""
    return torch.rand(n, generator=g) < p


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample each image through an affine map: output pixel at normalised position u in [-1, 1]^2 reads the
    input at theta[:, :, :2] u + theta[:, :, 2] (bilinear); outside the image is background. theta (B, 2, 3)."""
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)  # (B, H, W, 2)
    # grid_sample pads with zeros: shift so that zero is the background, then shift back
    return F.grid_sample(x - BACKGROUND, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + BACKGROUND


def random_resized_crop(x: torch.Tensor, g: torch.Generator, scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3)) -> torch.Tensor:
    """Crop a random box (area a share `scale` of the image, aspect ratio in `ratio`, log-uniform) and resize it back
    to the full size: the view sees a part of the garment, enlarged."""
    B = x.shape[0]
    area = _uniform(B, *scale, g)
    r = torch.exp(_uniform(B, math.log(ratio[0]), math.log(ratio[1]), g))
    w, h = (area * r).sqrt().clamp(max=1.0), (area / r).sqrt().clamp(max=1.0)  # box size, share of the side
    cx, cy = (1 - w) * _uniform(B, -1, 1, g), (1 - h) * _uniform(B, -1, 1, g)  # box centre, inside the image
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = w, cx, h, cy
    return warp(x, theta)


def rotation(angle_deg: torch.Tensor, scale: torch.Tensor | None = None, shift: torch.Tensor | None = None) -> torch.Tensor:
    """theta (B, 2, 3) of a rotation by angle (degrees, counter-clockwise on screen), a zoom by `scale` and a shift
    (B, 2) in normalised units, for warp()."""
    a = torch.deg2rad(angle_deg.double())
    s = torch.ones_like(a) if scale is None else scale.double()
    cos, sin = torch.cos(a) / s, torch.sin(a) / s  # the output reads the input at R(-a) u / s
    theta = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], 1)  # (B, 2, 2)
    t = torch.zeros(len(a), 2, 1, dtype=theta.dtype) if shift is None else -shift.double()[..., None]
    return torch.cat([theta, t], 2).float()


def random_affine(x: torch.Tensor, g: torch.Generator, degrees: float = 15.0, translate: float = 0.08,
                  scale=(0.9, 1.1)) -> torch.Tensor:
    """A small rotation (up to `degrees`), zoom and shift (up to `translate` of the side), background filled in."""
    B = x.shape[0]
    angle = _uniform(B, -degrees, degrees, g)
    zoom = _uniform(B, *scale, g)
    shift = 2 * translate * torch.stack([_uniform(B, -1, 1, g), _uniform(B, -1, 1, g)], 1)  # normalised: side = 2
    return warp(x, rotation(angle, zoom, shift))


def random_hflip(x: torch.Tensor, g: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror left-right with probability p: a mirrored shirt is still a shirt (a mirrored digit is not)."""
    flip = _chosen(x.shape[0], p, g)[:, None, None, None]
    return torch.where(flip, x.flip(3), x)


def random_jitter(x: torch.Tensor, g: torch.Generator, p: float = 0.8, contrast=(0.5, 1.5),
                  brightness: float = 0.25) -> torch.Tensor:
    """The grey-level counterpart of SimCLR's colour distortion: with probability p, scale the contrast about the
    image's mean and shift the brightness, u' = c (u - mean u) + mean u + b on u = (x + 1) / 2, clipped to [0, 1]."""
    B = x.shape[0]
    c = torch.where(_chosen(B, p, g), _uniform(B, *contrast, g), torch.ones(B))[:, None, None, None]
    b = _uniform(B, -brightness, brightness, g)[:, None, None, None] * (c != 1)
    u = (x + 1) / 2
    m = u.mean((1, 2, 3), keepdim=True)
    return ((c * (u - m) + m + b).clamp(0, 1) * 2 - 1).to(x.dtype)


def gaussian_kernel(sigma: torch.Tensor, size: int = 5) -> torch.Tensor:
    """(B, size) normalised 1-D Gaussian kernels exp(-k^2 / 2 sigma^2) / sum, k = -(size // 2) .. size // 2."""
    k = torch.arange(size, dtype=torch.float32) - size // 2
    w = torch.exp(-k[None] ** 2 / (2 * sigma[:, None] ** 2))
    return w / w.sum(1, keepdim=True)


def blur(x: torch.Tensor, sigma: torch.Tensor, size: int = 5) -> torch.Tensor:
    """Separable Gaussian blur of each image with its own sigma (B,), edges replicated."""
    B, C, H, W = x.shape
    k = gaussian_kernel(sigma, size).to(x.dtype)  # (B, size)
    y = F.pad(x.reshape(1, B * C, H, W), (size // 2,) * 4, mode="replicate")
    kernels = k.repeat_interleave(C, 0)  # one kernel per (image, channel) plane: a grouped convolution
    y = F.conv2d(y, kernels[:, None, None, :], groups=B * C)  # along the rows
    y = F.conv2d(y, kernels[:, None, :, None], groups=B * C)  # along the columns
    return y.reshape(B, C, H, W)


def random_blur(x: torch.Tensor, g: torch.Generator, p: float = 0.5, sigma=(0.1, 1.2)) -> torch.Tensor:
    """Gaussian blur with probability p, sigma uniform in `sigma` pixels."""
    B = x.shape[0]
    on = _chosen(B, p, g)[:, None, None, None]
    return torch.where(on, blur(x, _uniform(B, *sigma, g)), x)


def random_noise(x: torch.Tensor, g: torch.Generator, p: float = 0.5, std=(0.02, 0.15)) -> torch.Tensor:
    """Add Gaussian pixel noise (standard deviation uniform in `std`, in [-1, 1] units) with probability p; clip."""
    B = x.shape[0]
    s = torch.where(_chosen(B, p, g), _uniform(B, *std, g), torch.zeros(B))[:, None, None, None]
    return (x + s * torch.randn(x.shape, generator=g)).clamp(-1, 1).to(x.dtype)


def random_erasing(x: torch.Tensor, g: torch.Generator, p: float = 0.25, area=(0.02, 0.15), ratio=(0.3, 3.3),
                   value: float = 0.0) -> torch.Tensor:
    """With probability p, paint a random box (a share `area` of the image, aspect in `ratio`) mid-grey (Zhong et al.
    2020): the view must be recognised from what is left."""
    B, _, H, W = x.shape
    a = _uniform(B, *area, g) * H * W
    r = torch.exp(_uniform(B, math.log(ratio[0]), math.log(ratio[1]), g))
    h = (a * r).sqrt().round().clamp(1, H).long()
    w = (a / r).sqrt().round().clamp(1, W).long()
    top = (_uniform(B, 0, 1, g) * (H - h + 1)).floor().long()
    left = (_uniform(B, 0, 1, g) * (W - w + 1)).floor().long()
    rows, cols = torch.arange(H)[None, :, None], torch.arange(W)[None, None, :]
    box = ((rows >= top[:, None, None]) & (rows < (top + h)[:, None, None]) &
           (cols >= left[:, None, None]) & (cols < (left + w)[:, None, None]))  # (B, H, W)
    box &= _chosen(B, p, g)[:, None, None]
    return x.masked_fill(box[:, None], value)


# The pipeline T, in the order applied. Each can be switched off (the tab's toggles; the training run uses all).
AUGMENTATIONS = {
    "crop": random_resized_crop,
    "affine": random_affine,
    "flip": random_hflip,
    "jitter": random_jitter,
    "blur": random_blur,
    "noise": random_noise,
    "erase": random_erasing,
}


def augment(x: torch.Tensor, g: torch.Generator, ops=tuple(AUGMENTATIONS)) -> torch.Tensor:
    """One random view t(x), t ~ T, of every image: the chosen augmentations in the pipeline's order."""
    unknown = set(ops) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentations {sorted(unknown)}; known: {list(AUGMENTATIONS)}")
    for name, op in AUGMENTATIONS.items():
        if name in ops:
            x = op(x, g)
    return x


def two_views(x: torch.Tensor, seed: int, ops=tuple(AUGMENTATIONS)) -> tuple[torch.Tensor, torch.Tensor]:
    """(t(x), t'(x)): two independent views of each image, drawn from `seed`."""
    g = torch.Generator().manual_seed(seed)
    return augment(x, g, ops), augment(x, g, ops)


# ---- the network: encoder f and projection head g ---------------------------------------------------------
class SimCLR(nn.Module, PyTorchModelHubMixin, library_name="genlib",
             tags=["self-supervised", "contrastive", "simclr", "fashion-mnist", "genlib"], license="mit"):
    """x (B, 1, 28, 28) in [-1, 1] -> h = f(x) (B, h_dim) -> z = g(h) (B, z_dim), h_dim = 2 width 7 7.

    f is the convolutional trunk of genlib.cnn.MNISTClassifier (conv w, w, pool, conv 2w, 2w, pool), flattened: h is
    the whole (2w, 7, 7) feature map, as a ResNet's h is its whole last stage (averaged over a coarser grid there).
    g is the 2-layer MLP Linear(h_dim, hidden), ReLU, Linear(hidden, z_dim). `head` (h_dim -> num_classes) takes
    no part in training; afterwards it holds the linear probe fitted on frozen h, so classify(x) gives its logits."""

    def __init__(self, width: int = 16, hidden: int = 512, z_dim: int = 64, num_classes: int = 10):
        super().__init__()
        self.h_dim = 2 * width * 7 * 7
        self.f = nn.Sequential(conv_trunk(1, width), nn.Flatten())  # (B, 1, 28, 28) -> (B, 2w, 7, 7) -> (B, h_dim)
        self.g = nn.Sequential(nn.Linear(self.h_dim, hidden), nn.ReLU(), nn.Linear(hidden, z_dim))
        self.head = nn.Linear(self.h_dim, num_classes)

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        """h = f(x): (B, 1, 28, 28) -> (B, h_dim), the representation downstream tasks use."""
        return self.f(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.represent(x)
        return h, self.g(h)  # (B, h_dim), (B, z_dim)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """The installed linear probe's class logits: (B, 1, 28, 28) -> (B, num_classes)."""
        return self.head(self.represent(x))


@torch.no_grad()
def embed(model: SimCLR, x: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(h, z) of many images in eval mode, in batches: (N, h_dim), (N, z_dim)."""
    model.eval()
    hs, zs = zip(*(model(x[i : i + batch].float()) for i in range(0, len(x), batch)))
    return torch.cat(hs), torch.cat(zs)


def head_singular_values(model: SimCLR) -> torch.Tensor:
    """Singular values of g's first weight matrix W1 (hidden, h_dim), largest first."""
    return torch.linalg.svdvals(model.g[0].weight.detach().double())


# ---- the NT-Xent loss -------------------------------------------------------------------------------------
def positives(n: int) -> torch.Tensor:
    """p(i) for the 2n views stacked as [view a of images 1..n; view b of images 1..n]: i + n mod 2n."""
    return (torch.arange(2 * n) + n) % (2 * n)


def similarity(z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """Cosine similarities s_ik of the 2N stacked views [z_a; z_b] (each (N, d)): (2N, 2N), ones on the diagonal."""
    z = F.normalize(torch.cat([z_a, z_b]), dim=1)  # z_i / |z_i|
    return z @ z.T


def nt_xent(z_a: torch.Tensor, z_b: torch.Tensor, tau: float = 0.5, reduction: str = "mean") -> torch.Tensor:
    """NT-Xent (eq. 1): l_i = -s_{i,p(i)} / tau + log sum_{k != i} exp(s_ik / tau), averaged over the 2N anchors
    (reduction="none": the (2N,) terms). z_a, z_b (N, d) are the projections of the two views of N images."""
    n = z_a.shape[0]
    s = similarity(z_a, z_b) / tau  # (2N, 2N) logits
    self_mask = torch.eye(2 * n, dtype=torch.bool)
    log_norm = torch.logsumexp(s.masked_fill(self_mask, float("-inf")), dim=1)  # log sum_{k != i} exp(s_ik / tau)
    terms = log_norm - s[torch.arange(2 * n), positives(n)]
    return terms.mean() if reduction == "mean" else terms


def hardest_negative_margin(z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """The tau -> 0 limit of tau * NT-Xent: mean_i max(0, max_{k != i, p(i)} s_ik - s_{i,p(i)}), a hinge on the
    hardest negative only."""
    n = z_a.shape[0]
    s = similarity(z_a, z_b)
    pos = s[torch.arange(2 * n), positives(n)]
    negatives = s.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    negatives[torch.arange(2 * n), positives(n)] = float("-inf")
    return (negatives.max(1).values - pos).clamp(min=0).mean()


def anchor_softmax(s: torch.Tensor, i: int, tau: float) -> tuple[torch.Tensor, float, int]:
    """For anchor i of a (2N, 2N) similarity matrix: (the softmax over the other 2N - 1 views at temperature tau,
    with 0 at i itself; the loss term l_i = -log p(p(i)); the positive's rank among the 2N - 1 views, 1 = top)."""
    n2 = s.shape[0]
    logits = (s[i].double() / tau).masked_fill(torch.arange(n2) == i, float("-inf"))
    p = torch.softmax(logits, 0)
    j = int(positives(n2 // 2)[i])
    loss = float(torch.logsumexp(logits, 0) - logits[j])  # -log p_j, computed without underflow at small tau
    rank = 1 + int((s[i] > s[i, j]).sum()) - int(s[i, i] > s[i, j])  # views more similar than the positive, not i
    return p, loss, rank


# ---- reading the representation: linear probe, nearest neighbours, PCA ----------------------------------------
def standardize(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Centre and scale every feature by the training set's mean and standard deviation."""
    mu, sd = train.mean(0), train.std(0).clamp(min=1e-6)
    return [(a - mu) / sd for a in (train, *others)]


def linear_probe(X: torch.Tensor, y: torch.Tensor, lam: float = 1e-4, num_classes: int = 10, iters: int = 200,
                 init: tuple[torch.Tensor, torch.Tensor] | None = None,
                 dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression on frozen features, minimising the mean cross-entropy + (lam / 2) |W|^2
    (the bias is not penalised) with L-BFGS, from zero or from `init` = (W, b) (a warm start), in `dtype`.
    X (n, d), y (n,) -> (W (num_classes, d), b (num_classes,)), float64."""
    X = X.to(dtype)
    W0, b0 = init if init is not None else (torch.zeros(num_classes, X.shape[1]), torch.zeros(num_classes))
    W = W0.detach().to(dtype).clone().requires_grad_(True)
    b = b0.detach().to(dtype).clone().requires_grad_(True)
    opt = torch.optim.LBFGS([W, b], lr=1, max_iter=iters, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(X @ W.T + b, y) + 0.5 * lam * (W ** 2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return W.detach().double(), b.detach().double()


def probe_accuracy(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> float:
    return ((X.double() @ W.T + b).argmax(1) == y).double().mean().item()


def nearest(query: torch.Tensor, bank: torch.Tensor, k: int, metric: str = "cosine") -> tuple[torch.Tensor, torch.Tensor]:
    """The k rows of bank (M, d) nearest to each query (Q, d): (indices (Q, k), similarity or distance (Q, k)),
    by cosine similarity (largest first) or Euclidean distance (smallest first)."""
    if metric == "cosine":
        s = F.normalize(query.double(), dim=1) @ F.normalize(bank.double(), dim=1).T
        v, i = s.topk(min(k, len(bank)), dim=1)
    elif metric == "euclidean":
        d = torch.cdist(query.double(), bank.double())
        v, i = d.topk(min(k, len(bank)), dim=1, largest=False)
    else:
        raise ValueError(f"metric must be 'cosine' or 'euclidean', not {metric!r}")
    return i, v


def knn_predict(bank: torch.Tensor, labels: torch.Tensor, query: torch.Tensor, k: int = 20, num_classes: int = 10,
                chunk: int = 200) -> torch.Tensor:
    """k-nearest-neighbour classification by cosine similarity: the most frequent label among the k nearest (ties:
    the smallest label). bank (M, d), labels (M,), query (Q, d) -> (Q,)."""
    out = []
    for q in query.split(chunk):
        idx, _ = nearest(q, bank, k)
        votes = F.one_hot(labels[idx], num_classes).sum(1)  # (q, num_classes)
        out.append(votes.argmax(1))  # argmax returns the first maximum: the smallest label on ties
    return torch.cat(out)


def pca_2d(X: torch.Tensor) -> torch.Tensor:
    """The projection of the centred rows of X (n, d) on their first two principal directions: (n, 2), each
    direction's sign fixed so that its largest loading is positive."""
    Xc = X.double() - X.double().mean(0)
    _, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
    V = Vh[:2].T  # (d, 2)
    V = V * torch.sign(V.gather(0, V.abs().argmax(0, keepdim=True)))
    return Xc @ V


PROBE_LAMBDAS = (10.0, 1.0, 0.1, 1e-2, 1e-3, 1e-4, 1e-5)  # the L2 strengths the linear evaluation chooses from,
# strongest first (with 10 labels per class the choice sits at 1 to 10)


def linear_eval(X: torch.Tensor, y: torch.Tensor, X_val: torch.Tensor, y_val: torch.Tensor, X_test: torch.Tensor,
                y_test: torch.Tensor, lambdas=PROBE_LAMBDAS, iters: int = 100, dtype: torch.dtype = torch.float64) -> dict:
    """The linear evaluation protocol on frozen features: standardise with the training rows' statistics, fit the
    probe for each L2 strength in `dtype` (each fit starts from the previous one's solution: a path from strong to
    weak regularisation), keep the one with the best validation accuracy, report its test accuracy.
    -> {"accuracy", "lam", "val_accuracy", "W", "b", "mean", "std"} (W, b act on standardised features)."""
    mu, sd = X.double().mean(0), X.double().std(0).clamp(min=1e-6) if len(X) > 1 else torch.ones(X.shape[1])
    Z, Z_val, Z_test = ((a.double() - mu) / sd for a in (X, X_val, X_test))
    best, init = None, None
    for lam in lambdas:
        W, b = init = linear_probe(Z, y, lam=lam, iters=iters, init=init, dtype=dtype)
        val = probe_accuracy(W, b, Z_val, y_val)
        if best is None or val > best["val_accuracy"]:
            best = {"lam": lam, "val_accuracy": val, "W": W, "b": b}
    return best | {"accuracy": probe_accuracy(best["W"], best["b"], Z_test, y_test), "mean": mu, "std": sd}


def install_probe(model: SimCLR, probe: dict) -> None:
    """Fold a probe fitted on standardised h into model.head, so that model.classify(x) gives its class logits:
    W ((h - mu) / sd) + b = (W / sd) h + (b - W (mu / sd))."""
    W, b, mu, sd = probe["W"], probe["b"], probe["mean"], probe["std"]
    with torch.no_grad():
        model.head.weight.copy_((W / sd).float())
        model.head.bias.copy_((b - W @ (mu / sd)).float())
