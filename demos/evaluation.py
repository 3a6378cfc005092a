"""The evaluation tab (Zhou Zhihua, Machine Learning, ch. 2): is model A really better than B? Every number is
measured here, on small classifiers trained on the bundled MNIST / Fashion-MNIST pairs and seeded 2-D blobs.

1. Splitting: hold-out (stratified or not), k-fold, bootstrap; where the samples land, the estimate and its spread;
   the bootstrap's out-of-bag fraction -> 1/e.
2. Scores: a threshold over a real classifier's scores -> confusion matrix, P, R, F1, F_beta and the current point on
   the P-R and ROC curves; AUC beside 1 - l_rank; macro vs micro averages on a 10-class k-NN.
3. Costs: a cost matrix -> the cost-sensitive error and the cost curve (lower envelope).
4. Tests: binomial and t-test on one learner; paired t-test over k folds, 5x2 cv, McNemar for two; Friedman +
   Nemenyi over every data set with the critical-difference diagram.
5. Bias-variance: polynomials of growing degree on many resampled training sets of sin(2 pi x).

The math is genlib.evaluation; this module checks the input, calls it and draws.
"""
from __future__ import annotations

import functools
import html
import math

import gradio as gr
import numpy as np

from demos import ui
from demos.ui.panels import intra_op_threads
from genlib import evaluation as ev

TAB_ID = "evaluation"  # notes/<lang>/evaluation.md, links ?tab=evaluation
API_PREFIX = "eval"  # api names eval_<action> (issue 15)
TITLE = "eval_title"
MODELS = ()  # nothing pre-trained: every classifier is trained here, in milliseconds

DATASET_CHOICES = [("MNIST 3 vs 5", "mnist_3v5"), ("MNIST 4 vs 9", "mnist_4v9"), ("MNIST 7 vs 9", "mnist_7v9"),
                   ("MNIST 1 vs 7", "mnist_1v7"), ("Fashion-MNIST shirt vs T-shirt", "fashion_shirt_v_tshirt"),
                   ("Fashion-MNIST pullover vs coat", "fashion_pullover_v_coat"),
                   ("Fashion-MNIST sneaker vs ankle boot", "fashion_sneaker_v_boot"), ("2-D blobs", "blobs")]
LEARNER_CHOICES = [("logistic regression", "logistic"), ("perceptron", "perceptron"), ("1-NN", "knn1"),
                   ("7-NN", "knn7"), ("decision stump", "stump")]
LEARNER_NAMES = dict((v, k) for k, v in LEARNER_CHOICES)
DATASET_NAMES = dict((v, k) for k, v in DATASET_CHOICES)
SPLIT_METHODS = ["holdout", "kfold", "bootstrap"]
SPLIT_CHOICES = [("hold-out", "holdout"), ("k-fold cross-validation", "kfold"), ("bootstrap", "bootstrap")]
MAX_REPEATS = 30  # split repeats per request
MAX_K = 20  # folds
MAX_FITS = 120  # models trained per split request
FRIEDMAN_SETS = [("mnist_3v5", 1.0), ("mnist_4v9", 1.0), ("mnist_7v9", 1.0), ("mnist_1v7", 1.0),
                 ("fashion_shirt_v_tshirt", 1.0), ("fashion_pullover_v_coat", 1.0), ("fashion_sneaker_v_boot", 1.0),
                 ("blobs", 0.8), ("blobs", 1.6)]  # (data set, blob noise): N = 9 data sets for the Friedman test
FRIEDMAN_FOLDS = 5
MAX_DEGREE = 15  # bias-variance capacities 0..MAX_DEGREE
ROLE_COLORS = {"train": "#93c5fd", "test": "#f97316", "twice": "#1d4ed8", "oob": "#f97316"}

ui.add_strings(
    en={
        "eval_title": "Evaluation",
        "eval_split_h": "## 1 · Hold-out, cross-validation, bootstrap",
        "eval_split_intro": "Each square is one sample, sorted by class (positives first). The estimate is the test "
                            "error of the learner; repeats use new random splits.",
        "eval_dataset": "Data set",
        "eval_learner": "Learner",
        "eval_noise": "Noise of the 2-D blobs",
        "eval_method": "Method",
        "eval_test_fraction": "Hold-out: test share",
        "eval_stratified": "Stratified (keep the class shares)",
        "eval_k": "k (folds)",
        "eval_repeats": "Repeats",
        "eval_seed": "Seed",
        "eval_run": "Run",
        "eval_oob_h": "### The bootstrap misses (1 − 1/n)ⁿ → 1/e of the samples",
        "eval_scores_h": "## 2 · Confusion matrix, P–R and ROC",
        "eval_scores_intro": "The learner is trained on 70 % of the data (stratified); its scores on the other 30 % are "
                             "cut at the threshold: everything at or above it is predicted positive.",
        "eval_threshold": "Threshold",
        "eval_beta": "β of F_β",
        "eval_multi_h": "### Macro vs micro: a 10-class k-NN",
        "eval_source": "Data",
        "eval_knn_k": "k of k-NN",
        "eval_costs_h": "## 3 · Costs and the cost curve",
        "eval_costs_intro": "Rows: true class (positive, negative); columns: predicted. The classifier and threshold "
                            "are those of section 2.",
        "eval_cost": "Cost matrix",
        "eval_tests_h": "## 4 · Is A really better than B?",
        "eval_tests_intro": "The first two learners ticked are A and B for the paired tests; the Friedman test ranks "
                            "every ticked learner on nine data sets (5-fold cross-validation each).",
        "eval_learners": "Learners",
        "eval_alpha": "Significance level α",
        "eval_eps0": "ε₀ for the one-learner tests",
        "eval_bv_h": "## 5 · Bias and variance",
        "eval_bv_intro": "Polynomials of degree 0 to 15 fitted to many training sets drawn from sin(2πx) plus noise.",
        "eval_bv_noise": "Label noise σ",
        "eval_bv_n": "Training points per set",
        "eval_bv_sets": "Training sets",
    },
    zh={
        "eval_title": "模型评估",
        "eval_split_h": "## 1 · 留出法、交叉验证法、自助法",
        "eval_split_intro": "每个方块是一个样本，按类别排列（正例在前）。估计值是学习器的测试误差；每次重复都重新随机划分。",
        "eval_dataset": "数据集",
        "eval_learner": "学习器",
        "eval_noise": "二维高斯团的噪声",
        "eval_method": "方法",
        "eval_test_fraction": "留出法：测试集比例",
        "eval_stratified": "分层采样（保持类别比例）",
        "eval_k": "k（折数）",
        "eval_repeats": "重复次数",
        "eval_seed": "随机种子",
        "eval_run": "运行",
        "eval_oob_h": "### 自助法漏掉 (1 − 1/n)ⁿ → 1/e 的样本",
        "eval_scores_h": "## 2 · 混淆矩阵、P–R 曲线与 ROC 曲线",
        "eval_scores_intro": "学习器在 70% 的数据上训练（分层采样）；它在其余 30% 上的得分按阈值切分：得分不低于阈值的预测为正例。",
        "eval_threshold": "阈值",
        "eval_beta": "Fβ 中的 β",
        "eval_multi_h": "### 宏平均与微平均：十类的 k 近邻",
        "eval_source": "数据",
        "eval_knn_k": "近邻数 k",
        "eval_costs_h": "## 3 · 代价与代价曲线",
        "eval_costs_intro": "行：真实类别（正例、反例）；列：预测类别。分类器和阈值取自第 2 节。",
        "eval_cost": "代价矩阵",
        "eval_tests_h": "## 4 · A 真的比 B 好吗？",
        "eval_tests_intro": "勾选的前两个学习器作为成对检验的 A 和 B；Friedman 检验在九个数据集上（各做 5 折交叉验证）"
                            "给所有勾选的学习器排序。",
        "eval_learners": "学习器",
        "eval_alpha": "显著度 α",
        "eval_eps0": "单个学习器检验的 ε₀",
        "eval_bv_h": "## 5 · 偏差与方差",
        "eval_bv_intro": "在 `sin(2πx)` 加噪声生成的许多训练集上拟合 0 到 15 次多项式。",
        "eval_bv_noise": "标记噪声 σ",
        "eval_bv_n": "每个训练集的样本数",
        "eval_bv_sets": "训练集个数",
    },
)


def one_thread(fn):
    """Run a callback with one torch intra-op thread (restored after): the learners' matrix work is small, and on
    two shared cores a second thread only waits (a logistic regression fit took 0.04 s on one thread and 0.2-0.8 s
    with two while the other core was busy)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with intra_op_threads(1):
            return fn(*args, **kwargs)
    return run


def _err(e: Exception) -> str:
    return str(e).rstrip(".") + "."


def _inputs(c: ui.Clamped, dataset, learner, noise) -> tuple[str, str, float]:
    return (c.choice("data set", dataset, ev.DATASETS, "mnist_3v5"), c.choice("learner", learner, list(ev.LEARNERS), "logistic"),
            c.float("blob noise", noise, 0.2, 3.0, 1.0))


@functools.lru_cache(maxsize=32)
def _data(dataset: str, noise: float) -> tuple[np.ndarray, np.ndarray]:
    return ev.load_dataset(dataset, noise=noise, seed=0)


def _test_error(learner: str, X, y, train, test, seed: int = 0) -> float:
    return float(np.mean((ev.fit_score(learner, X[train], y[train], X[test], seed) >= 0.5) != y[test]))


# ---- Section 1: splitting -------------------------------------------------------------------------------------
def _roles_svg(y: np.ndarray, roles: list[np.ndarray], legend: list[tuple[str, str]], title: str) -> str:
    """One square per sample (positives first), one row of squares per split shown; colour = the sample's role."""
    order = np.r_[np.flatnonzero(y == 1), np.flatnonzero(y == 0)]
    cols, cell = 50, 8
    n_rows = math.ceil(len(y) / cols)
    parts, top = [f'<text x="2" y="12" font-size="12">{html.escape(title)}</text>'], 20
    for r, role in enumerate(roles):
        for i, j in enumerate(order):
            x, yy = 2 + (i % cols) * cell, top + (i // cols) * cell
            parts.append(f'<rect x="{x}" y="{yy}" width="{cell - 1}" height="{cell - 1}" fill="{role[j]}"/>')
        top += n_rows * cell + 10
    split = int(y.sum())
    parts.append(f'<text x="2" y="{top + 10}" font-size="10">{split} positives, then {len(y) - split} negatives</text>')
    for k, (color, label) in enumerate(legend):
        parts.append(f'<rect x="{200 + 95 * k}" y="{top + 2}" width="9" height="9" fill="{color}"/>'
                     f'<text x="{212 + 95 * k}" y="{top + 10}" font-size="10">{html.escape(label)}</text>')
    width, height = 2 + cols * cell + 4, top + 16
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(parts)}</svg>')


@one_thread
def split_view(dataset="mnist_3v5", learner="logistic", noise=1.0, method="holdout", test_fraction=0.3,
               stratified=True, k=10, repeats=10, seed=0):
    """Split, train, estimate -> (where the samples land svg, the estimates svg, status)."""
    c = ui.Clamped()
    dataset, learner, noise = _inputs(c, dataset, learner, noise)
    method = c.choice("method", method, SPLIT_METHODS, "holdout")
    test_fraction = c.float("test share", test_fraction, 0.05, 0.95, 0.3)
    stratified = c.flag("stratified", stratified)
    k = c.int("k", k, 2, MAX_K, 10)
    repeats = c.int("repeats", repeats, 1, MAX_REPEATS, 10)
    if method == "kfold" and repeats * k > MAX_FITS:
        c.messages.append(f"repeats: {repeats} repeats of {k}-fold would train {repeats * k} models; using "
                          f"{MAX_FITS // k} (at most {MAX_FITS} per request)")
        repeats = MAX_FITS // k
    seed = c.int("seed", seed, 0, 2**31 - 1, 0)
    X, y = _data(dataset, noise)
    n = len(y)
    estimates, roles = [], []
    try:
        for r in range(repeats):
            if method == "holdout":
                train, test = ev.hold_out(y, test_fraction, stratified, seed + r)
                role = np.full(n, ROLE_COLORS["train"], dtype=object)
                role[test] = ROLE_COLORS["test"]
                estimates.append(_test_error(learner, X, y, train, test, seed + r))
            elif method == "kfold":
                folds = ev.k_fold(y, k, stratified, seed + r)
                role = np.empty(n, dtype=object)
                errs = []
                for f, test in enumerate(folds):
                    role[test] = ui.svg.COLORS[f % len(ui.svg.COLORS)]
                    errs.append(_test_error(learner, X, y, np.setdiff1d(np.arange(n), test), test, seed + r))
                estimates.append(float(np.mean(errs)))
            else:
                drawn, oob = ev.bootstrap(n, seed + r)
                counts = np.bincount(drawn, minlength=n)
                role = np.where(counts == 0, ROLE_COLORS["oob"], np.where(counts == 1, ROLE_COLORS["train"],
                                                                            ROLE_COLORS["twice"])).astype(object)
                estimates.append(_test_error(learner, X, y, drawn, oob, seed + r))
            if r < 2:
                roles.append(role)
    except ValueError as e:
        return "", "", ui.status(c, _err(e), "error")
    name = f"{LEARNER_NAMES[learner]} on {DATASET_NAMES[dataset]}"
    if method == "holdout":
        legend, what = [(ROLE_COLORS["train"], "train"), (ROLE_COLORS["test"], "test")], \
            f"hold-out, {test_fraction:.0%} test{', stratified' if stratified else ''}"
    elif method == "kfold":
        legend, what = [(ui.svg.COLORS[0], "fold 1"), (ui.svg.COLORS[1], "fold 2 ...")], \
            f"{k}-fold cross-validation{', stratified' if stratified else ''}"
    else:
        legend, what = [(ROLE_COLORS["train"], "drawn once"), (ROLE_COLORS["twice"], "drawn ≥ 2×"),
                        (ROLE_COLORS["oob"], "never: test")], "bootstrap, out-of-bag test"
    where = _roles_svg(y, roles, legend, f"{what}: the first {len(roles)} split{'s' if len(roles) > 1 else ''}")
    est = np.array(estimates)
    curve = ui.svg.lines_svg({"test error": est, "mean": np.full(len(est), est.mean())}, np.arange(1, len(est) + 1),
                             title=f"error estimate per repeat ({what})")
    spread = f" ± {est.std(ddof=1):.3f} (standard deviation over {repeats} repeats)" if repeats > 1 else ""
    text = f"{name}, n = {n}, {what}: error {est.mean():.3f}{spread}."
    if method == "bootstrap":
        text += f" Out-of-bag share in the first split: {np.mean(roles[0] == ROLE_COLORS['oob']):.3f} vs (1 − 1/n)ⁿ = {ev.oob_probability(n):.3f}."
    return where, curve, ui.status(c, text)


@one_thread
def oob_view(seed=0):
    """The measured out-of-bag share of the bootstrap (mean of 20 draws) for n = 2 ... 2000, (1 - 1/n)^n and 1/e."""
    c = ui.Clamped()
    seed = c.int("seed", seed, 0, 2**31 - 1, 0)
    ns = np.unique(np.round(np.geomspace(2, 2000, 40)).astype(int))
    measured = [np.mean([len(ev.bootstrap(int(n), seed + r)[1]) / n for r in range(20)]) for n in ns]
    svg = ui.svg.lines_svg({"measured (20 draws)": np.array(measured), "(1 − 1/n)ⁿ": ev.oob_probability(ns.astype(float)),
                            "1/e": np.full(len(ns), math.exp(-1))}, np.log10(ns),
                           title="out-of-bag share against log₁₀ n")
    return svg, ui.status(c, f"n = 2000: measured {measured[-1]:.4f}, (1 − 1/n)ⁿ = {ev.oob_probability(2000):.4f}, "
                             f"1/e = {math.exp(-1):.4f}.")


# ---- Section 2: confusion matrix, P-R, ROC ------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def holdout_scores(dataset: str, learner: str, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) of the learner on a stratified 30 % hold-out set (seed 0): the classifier of sections 2, 3."""
    X, y = _data(dataset, noise)
    train, test = ev.hold_out(y, 0.3, True, 0)
    return y[test], ev.fit_score(learner, X[train], y[train], X[test], 0)


def _curve_index(thresholds: np.ndarray, t: float) -> int:
    """The curve point of threshold t: the last distinct score >= t (thresholds descend)."""
    return max(int(np.sum(thresholds >= t)) - 1, 0)


@one_thread
def scores_view(dataset="mnist_3v5", learner="logistic", noise=1.0, threshold=0.5, beta=1.0):
    """Threshold -> (confusion matrix svg, P-R svg, ROC svg, status with P, R, F1, F_beta, AUC, 1 - l_rank, AP, BEP)."""
    c = ui.Clamped()
    dataset, learner, noise = _inputs(c, dataset, learner, noise)
    threshold = c.float("threshold", threshold, 0.0, 1.0, 0.5)
    beta = c.float("β", beta, 0.1, 10.0, 1.0)
    y, s = holdout_scores(dataset, learner, noise)
    k = ev.confusion(y, s >= threshold)
    cm = ui.svg.heatmap_svg(np.array([[k.tp, k.fn], [k.fp, k.tn]]) / len(y), ["true +", "true −"],
                            ["pred +", "pred −"], "confusion matrix (share of the test set)")
    counts = f"TP = {k.tp}, FN = {k.fn}, FP = {k.fp}, TN = {k.tn}"
    P, R, pr_thr = ev.pr_curve(y, s)
    fpr, tpr, roc_thr = ev.roc_curve(y, s)
    i = _curve_index(pr_thr, threshold)
    j = _curve_index(roc_thr, threshold) if k.tp + k.fp else 0  # nothing predicted positive: the point (0, 0)
    pr_svg = ui.svg.lines_svg({"precision": np.r_[P[0], P], "break-even P = R": np.r_[0.0, R]}, np.r_[0.0, R],
                              title="P–R curve (x: recall)", marker=i + 1 if k.tp + k.fp else None)
    roc_svg = ui.svg.lines_svg({"TPR": tpr, "chance": fpr}, fpr, title="ROC curve (x: FPR)", marker=j)
    roc_auc, l_rank = ev.auc(fpr, tpr), ev.rank_loss(y, s)
    bep, bep_t = ev.break_even_point(y, s)
    text = (f"{LEARNER_NAMES[learner]} on {DATASET_NAMES[dataset]}, {len(y)} test samples ({int(y.sum())} positive), "
            f"threshold {threshold:.3f}: {counts}. P = {k.precision:.3f}, R = {k.recall:.3f}, F1 = {k.f_beta(1):.3f}, "
            f"F_β(β = {beta:g}) = {k.f_beta(beta):.3f}, error {k.error:.3f}. "
            f"AUC = {roc_auc:.4f} and 1 − ℓ_rank = {1 - l_rank:.4f} (equal); average precision {ev.average_precision(y, s):.4f}; "
            f"break-even point {bep:.3f} at threshold {bep_t:.3f}. ROC point (FPR, TPR) = ({fpr[j]:.3f}, {tpr[j]:.3f}).")
    return cm, pr_svg, roc_svg, ui.status(c, text)


@functools.lru_cache(maxsize=4)
def _multiclass(source: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = ev.load_multiclass(source)
    train, test = ev.hold_out(y, 0.3, True, 0)
    return y[test], ev.knn_multiclass(X[train], y[train], X[test], k)


@one_thread
def multiclass_view(source="mnist", k=5):
    """A 10-class k-NN on the bundled digits or clothes -> (confusion matrix svg, macro / micro table, status)."""
    c = ui.Clamped()
    source = c.choice("data", source, ["mnist", "fashion"], "mnist")
    k = c.int("k", k, 1, 25, 5)
    y, pred = _multiclass(source, k)
    C = ev.confusion_matrix(y, pred, 10)
    names = [str(d) for d in range(10)] if source == "mnist" else ev.FASHION_NAMES
    cm = ui.svg.heatmap_svg(C / C.sum(1, keepdims=True), names, names, f"{k}-NN, rows: true class (share of the row)",
                            numbers=False, cell=(20, 16))
    mm = ev.macro_micro(C)
    rows = "".join(f"| {nm} | {p:.3f} | {r:.3f} | {f:.3f} |\n" for nm, p, r, f in
                   zip(names, mm["per_class_P"], mm["per_class_R"], mm["per_class_F1"]))
    table = ("| class | P | R | F1 |\n|---|---|---|---|\n" + rows +
             f"| **macro** | {mm['macro_P']:.3f} | {mm['macro_R']:.3f} | {mm['macro_F1']:.3f} |\n"
             f"| **micro** | {mm['micro_P']:.3f} | {mm['micro_R']:.3f} | {mm['micro_F1']:.3f} |\n")
    text = (f"{len(y)} test images. Macro-F1 (from macro-P and macro-R, the book) {mm['macro_F1']:.4f}; mean of the "
            f"per-class F1 {mm['mean_F1']:.4f}; micro-F1 {mm['micro_F1']:.4f} = accuracy {np.mean(y == pred):.4f} "
            f"(every sample is a false positive of one class exactly when it is a false negative of another).")
    return cm, table, ui.status(c, text)


# ---- Section 3: costs ----------------------------------------------------------------------------------------
def _cost_matrix(table) -> np.ndarray:
    if isinstance(table, dict):
        table = table.get("data")
    try:
        rows = [[float("nan") if v in (None, "") else float(v) for v in row] for row in (table or [])]
    except (TypeError, ValueError):
        raise ValueError("a cost entry is not a number") from None
    return ev.check_costs(rows)


@one_thread
def cost_view(dataset="mnist_3v5", learner="logistic", noise=1.0, threshold=0.5, cost=None):
    """Cost matrix -> (cost curve svg, status: cost-sensitive error at the threshold and at the best threshold)."""
    c = ui.Clamped()
    dataset, learner, noise = _inputs(c, dataset, learner, noise)
    threshold = c.float("threshold", threshold, 0.0, 1.0, 0.5)
    try:
        C = _cost_matrix([[0, 1], [1, 0]] if cost is None else cost)
    except ValueError as e:
        return "", ui.status(c, _err(e), "error")
    y, s = holdout_scores(dataset, learner, noise)
    fpr, tpr, thr = ev.roc_curve(y, s)
    x, lines, env = ev.cost_curve(fpr, tpr)
    k = ev.confusion(y, s >= threshold)
    fpr_t, fnr_t = k.fp / (k.fp + k.tn), k.fn / (k.fn + k.tp)
    p = float(y.mean())
    pc = float(ev.positive_cost_share(p, C))
    marker = int(round(pc * (len(x) - 1)))
    svg = ui.svg.lines_svg({"this threshold": ev.normalized_cost(fpr_t, fnr_t, x), "lower envelope (best threshold)": env,
                            "all negative": x, "all positive": 1 - x}, x,
                           title="normalised cost against P(+)cost", marker=marker)
    errs = [ev.cost_sensitive_error(y, s >= t, C) for t in thr]
    best = int(np.argmin(errs))
    text = (f"cost01 = {C[0, 1]:g} (a positive called negative), cost10 = {C[1, 0]:g}; positive share p = {p:.3f}, "
            f"so P(+)cost = {pc:.3f}. Threshold {threshold:.3f}: cost-sensitive error "
            f"{ev.cost_sensitive_error(y, s >= threshold, C):.4f}; the best threshold ({min(thr[best], 1.0):.3f}) gives "
            f"{errs[best]:.4f}. Area under the envelope (expected total cost over all P(+)cost): "
            f"{float(np.mean(env[:-1] + env[1:]) / 2):.4f}.")
    return svg, ui.status(c, text)


# ---- Section 4: hypothesis tests ---------------------------------------------------------------------------------
def _verdict(r: ev.TestResult, h0: str) -> str:
    word = "rejected" if r.reject else "not rejected"
    return (f"| {r.name} | {r.statistic:.4g} | {r.distribution} | {r.critical:.4g} | {r.p_value:.4g} | "
            f"H0 ({h0}) {word} at α = {r.alpha:g} |")


def _fold_errors(learner, X, y, folds, seed) -> np.ndarray:
    n = len(y)
    return np.array([_test_error(learner, X, y, np.setdiff1d(np.arange(n), f), f, seed) for f in folds])


def cd_diagram_svg(ranks: np.ndarray, names: list[str], cd: float, title: str) -> str:
    """The critical-difference diagram (Demsar 2006): mean ranks on an axis 1..k, a bar of length CD, and a thick
    line joining learners whose ranks differ by less than CD (not significantly different)."""
    k = len(ranks)
    width, left, right = 520, 30, 490
    px = lambda r: left + (right - left) * (r - 1) / max(k - 1, 1)  # noqa: E731
    parts = [f'<text x="4" y="14" font-size="12">{html.escape(title)}</text>',
             f'<line x1="{left}" y1="50" x2="{right}" y2="50" stroke="#111827"/>']
    for r in range(1, k + 1):
        parts.append(f'<line x1="{px(r):.1f}" y1="45" x2="{px(r):.1f}" y2="50" stroke="#111827"/>'
                     f'<text x="{px(r):.1f}" y="42" font-size="10" text-anchor="middle">{r}</text>')
    parts.append(f'<line x1="{px(1):.1f}" y1="26" x2="{px(1 + cd):.1f}" y2="26" stroke="#dc2626" stroke-width="2"/>'
                 f'<text x="{px(1 + cd) + 4:.1f}" y="30" font-size="10" fill="#dc2626">CD = {cd:.3f}</text>')
    order = np.argsort(ranks)
    for row, i in enumerate(order):
        y = 70 + 16 * row
        parts.append(f'<line x1="{px(ranks[i]):.1f}" y1="50" x2="{px(ranks[i]):.1f}" y2="{y}" stroke="#6b7280"/>'
                     f'<circle cx="{px(ranks[i]):.1f}" cy="50" r="3" fill="#2563eb"/>'
                     f'<text x="{px(ranks[i]) + 4:.1f}" y="{y + 4}" font-size="10">{html.escape(names[i])} '
                     f'({ranks[i]:.2f})</text>')
    groups, y = [], 60 + 16 * k
    for a in range(k):  # maximal runs of learners (sorted by rank) within CD of each other
        b = a
        while b + 1 < k and ranks[order[b + 1]] - ranks[order[a]] <= cd:
            b += 1
        if b > a and not any(g[0] <= a and b <= g[1] for g in groups):
            groups.append((a, b))
    for g, (a, b) in enumerate(groups):
        yy = y + 8 * g
        parts.append(f'<line x1="{px(ranks[order[a]]) - 3:.1f}" y1="{yy}" x2="{px(ranks[order[b]]) + 3:.1f}" y2="{yy}" '
                     f'stroke="#111827" stroke-width="3"/>')
    height = y + 8 * len(groups) + 8
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(parts)}</svg>')


@one_thread
def tests_view(learners=("logistic", "knn7", "stump"), dataset="mnist_4v9", k=10, alpha=0.05, eps0=0.1, seed=0):
    """Train, test, compare -> (table of tests (Markdown), CD diagram svg, status)."""
    c = ui.Clamped()
    if isinstance(learners, str):
        learners = [learners]
    chosen = [x for x in (learners or []) if x in ev.LEARNERS]
    if len(chosen) != len(learners or []):
        c.messages.append(f"learners: ignored {sorted(set(learners or []) - set(chosen))}, not among {list(ev.LEARNERS)}")
    chosen = list(dict.fromkeys(chosen))
    dataset = c.choice("data set", dataset, ev.DATASETS, "mnist_4v9")
    k = c.int("k", k, 2, MAX_K, 10)
    seed = c.int("seed", seed, 0, 2**31 - 1, 0)
    eps0 = c.float("ε0", eps0, 0.01, 0.99, 0.1)
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        alpha = float("nan")
    if not 0 < alpha < 1:  # NaN fails too
        return "", "", ui.status(c, f"The significance level α must lie strictly between 0 and 1, not {alpha!r}.", "error")
    if len(chosen) < 2:
        return "", "", ui.status(c, "Tick at least two learners: a comparison needs two.", "error")
    a, b = chosen[0], chosen[1]
    A, B = LEARNER_NAMES[a], LEARNER_NAMES[b]
    X, y = _data(dataset, 1.0)
    rows = ["| test | statistic | distribution under H0 | critical value | p-value | verdict |", "|---|---|---|---|---|---|"]
    notes = []
    # one learner: binomial test on a hold-out set, t-test on k fold error rates
    train, test = ev.hold_out(y, 0.3, True, seed)
    wrong = {x: (ev.fit_score(x, X[train], y[train], X[test], seed) >= 0.5) != y[test] for x in (a, b)}
    rows.append(_verdict(ev.binomial_test(int(wrong[a].sum()), len(test), eps0, alpha), f"ε ≤ {eps0:g} for {A}"))
    folds = ev.k_fold(y, k, True, seed)
    errs = {x: _fold_errors(x, X, y, folds, seed) for x in (a, b)}
    for test_fn, h0 in ((lambda: ev.t_test(errs[a], eps0, alpha), f"μ = {eps0:g} for {A}"),
                        (lambda: ev.paired_t_test(errs[a], errs[b], alpha), f"{A} = {B}, {k} folds"),
                        (lambda: ev.cv_5x2_t_test(_five_by_two(a, b, X, y, seed), alpha), f"{A} = {B}"),
                        (lambda: ev.mcnemar(wrong[a], wrong[b], alpha, True)[0], f"{A} = {B} on one hold-out set"),
                        (lambda: ev.mcnemar(wrong[a], wrong[b], alpha, False)[0], f"{A} = {B} on one hold-out set")):
        try:
            rows.append(_verdict(test_fn(), h0))
        except ValueError as e:
            notes.append(_err(e))
    e01, e10 = int((wrong[a] & ~wrong[b]).sum()), int((~wrong[a] & wrong[b]).sum())
    # Friedman + Nemenyi over N data sets
    E = np.array([[_cv_error(x, d, nz, seed) for x in chosen] for d, nz in FRIEDMAN_SETS])  # (N, k)
    chi, F, ranks = ev.friedman(E, alpha)
    rows += [_verdict(chi, "all learners alike"), _verdict(F, "all learners alike")]
    N = len(FRIEDMAN_SETS)
    cd = ev.nemenyi_cd(len(chosen), N, alpha)
    diagram = cd_diagram_svg(ranks, [LEARNER_NAMES[x] for x in chosen], cd,
                             f"mean ranks over N = {N} data sets (1 = best), Nemenyi α = {alpha:g}")
    pairs = [f"{LEARNER_NAMES[chosen[i]]} vs {LEARNER_NAMES[chosen[j]]}" for i in range(len(chosen))
             for j in range(i + 1, len(chosen)) if abs(ranks[i] - ranks[j]) > cd]
    text = (f"A = {A}, B = {B} on {DATASET_NAMES[dataset]}: {k}-fold mean error {errs[a].mean():.3f} vs "
            f"{errs[b].mean():.3f}; on the hold-out set e01 = {e01} (A wrong, B right), e10 = {e10}. "
            f"Nemenyi CD = {cd:.3f} (q_α = {ev.nemenyi_q(len(chosen), alpha):.3f}, k = {len(chosen)}, N = {N}): "
            + (f"significantly different: {', '.join(pairs)}." if pairs and F.reject else
               "no pair is significantly different." if not pairs else
               f"the ranks differ by more than CD for {', '.join(pairs)}, but the Friedman F test does not reject, "
               f"so the post-hoc test is not applied."))
    return "\n".join(rows), diagram, ui.status(c, " ".join([text] + notes), "warn" if notes else "info")


@functools.lru_cache(maxsize=256)
def _cv_error(learner: str, dataset: str, noise: float, seed: int) -> float:
    """Mean FRIEDMAN_FOLDS-fold cross-validation error of a learner on one data set (cached: the Friedman table)."""
    X, y = _data(dataset, noise)
    return float(_fold_errors(learner, X, y, ev.k_fold(y, FRIEDMAN_FOLDS, True, seed), seed).mean())


@functools.lru_cache(maxsize=1)
def first_tests() -> tuple[str, str, str]:
    """The tests at the default settings, computed once per process for the first page view."""
    return tests_view()


@functools.lru_cache(maxsize=1)
def first_split() -> tuple[str, str, str]:
    """The split demo at the default settings, computed once per process for the first page view."""
    return split_view()


def _five_by_two(a: str, b: str, X, y, seed: int) -> np.ndarray:
    """5 replications of 2-fold cross-validation: Delta[i, j] = error(A) - error(B) on fold j of replication i."""
    D = np.zeros((5, 2))
    for i in range(5):
        folds = ev.k_fold(y, 2, True, seed + 1000 + i)
        D[i] = _fold_errors(a, X, y, folds, seed) - _fold_errors(b, X, y, folds, seed)
    return D


# ---- Section 5: bias-variance ----------------------------------------------------------------------------------
@one_thread
def bias_variance_view(noise=0.3, n_train=20, n_sets=100, seed=0):
    """-> (stacked curves svg: bias^2, + variance, + noise, measured error, training error; status)."""
    c = ui.Clamped()
    noise = c.float("noise", noise, 0.0, 1.0, 0.3)
    n_train = c.int("training points", n_train, 5, 100, 20)
    n_sets = c.int("training sets", n_sets, 10, 300, 100)
    seed = c.int("seed", seed, 0, 2**31 - 1, 0)
    degrees = np.arange(0, min(MAX_DEGREE, n_train - 1) + 1)
    bv = ev.bias_variance(degrees, n_train, n_sets, noise, seed)
    cap = lambda v: np.minimum(v, 2.0)  # noqa: E731  # the high-degree variance explodes; cut the picture at 2
    svg = ui.svg.lines_svg({"bias²": cap(bv.bias2), "bias² + variance": cap(bv.bias2 + bv.variance),
                            "bias² + variance + noise": cap(bv.bias2 + bv.variance + bv.noise),
                            "measured test error": cap(bv.error), "training error": cap(bv.train_error)}, degrees,
                           title="error against polynomial degree (cut at 2)", width=460, height=240)
    best = int(np.argmin(bv.error))
    text = (f"{n_sets} training sets of {n_train} points, σ = {noise:g}: the lowest test error {bv.error[best]:.4f} is at "
            f"degree {degrees[best]} (bias² {bv.bias2[best]:.4f}, variance {bv.variance[best]:.4f}, noise "
            f"{bv.noise:.4f}); degree 0: bias² {bv.bias2[0]:.4f}, variance {bv.variance[0]:.4f}; degree {degrees[-1]}: "
            f"bias² {bv.bias2[-1]:.4f}, variance {bv.variance[-1]:.3g}.")
    return svg, ui.status(c, text)


# ---- layout ---------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab; every figure is drawn on page load (training takes a fraction of a second each)."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("eval_split_h"))
        gr.Markdown(ui.t("eval_split_intro"))
        with gr.Row():
            s_data = gr.Dropdown(DATASET_CHOICES, value="mnist_3v5", label=ui.t("eval_dataset"))
            s_learner = gr.Dropdown(LEARNER_CHOICES, value="logistic", label=ui.t("eval_learner"))
            s_noise = gr.Slider(0.2, 3.0, value=1.0, step=0.1, label=ui.t("eval_noise"))
        with gr.Row():
            s_method = gr.Radio(SPLIT_CHOICES, value="holdout", label=ui.t("eval_method"))
            s_strat = gr.Checkbox(True, label=ui.t("eval_stratified"))
        with gr.Row():
            s_frac = gr.Slider(0.05, 0.95, value=0.3, step=0.05, label=ui.t("eval_test_fraction"))
            s_k = gr.Slider(2, MAX_K, value=10, step=1, label=ui.t("eval_k"))
            s_rep = gr.Slider(1, MAX_REPEATS, value=10, step=1, label=ui.t("eval_repeats"))
            s_seed = gr.Number(0, precision=0, label=ui.t("eval_seed"))
        s_btn = gr.Button(ui.t("eval_run"), variant="primary")
        s_where = gr.HTML(elem_id="eval-split-where")
        s_est = gr.HTML(elem_id="eval-split-estimates")
        s_status = ui.status_line()
        gr.Markdown(ui.t("eval_oob_h"))
        oob_html = gr.HTML(elem_id="eval-oob")
        oob_status = ui.status_line()

        gr.Markdown(ui.t("eval_scores_h"))
        gr.Markdown(ui.t("eval_scores_intro"))
        with gr.Row():
            c_data = gr.Dropdown(DATASET_CHOICES, value="mnist_3v5", label=ui.t("eval_dataset"))
            c_learner = gr.Dropdown(LEARNER_CHOICES, value="logistic", label=ui.t("eval_learner"))
            c_noise = gr.Slider(0.2, 3.0, value=1.0, step=0.1, label=ui.t("eval_noise"))
        with gr.Row():
            c_thr = gr.Slider(0.0, 1.0, value=0.5, step=0.01, label=ui.t("eval_threshold"), elem_id="eval-threshold")
            c_beta = gr.Slider(0.1, 10.0, value=1.0, step=0.1, label=ui.t("eval_beta"))
        with gr.Row():
            c_cm = gr.HTML(elem_id="eval-confusion")
        with gr.Row():
            c_pr = gr.HTML(elem_id="eval-pr")
            c_roc = gr.HTML(elem_id="eval-roc")
        c_status = ui.status_line(elem_id="eval-scores-status")
        ui.share_link(TAB_ID, {"data": c_data, "learner": c_learner, "noise": c_noise, "threshold": c_thr,
                               "beta": c_beta})
        gr.Markdown(ui.t("eval_multi_h"))
        with gr.Row():
            m_source = gr.Radio([("MNIST", "mnist"), ("Fashion-MNIST", "fashion")], value="mnist", label=ui.t("eval_source"))
            m_k = gr.Slider(1, 25, value=5, step=1, label=ui.t("eval_knn_k"))
        with gr.Row():
            m_cm = gr.HTML(elem_id="eval-multiclass")
            m_table = gr.Markdown(elem_classes=["stats"])
        m_status = ui.status_line()

        gr.Markdown(ui.t("eval_costs_h"))
        gr.Markdown(ui.t("eval_costs_intro"))
        cost_df = gr.Dataframe([[0, 1], [5, 0]], headers=["pred +", "pred −"], datatype="number", type="array",
                               row_count=(2, "fixed"), column_count=(2, "fixed"), interactive=True,
                               label=ui.t("eval_cost"), elem_id="eval-cost")
        cost_html = gr.HTML(elem_id="eval-cost-curve")
        cost_status = ui.status_line()

        gr.Markdown(ui.t("eval_tests_h"))
        gr.Markdown(ui.t("eval_tests_intro"))
        with gr.Row():
            t_learners = gr.CheckboxGroup(LEARNER_CHOICES, value=["logistic", "knn7", "stump", "perceptron"],
                                          label=ui.t("eval_learners"))
            t_data = gr.Dropdown(DATASET_CHOICES, value="mnist_4v9", label=ui.t("eval_dataset"))
        with gr.Row():
            t_k = gr.Slider(2, MAX_K, value=10, step=1, label=ui.t("eval_k"))
            t_alpha = gr.Slider(0.01, 0.2, value=0.05, step=0.01, label=ui.t("eval_alpha"))
            t_eps0 = gr.Slider(0.01, 0.5, value=0.1, step=0.01, label=ui.t("eval_eps0"))
            t_seed = gr.Number(0, precision=0, label=ui.t("eval_seed"))
        t_btn = gr.Button(ui.t("eval_run"), variant="primary")
        t_table = gr.Markdown(elem_classes=["stats"], elem_id="eval-tests-table")
        t_cd = gr.HTML(elem_id="eval-cd")
        t_status = ui.status_line()

        gr.Markdown(ui.t("eval_bv_h"))
        gr.Markdown(ui.t("eval_bv_intro"))
        with gr.Row():
            b_noise = gr.Slider(0.0, 1.0, value=0.3, step=0.05, label=ui.t("eval_bv_noise"))
            b_n = gr.Slider(5, 100, value=20, step=1, label=ui.t("eval_bv_n"))
            b_sets = gr.Slider(10, 300, value=100, step=10, label=ui.t("eval_bv_sets"))
        b_html = gr.HTML(elem_id="eval-bv")
        b_status = ui.status_line()

    quick = dict(show_progress="hidden", trigger_mode="always_last")
    s_inputs = [s_data, s_learner, s_noise, s_method, s_frac, s_strat, s_k, s_rep, s_seed]
    # gr.on(None, fn, inputs, ...) runs on page load and whenever an input changes (each a fraction of a second);
    # the split and test demos train up to ~100 models, so they run on their button, and on page load once per
    # process (cached defaults).
    s_inputs = [s_data, s_learner, s_noise, s_method, s_frac, s_strat, s_k, s_rep, s_seed]
    s_btn.click(split_view, s_inputs, [s_where, s_est, s_status], api_name="eval_split", show_progress="minimal")
    gr.on(None, first_split, None, [s_where, s_est, s_status], show_progress="hidden", api_visibility="private")
    gr.on(None, oob_view, s_seed, [oob_html, oob_status], api_name="eval_oob", **quick)
    gr.on(None, scores_view, [c_data, c_learner, c_noise, c_thr, c_beta], [c_cm, c_pr, c_roc, c_status],
          api_name="eval_scores", **quick)
    gr.on(None, multiclass_view, [m_source, m_k], [m_cm, m_table, m_status], api_name="eval_multiclass", **quick)
    gr.on(None, cost_view, [c_data, c_learner, c_noise, c_thr, cost_df], [cost_html, cost_status],
          api_name="eval_costs", **quick)
    t_btn.click(tests_view, [t_learners, t_data, t_k, t_alpha, t_eps0, t_seed], [t_table, t_cd, t_status],
                api_name="eval_tests", show_progress="minimal")
    gr.on(None, first_tests, None, [t_table, t_cd, t_status], show_progress="hidden", api_visibility="private")
    gr.on(None, bias_variance_view, [b_noise, b_n, b_sets], [b_html, b_status], api_name="eval_bias_variance", **quick)
    return note
