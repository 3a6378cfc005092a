"""Evaluating and comparing learners (Zhou Zhihua, *Machine Learning*, ch. 2), on classifiers trained here.

Read top to bottom, in the chapter's order:

    data      the bundled binary pairs of MNIST / Fashion-MNIST (assets/eval_sample.npz) and seeded 2-D blobs
    learners  small classifiers trained in milliseconds: logistic regression (Newton), averaged perceptron, k-NN,
              decision stump; each returns a score per test sample (higher = more positive, in [0, 1])
    splits    hold-out (stratified or not), k-fold, bootstrap and its out-of-bag set            (sec. 2.2)
    scores    confusion matrix, P, R, F_beta, macro / micro, P-R curve, break-even point, ROC, AUC and
              the rank loss (AUC = 1 - l_rank)                                                   (sec. 2.3)
    costs     cost-sensitive error and the cost curve (its lower envelope)                       (sec. 2.3.4)
    tests     binomial and t-test on one learner, paired cv t-test, 5x2 cv t-test, McNemar,
              Friedman + Nemenyi (critical difference)                                           (sec. 2.4)
    bias-variance  polynomial regression of a known function on many resampled training sets    (sec. 2.5)

Labels are 1 (positive) and 0 (negative). Every function checks its input and raises ValueError with a sentence a
user can read. scipy supplies the distributions (t, chi^2, F, binomial, studentized range); it is imported on first
use so that importing this module stays cheap.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ASSET_PATH = Path(__file__).resolve().parent / "assets" / "eval_sample.npz"
PER_CLASS = 200  # bundled test images per class and data set
SIDE = 14  # bundled images are 2x2-mean-pooled 28x28 digits: 14x14


# ---- data ------------------------------------------------------------------------------------------------
def make_eval_sample(data_dir: str | os.PathLike | None = None, per_class: int = PER_CLASS, out: Path = ASSET_PATH) -> Path:
    """Write the bundled sample: the first `per_class` test images of each class of MNIST and Fashion-MNIST,
    2x2 mean-pooled to 14x14 uint8 (deterministic; needs the IDX files)."""
    from genlib import data

    root = data.resolve_data_dir(data_dir)
    if root is None:
        raise FileNotFoundError("need the MNIST and Fashion-MNIST IDX files (--data-dir or GENLIB_DATA)")
    arrays = {}
    for name, key in (("mnist", "mnist"), ("fashion-mnist", "fashion")):
        images, labels = (data.read_idx(p) for p in data._idx_paths(root, name, "test"))
        keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)]))
        pooled = images[keep].reshape(-1, SIDE, 2, SIDE, 2).astype(np.float64).mean(axis=(2, 4))
        arrays[f"{key}_images"] = np.round(pooled).astype(np.uint8)
        arrays[f"{key}_labels"] = labels[keep].astype(np.uint8)
        arrays[f"{key}_test_index"] = keep.astype(np.int32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return out


@functools.lru_cache(maxsize=1)
def _sample() -> dict[str, np.ndarray]:
    with np.load(ASSET_PATH) as z:
        return {k: z[k] for k in z.files}


FASHION_NAMES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
# name -> (source, positive class, negative class); the blobs are generated
PAIRS = {
    "mnist_3v5": ("mnist", 3, 5), "mnist_4v9": ("mnist", 4, 9), "mnist_7v9": ("mnist", 7, 9),
    "mnist_1v7": ("mnist", 1, 7), "fashion_shirt_v_tshirt": ("fashion", 6, 0),
    "fashion_pullover_v_coat": ("fashion", 2, 4), "fashion_sneaker_v_boot": ("fashion", 7, 9),
}
DATASETS = list(PAIRS) + ["blobs"]


def blobs(n: int = 400, noise: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes in the plane, means (+1, +0.5) (positive) and (-1, -0.5), standard deviation `noise`;
    n // 2 of each. The larger the noise, the more they overlap."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2 == 0).astype(np.int64)
    centre = np.where(y[:, None] == 1, [1.0, 0.5], [-1.0, -0.5])
    return centre + noise * rng.standard_normal((n, 2)), y


def load_dataset(name: str, noise: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, d) float64, y (n,) in {0, 1}) for one of DATASETS. Images are scaled to [0, 1] (d = 196)."""
    if name == "blobs":
        return blobs(400, noise, seed)
    if name not in PAIRS:
        raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")
    source, pos, neg = PAIRS[name]
    s = _sample()
    images, labels = s[f"{source}_images"], s[f"{source}_labels"]
    keep = (labels == pos) | (labels == neg)
    return images[keep].reshape(keep.sum(), -1) / 255.0, (labels[keep] == pos).astype(np.int64)


def load_multiclass(source: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """All ten classes of the bundled sample of `source` ('mnist' or 'fashion'): X (2000, 196) in [0, 1], y (2000,)."""
    if source not in ("mnist", "fashion"):
        raise ValueError(f"source must be 'mnist' or 'fashion', not {source!r}")
    s = _sample()
    x = s[f"{source}_images"]
    return x.reshape(len(x), -1) / 255.0, s[f"{source}_labels"].astype(np.int64)


# ---- learners: fit on (X, y), score X_test; every score is in [0, 1], higher = more positive --------------------
def _check_fit(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if len(X) != len(y) or len(y) == 0:
        raise ValueError("the training set is empty or X and y differ in length")
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("the training set holds only one class: a classifier needs both (an empty class)")
    return X, y


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def logistic_regression(X, y, X_test, l2: float = 1.0, steps: int = 12, seed: int = 0) -> np.ndarray:
    """Logistic regression fitted by Newton's method (Zhou eq. 3.27-3.31) with an L2 penalty l2 |w|^2 / 2;
    returns p(y = 1 | x) on X_test."""
    X, y = _check_fit(X, y)
    # torch (float64) for the matrix work: its thread count is the app's to set (numpy's BLAS spins on 2 busy cores)
    A = torch.from_numpy(np.hstack([X, np.ones((len(X), 1))]))  # (n, d + 1): beta = (w; b)
    t = torch.from_numpy(y.astype(np.float64))
    beta = torch.zeros(A.shape[1], dtype=torch.float64)
    penalty = l2 * torch.eye(A.shape[1], dtype=torch.float64)
    penalty[-1, -1] = 0.0  # the bias is not penalised
    for _ in range(steps):
        p = torch.sigmoid(A @ beta)  # (n,)
        grad = A.T @ (p - t) + penalty @ beta  # first derivative of the penalised negative log-likelihood
        hess = (A * (p * (1 - p))[:, None]).T @ A + penalty  # second derivative
        beta = beta - torch.linalg.solve(hess, grad)  # Newton step (eq. 3.29)
    A_test = torch.from_numpy(np.hstack([np.asarray(X_test, dtype=np.float64), np.ones((len(X_test), 1))]))
    return torch.sigmoid(A_test @ beta).numpy()


def perceptron(X, y, X_test, epochs: int = 10, seed: int = 0) -> np.ndarray:
    """The averaged perceptron: w <- w + (y_i - yhat_i) x_i over `epochs` shuffled passes; scores are
    sigmoid(w_avg . x + b_avg) of the averaged weights (the order, not the scale, is what ROC uses)."""
    X, y = _check_fit(X, y)
    rng = np.random.default_rng(seed)
    w, b, w_sum, b_sum, count = np.zeros(X.shape[1]), 0.0, np.zeros(X.shape[1]), 0.0, 0
    sign = 2.0 * y - 1.0
    for _ in range(epochs):
        for i in rng.permutation(len(X)):
            if sign[i] * (X[i] @ w + b) <= 0:
                w, b = w + sign[i] * X[i], b + sign[i]
            w_sum, b_sum, count = w_sum + w, b_sum + b, count + 1
    return _sigmoid(np.asarray(X_test, dtype=np.float64) @ (w_sum / count) + b_sum / count)


def _nearest(X, X_test, k: int) -> np.ndarray:
    """Indices (m, k) of the k nearest training points of each test point (Euclidean; ties by index)."""
    Q, P = torch.from_numpy(np.asarray(X_test, dtype=np.float64)), torch.from_numpy(np.asarray(X, dtype=np.float64))
    d2 = ((Q ** 2).sum(1)[:, None] - 2 * Q @ P.T + (P ** 2).sum(1)[None]).numpy()  # (m, n) squared distances
    return np.argsort(d2, axis=1, kind="stable")[:, :k]


def knn(X, y, X_test, k: int = 7, seed: int = 0) -> np.ndarray:
    """k nearest neighbours: the score is the share of positives among the k nearest training points."""
    X, y = _check_fit(X, y)
    if not 1 <= k <= len(X):
        raise ValueError(f"k-NN needs 1 <= k <= n: k = {k}, n = {len(X)} training points")
    return y[_nearest(X, X_test, k)].mean(axis=1)


def knn_multiclass(X, y, X_test, k: int = 5) -> np.ndarray:
    """k-NN for many classes: the most frequent label among the k nearest (ties: the smallest label)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    votes = y[_nearest(X, X_test, k)]  # (m, k)
    counts = np.stack([(votes == c).sum(1) for c in range(int(y.max()) + 1)], axis=1)
    return counts.argmax(axis=1)


def decision_stump(X, y, X_test, seed: int = 0) -> np.ndarray:
    """A one-level decision tree: the single feature and threshold with the fewest training errors; the score of a
    leaf is its share of positives (Laplace-smoothed, (pos + 1) / (n + 2)), so a stump gives two scores."""
    X, y = _check_fit(X, y)
    n, d = X.shape
    order = np.argsort(X, axis=0, kind="stable")  # (n, d)
    xs, ys = np.take_along_axis(X, order, 0), y[order]  # sorted per feature
    pos_left = np.cumsum(ys, axis=0)[:-1]  # positives among the first i + 1 points, (n - 1, d)
    size_left = np.arange(1, n)[:, None]
    pos_total = y.sum()
    # errors when the left side predicts its majority and the right side its majority
    err = np.minimum(pos_left, size_left - pos_left) + np.minimum(pos_total - pos_left, (n - size_left) - (pos_total - pos_left))
    err = np.where(xs[1:] > xs[:-1], err, n + 1)  # a threshold only between distinct values
    i, j = np.unravel_index(np.argmin(err), err.shape)
    if err[i, j] > n:  # every feature constant: one leaf
        return np.full(len(X_test), (pos_total + 1) / (n + 2))
    thr = (xs[i, j] + xs[i + 1, j]) / 2
    left = X[:, j] <= thr
    p_left = (y[left].sum() + 1) / (left.sum() + 2)
    p_right = (y[~left].sum() + 1) / ((~left).sum() + 2)
    return np.where(np.asarray(X_test, dtype=np.float64)[:, j] <= thr, p_left, p_right)


LEARNERS = {
    "logistic": logistic_regression,
    "perceptron": perceptron,
    "knn1": functools.partial(knn, k=1),
    "knn7": functools.partial(knn, k=7),
    "stump": decision_stump,
}


def fit_score(learner: str, X, y, X_test, seed: int = 0) -> np.ndarray:
    """Train LEARNERS[learner] on (X, y) and return its scores on X_test."""
    if learner not in LEARNERS:
        raise ValueError(f"unknown learner {learner!r}; choose one of {list(LEARNERS)}")
    return LEARNERS[learner](X, y, X_test, seed=seed)


# ---- splits (sec. 2.2) --------------------------------------------------------------------------------------
def _classes(y, stratified: bool) -> list[np.ndarray]:
    """The index sets that are split separately: one per class when stratified, else all samples."""
    y = np.asarray(y)
    if not stratified:
        return [np.arange(len(y))]
    return [np.flatnonzero(y == c) for c in np.unique(y)]


def hold_out(y, test_fraction: float = 0.3, stratified: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hold-out: (train indices, test indices), a share `test_fraction` of the samples (of each class, when
    stratified) in the test set. Both sets are non-empty."""
    y = np.asarray(y)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"the test fraction must lie in (0, 1), not {test_fraction}")
    if len(y) < 2:
        raise ValueError(f"a hold-out split needs at least 2 samples, not {len(y)}")
    rng = np.random.default_rng(seed)
    test = []
    for idx in _classes(y, stratified):
        m = min(max(int(round(test_fraction * len(idx))), 1), len(idx) - 1)  # at least one in each set (a class of 1: train)
        test.append(rng.permutation(idx)[:m])
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(y)), test), test


def k_fold(y, k: int = 10, stratified: bool = True, seed: int = 0) -> list[np.ndarray]:
    """k-fold cross-validation: k disjoint test folds covering every sample once (of sizes differing by at most one
    per class, when stratified)."""
    y = np.asarray(y)
    n = len(y)
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k-fold needs an integer k >= 2, not {k!r}")
    if k > n:
        raise ValueError(f"k = {k} folds is more than the n = {n} samples: some folds would be empty")
    rng = np.random.default_rng(seed)
    folds = [[] for _ in range(k)]
    offset = 0
    for idx in _classes(y, stratified):
        for j, i in enumerate(rng.permutation(idx)):  # deal the samples out like cards, continuing across classes
            folds[(offset + j) % k].append(i)
        offset += len(idx)
    return [np.sort(np.asarray(f, dtype=np.int64)) for f in folds]


def bootstrap(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The bootstrap: n draws with replacement (the training set, with repeats) and the out-of-bag samples never
    drawn (the test set). Each sample is missed with probability (1 - 1/n)^n -> 1/e."""
    if n < 1:
        raise ValueError(f"the bootstrap needs n >= 1 samples, not {n}")
    drawn = np.random.default_rng(seed).integers(0, n, size=n)
    return drawn, np.setdiff1d(np.arange(n), drawn)


def oob_probability(n: int) -> float:
    """P(a given sample is never drawn in n draws with replacement) = (1 - 1/n)^n (Zhou eq. 2.1)."""
    return (1.0 - 1.0 / n) ** n


# ---- scores (sec. 2.3) ------------------------------------------------------------------------------------
def _labels_scores(y, s) -> tuple[np.ndarray, np.ndarray]:
    y, s = np.asarray(y).astype(np.int64), np.asarray(s, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError("labels and scores must be two 1-D arrays of the same length")
    if not np.all(np.isfinite(s)):
        raise ValueError("a score is NaN or infinite")
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("the test set holds only one class: P-R and ROC curves need positives and negatives")
    return y, s


@dataclass
class Confusion:
    """The binary confusion matrix (Zhou table 2.1): TP, FN (true positives), FP, TN (true negatives)."""

    tp: int
    fn: int
    fp: int
    tn: int

    @property
    def precision(self) -> float:  # P = TP / (TP + FP); 0 when nothing is predicted positive
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:  # R = TP / (TP + FN)
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def f_beta(self, beta: float = 1.0) -> float:
        return f_beta(self.precision, self.recall, beta)

    @property
    def error(self) -> float:
        return (self.fn + self.fp) / (self.tp + self.fn + self.fp + self.tn)


def confusion(y, pred) -> Confusion:
    y, pred = np.asarray(y).astype(bool), np.asarray(pred).astype(bool)
    return Confusion(int((y & pred).sum()), int((y & ~pred).sum()), int((~y & pred).sum()), int((~y & ~pred).sum()))


def f_beta(precision: float, recall: float, beta: float = 1.0) -> float:
    """F_beta = (1 + beta^2) P R / (beta^2 P + R) (Zhou eq. 2.11): the weighted harmonic mean of P and R, where
    recall counts beta times as much as precision; 0 when P = R = 0."""
    if not beta > 0:
        raise ValueError(f"beta must be positive, not {beta}")
    den = beta ** 2 * precision + recall
    return (1 + beta ** 2) * precision * recall / den if den else 0.0


def confusion_matrix(y, pred, n_classes: int) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j."""
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (np.asarray(y), np.asarray(pred)), 1)
    return C


def macro_micro(C) -> dict[str, float]:
    """Macro and micro averages over the classes of a confusion matrix (Zhou eq. 2.12-2.15). Each class in turn is
    the positive class. Macro: average P_i and R_i; macro-F1 from them (the book), and the mean of the per-class F1
    (scikit-learn's 'macro'). Micro: average TP, FP, FN first, then P, R, F1."""
    C = np.asarray(C, dtype=np.float64)
    tp = np.diag(C)
    fp, fn = C.sum(0) - tp, C.sum(1) - tp
    P = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    R = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    F = np.array([f_beta(p, r) for p, r in zip(P, R)])
    macro_p, macro_r = P.mean(), R.mean()
    micro = Confusion(tp.mean(), fn.mean(), fp.mean(), 0)
    return {"macro_P": macro_p, "macro_R": macro_r, "macro_F1": f_beta(macro_p, macro_r), "mean_F1": F.mean(),
            "micro_P": micro.precision, "micro_R": micro.recall, "micro_F1": micro.f_beta(1.0),
            "per_class_P": P, "per_class_R": R, "per_class_F1": F}


def _cumulative(y, s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by score, highest first; at each distinct score (as a threshold, 'positive if s >= threshold'):
    the true and false positives so far. Ties share one threshold, so they enter the curves together."""
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last index of each run of equal scores
    tps = np.cumsum(y)[last]
    return tps, (last + 1) - tps, s[last]


def pr_curve(y, s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The P-R curve (Zhou fig. 2.3): (precision, recall, thresholds), one point per distinct score from the highest
    threshold down: everything with score >= threshold is predicted positive."""
    y, s = _labels_scores(y, s)
    tps, fps, thr = _cumulative(y, s)
    return tps / (tps + fps), tps / y.sum(), thr


def average_precision(y, s) -> float:
    """AP = sum_n (R_n - R_{n-1}) P_n: the area under the P-R curve taken as a step function."""
    P, R, _ = pr_curve(y, s)
    return float(np.sum(np.diff(np.r_[0.0, R]) * P))


def break_even_point(y, s) -> tuple[float, float]:
    """The break-even point (BEP): where P = R. Predicting exactly the m+ top-scored samples positive (m+ = the
    number of positives) gives TP/m+ for both; with ties at that cut, the curve point where |P - R| is smallest.
    Returns (BEP value, threshold)."""
    P, R, thr = pr_curve(y, s)
    i = int(np.argmin(np.abs(P - R)))
    return float((P[i] + R[i]) / 2), float(thr[i])


def roc_curve(y, s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve (Zhou fig. 2.4): (FPR, TPR, thresholds) starting at (0, 0) (threshold +inf), one point per
    distinct score. TPR = TP / (TP + FN), FPR = FP / (TN + FP) (eq. 2.18-2.19)."""
    y, s = _labels_scores(y, s)
    tps, fps, thr = _cumulative(y, s)
    return np.r_[0.0, fps / (len(y) - y.sum())], np.r_[0.0, tps / y.sum()], np.r_[np.inf, thr]


def auc(fpr, tpr) -> float:
    """AUC = 1/2 sum_i (x_{i+1} - x_i)(y_i + y_{i+1}) (eq. 2.20): the trapezoids under the ROC curve."""
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    return float(0.5 * np.sum(np.diff(fpr) * (tpr[:-1] + tpr[1:])))


def rank_loss(y, s) -> float:
    """l_rank = 1/(m+ m-) sum_{x+} sum_{x-} ( I(f(x+) < f(x-)) + 1/2 I(f(x+) = f(x-)) ) (eq. 2.21): the share of
    positive-negative pairs ranked the wrong way round, a tie counting half."""
    y, s = _labels_scores(y, s)
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    below = np.searchsorted(neg, pos, side="left")  # negatives scored strictly below each positive
    not_above = np.searchsorted(neg, pos, side="right")  # ... below or equal
    wrong2 = np.sum(2 * (len(neg) - not_above) + (not_above - below))  # 2 x (pairs the wrong way + half the ties)
    return float(wrong2 / (2 * len(pos) * len(neg)))


# ---- costs (sec. 2.3.4) ---------------------------------------------------------------------------------
def check_costs(cost) -> np.ndarray:
    """A 2x2 cost matrix, rows = true class (positive, negative), columns = predicted (positive, negative), as
    Zhou table 2.2 with class 0 the positive class: cost[0, 1] = cost01 (a positive called negative), cost[1, 0] =
    cost10. The diagonal must be 0, the other entries finite, non-negative and not both 0."""
    try:
        c = np.asarray(cost, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the cost matrix must hold numbers") from None
    if c.shape != (2, 2):
        raise ValueError(f"the cost matrix must be 2 x 2, not {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("a cost entry is empty, NaN or infinite; every entry needs a number")
    if np.any(c < 0):
        raise ValueError("costs cannot be negative")
    if c[0, 0] != 0 or c[1, 1] != 0:
        raise ValueError("a correct prediction costs nothing: the diagonal of the cost matrix must be 0")
    if c[0, 1] + c[1, 0] == 0:
        raise ValueError("both error costs are 0: every classifier is then free, and there is nothing to compare")
    return c


def cost_sensitive_error(y, pred, cost) -> float:
    """E(f; D; cost) = 1/m ( sum_{x in D+} I(f(x) != y) cost01 + sum_{x in D-} I(f(x) != y) cost10 ) (eq. 2.23)."""
    c = check_costs(cost)
    k = confusion(y, pred)
    return (k.fn * c[0, 1] + k.fp * c[1, 0]) / (k.tp + k.fn + k.fp + k.tn)


def positive_cost_share(p, cost) -> np.ndarray:
    """The x axis of the cost curve: P(+)cost = p cost01 / (p cost01 + (1 - p) cost10) (eq. 2.24), for the prior
    p of the positive class."""
    c = check_costs(cost)
    p = np.asarray(p, dtype=np.float64)
    return p * c[0, 1] / (p * c[0, 1] + (1 - p) * c[1, 0])


def normalized_cost(fpr, fnr, p_cost) -> np.ndarray:
    """cost_norm = FNR P(+)cost + FPR (1 - P(+)cost) (eq. 2.25, written in P(+)cost): the line from (0, FPR) to
    (1, FNR) that one ROC point draws on the cost plane."""
    return np.asarray(fnr)[..., None] * p_cost + np.asarray(fpr)[..., None] * (1 - p_cost)


def cost_curve(fpr, tpr, grid: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x = P(+)cost on [0, 1], the lines of every ROC point (points, grid), their lower envelope): the area under
    the envelope is the classifier's expected total cost over all class priors and costs."""
    x = np.linspace(0.0, 1.0, grid)
    lines = normalized_cost(np.asarray(fpr), 1 - np.asarray(tpr), x)
    return x, lines, lines.min(axis=0)


# ---- hypothesis tests (sec. 2.4) ----------------------------------------------------------------------------
def _stats():
    from scipy import stats  # the distributions; imported on first use (about a second)

    return stats


def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, (int, float, np.floating)) and 0.0 < alpha < 1.0):
        raise ValueError(f"the significance level alpha must lie strictly between 0 and 1, not {alpha!r}")
    return float(alpha)


@dataclass
class TestResult:
    """One hypothesis test: the statistic, its distribution under H0, the critical value at alpha, the p-value
    and whether H0 is rejected."""

    name: str
    statistic: float
    distribution: str  # e.g. "t(9)", "chi2(1)", "F(4, 28)", "Binomial(300, 0.3)"
    critical: float
    p_value: float
    reject: bool
    alpha: float


def binomial_test(errors: int, m: int, eps0: float, alpha: float = 0.05) -> TestResult:
    """H0: the generalisation error eps <= eps0, from `errors` mistakes on m test samples (Zhou eq. 2.26-2.27).
    Under H0 the count is at most Binomial(m, eps0); reject when P(X >= errors) < alpha. The critical value is
    the smallest count c with P(X >= c) <= alpha."""
    alpha = _check_alpha(alpha)
    if not (m >= 1 and 0 <= errors <= m):
        raise ValueError(f"need 0 <= errors <= m and m >= 1 (errors = {errors}, m = {m})")
    if not 0.0 < eps0 < 1.0:
        raise ValueError(f"eps0 must lie in (0, 1), not {eps0}")
    B = _stats().binom(m, eps0)
    p = float(B.sf(errors - 1))  # P(X >= errors)
    critical = float(B.isf(alpha) + 1)  # smallest c with P(X >= c) <= alpha
    return TestResult("binomial", float(errors), f"Binomial({m}, {eps0:g})", critical, p, p <= alpha, alpha)


def t_test(error_rates, eps0: float, alpha: float = 0.05) -> TestResult:
    """H0: mu = eps0, from k error rates of repeated hold-out (eq. 2.28-2.29): tau_t = sqrt(k)(mu - eps0)/sigma
    follows t(k - 1) (sigma: the sample standard deviation, ddof = 1); two-sided."""
    alpha = _check_alpha(alpha)
    e = np.asarray(error_rates, dtype=np.float64)
    if e.ndim != 1 or len(e) < 2:
        raise ValueError(f"the t-test needs at least 2 error rates, not {e.size}")
    sigma = e.std(ddof=1)
    if sigma == 0:
        raise ValueError("every error rate is the same (zero variance): the t statistic is undefined (a 0 in the "
                         "denominator); use more test samples or repeats")
    k = len(e)
    tau = math.sqrt(k) * (e.mean() - eps0) / sigma
    T = _stats().t(k - 1)
    return TestResult("t-test", tau, f"t({k - 1})", float(T.isf(alpha / 2)), float(2 * T.sf(abs(tau))),
                      abs(tau) > T.isf(alpha / 2), alpha)


def paired_t_test(errors_a, errors_b, alpha: float = 0.05) -> TestResult:
    """Paired t-test over k folds (eq. 2.30): Delta_i = eps_i^A - eps_i^B, tau_t = sqrt(k) mu / sigma ~ t(k - 1)
    under H0 'A and B perform the same'. Assumes the Delta_i independent, which folds sharing training data are
    not (Dietterich 1998) - hence the 5x2 cv test."""
    alpha = _check_alpha(alpha)
    a, b = np.asarray(errors_a, dtype=np.float64), np.asarray(errors_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError("the paired t-test needs two lists of at least 2 error rates, one per fold, of equal length")
    d = a - b
    sigma = d.std(ddof=1)
    if sigma == 0:
        raise ValueError("the two learners differ by the same amount on every fold (zero variance, e.g. identical "
                         "learners): the t statistic is undefined")
    k = len(d)
    tau = math.sqrt(k) * d.mean() / sigma
    T = _stats().t(k - 1)
    return TestResult("paired t-test", tau, f"t({k - 1})", float(T.isf(alpha / 2)), float(2 * T.sf(abs(tau))),
                      abs(tau) > T.isf(alpha / 2), alpha)


def cv_5x2_t_test(diffs, alpha: float = 0.05) -> TestResult:
    """5x2 cv paired t-test: diffs[i, j] = error of A minus error of B on fold j of replication i (5 x 2).
    mu = mean of replication 1, sigma_i^2 = sum_j (Delta_i^j - mean_i)^2;
    tau_t = sqrt(2) mu / sqrt(0.2 sum_i sigma_i^2) ~ t(5) exactly for i.i.d. normal differences (mu has half the
    variance of one difference and is independent of every sigma_i^2). The book's eq. 2.31 omits the sqrt(2) and
    rejects ~1.5 % of true H0 at alpha 0.05; Dietterich's Delta_1^1 numerator ~2.8 % (tests simulate all three)."""
    alpha = _check_alpha(alpha)
    D = np.asarray(diffs, dtype=np.float64)
    if D.shape != (5, 2):
        raise ValueError(f"5x2 cv needs a 5 x 2 table of differences, not {D.shape}")
    mean = D.mean(axis=1)
    var = ((D - mean[:, None]) ** 2).sum(axis=1)
    if var.sum() == 0:
        raise ValueError("every fold of every replication gives the same difference (zero variance, e.g. identical "
                         "learners): the 5x2 cv statistic is undefined")
    tau = math.sqrt(2.0) * mean[0] / math.sqrt(0.2 * var.sum())
    T = _stats().t(5)
    return TestResult("5x2 cv t-test", tau, "t(5)", float(T.isf(alpha / 2)), float(2 * T.sf(abs(tau))),
                      abs(tau) > T.isf(alpha / 2), alpha)


def mcnemar(wrong_a, wrong_b, alpha: float = 0.05, correction: bool = True) -> tuple[TestResult, int, int]:
    """McNemar's test on one test set (eq. 2.32-2.33). e01 = samples A gets wrong and B right, e10 the reverse.
    With correction tau = (|e01 - e10| - 1)^2 / (e01 + e10) (the book), without (e01 - e10)^2 / (e01 + e10);
    ~ chi2(1) under H0 'the same error rate'. Returns (result, e01, e10)."""
    alpha = _check_alpha(alpha)
    wa, wb = np.asarray(wrong_a).astype(bool), np.asarray(wrong_b).astype(bool)
    if wa.shape != wb.shape:
        raise ValueError("the two learners must be tested on the same samples")
    e01, e10 = int((wa & ~wb).sum()), int((~wa & wb).sum())
    if e01 + e10 == 0:
        raise ValueError("the two learners are right and wrong on exactly the same samples (e01 + e10 = 0): "
                         "McNemar's statistic is 0/0, there is nothing to test")
    tau = ((abs(e01 - e10) - (1 if correction else 0)) ** 2) / (e01 + e10)
    X = _stats().chi2(1)
    res = TestResult("McNemar" + (" (continuity-corrected)" if correction else ""), float(tau), "chi2(1)",
                     float(X.isf(alpha)), float(X.sf(tau)), tau > X.isf(alpha), alpha)
    return res, e01, e10


def average_ranks(errors) -> np.ndarray:
    """errors (N data sets, k learners) -> ranks per data set (1 = lowest error, ties share the mean rank), (N, k)."""
    E = np.asarray(errors, dtype=np.float64)
    order = E.argsort(axis=1, kind="stable")
    ranks = np.empty_like(E)
    for i in range(len(E)):  # mean rank within each run of equal errors
        ranks[i, order[i]] = np.arange(1, E.shape[1] + 1)
        for v in np.unique(E[i]):
            same = E[i] == v
            ranks[i, same] = ranks[i, same].mean()
    return ranks


def friedman(errors, alpha: float = 0.05) -> tuple[TestResult, TestResult, np.ndarray]:
    """Friedman test over N data sets and k learners (eq. 2.34-2.35). r_i = the mean rank of learner i;
    tau_chi2 = 12N / (k(k+1)) (sum_i r_i^2 - k(k+1)^2 / 4) ~ chi2(k - 1) (for large N and k), and
    tau_F = (N - 1) tau_chi2 / (N(k - 1) - tau_chi2) ~ F(k - 1, (k - 1)(N - 1)). Returns (chi2 result, F result,
    mean ranks)."""
    alpha = _check_alpha(alpha)
    E = np.asarray(errors, dtype=np.float64)
    if E.ndim != 2 or E.shape[0] < 2 or E.shape[1] < 2:
        raise ValueError("the Friedman test needs at least 2 data sets and 2 learners")
    if not np.all(np.isfinite(E)):
        raise ValueError("an error rate is NaN or infinite")
    N, k = E.shape
    r = average_ranks(E).mean(axis=0)
    tau_chi2 = 12 * N / (k * (k + 1)) * (np.sum(r ** 2) - k * (k + 1) ** 2 / 4)
    st = _stats()
    X = st.chi2(k - 1)
    res_chi2 = TestResult("Friedman chi2", float(tau_chi2), f"chi2({k - 1})", float(X.isf(alpha)),
                          float(X.sf(tau_chi2)), tau_chi2 > X.isf(alpha), alpha)
    d1, d2 = k - 1, (k - 1) * (N - 1)
    F = st.f(d1, d2)
    den = N * (k - 1) - tau_chi2
    tau_F = (N - 1) * tau_chi2 / den if den > 0 else math.inf  # den = 0: every data set ranks the learners alike
    p_F = float(F.sf(tau_F)) if math.isfinite(tau_F) else 0.0
    res_F = TestResult("Friedman F", float(tau_F), f"F({d1}, {d2})", float(F.isf(alpha)), p_F, tau_F > F.isf(alpha), alpha)
    return res_chi2, res_F, r


@functools.lru_cache(maxsize=64)
def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """q_alpha of the Nemenyi test: the studentized range quantile for k groups and infinite degrees of freedom,
    divided by sqrt(2) (Zhou table 2.7, Demsar 2006 table 5)."""
    alpha = _check_alpha(alpha)
    if not 2 <= k <= 50:
        raise ValueError(f"the Nemenyi test needs 2 <= k <= 50 learners, not {k}")
    return float(_stats().studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))


def nemenyi_cd(k: int, N: int, alpha: float = 0.05) -> float:
    """The critical difference CD = q_alpha sqrt(k(k+1) / (6N)) (eq. 2.36): two learners whose mean ranks differ by
    more than CD differ significantly."""
    if N < 1:
        raise ValueError(f"need N >= 1 data sets, not {N}")
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6 * N))


# ---- bias-variance (sec. 2.5) ---------------------------------------------------------------------------------
def target(x) -> np.ndarray:
    """The known function the bias-variance experiment learns: f(x) = sin(2 pi x) on [0, 1]."""
    return np.sin(2 * np.pi * np.asarray(x))


def fit_polynomial(x, y, degree: int, x_test, ridge: float = 1e-6) -> np.ndarray:
    """Least-squares polynomial of `degree` in the Legendre basis on [0, 1] (well conditioned), a tiny ridge."""
    V = np.polynomial.legendre.legvander(2 * np.asarray(x) - 1, degree)  # (n, degree + 1)
    coef = np.linalg.solve(V.T @ V + ridge * np.eye(degree + 1), V.T @ y)
    return np.polynomial.legendre.legvander(2 * np.asarray(x_test) - 1, degree) @ coef


@dataclass
class BiasVariance:
    degrees: np.ndarray  # (D,) the capacities tried
    bias2: np.ndarray  # (D,) mean over x of (fbar(x) - f(x))^2
    variance: np.ndarray  # (D,) mean over x of E_D (f_D(x) - fbar(x))^2
    noise: float  # eps^2 = E_D (y_D - y)^2: the label noise variance
    error: np.ndarray  # (D,) measured E_D (f_D(x) - y_D)^2 on fresh noisy labels
    train_error: np.ndarray  # (D,) mean squared error on the training sets


def bias_variance(degrees, n_train: int = 20, n_sets: int = 100, noise: float = 0.3, seed: int = 0,
                  n_test: int = 200) -> BiasVariance:
    """Train polynomials of each degree on n_sets training sets D of n_train points (x ~ U[0, 1],
    y_D = f(x) + N(0, noise^2)) and decompose (eq. 2.42): E(f; D) = bias^2(x) + var(x) + eps^2."""
    degrees = np.asarray(degrees, dtype=np.int64)
    if n_train < 2 or n_sets < 2 or noise < 0:
        raise ValueError("need n_train >= 2, n_sets >= 2 and noise >= 0")
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0, 1, size=(n_sets, n_train))
    ys = target(xs) + noise * rng.standard_normal(xs.shape)
    x_test = np.linspace(0, 1, n_test)
    y_test = target(x_test) + noise * rng.standard_normal((n_sets, n_test))  # fresh labels per training set
    out = {k: [] for k in ("bias2", "variance", "error", "train")}
    for d in degrees:
        preds = np.stack([fit_polynomial(x, y, int(d), x_test) for x, y in zip(xs, ys)])  # (n_sets, n_test)
        train = np.mean([np.mean((fit_polynomial(x, y, int(d), x) - y) ** 2) for x, y in zip(xs, ys)])
        fbar = preds.mean(axis=0)  # the expected prediction (eq. 2.37)
        out["variance"].append(np.mean((preds - fbar) ** 2))  # eq. 2.38
        out["bias2"].append(np.mean((fbar - target(x_test)) ** 2))  # eq. 2.40
        out["error"].append(np.mean((preds - y_test) ** 2))
        out["train"].append(train)
    return BiasVariance(degrees, np.array(out["bias2"]), np.array(out["variance"]), noise ** 2,
                        np.array(out["error"]), np.array(out["train"]))
