"""genlib.evaluation against scikit-learn and scipy.stats, and the identities of Zhou ch. 2 checked numerically."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from genlib import evaluation as ev

stats = pytest.importorskip("scipy.stats")
metrics = pytest.importorskip("sklearn.metrics")


def _tied_case(seed: int, n: int = 60, levels: int = 7):
    """Labels with both classes and scores on a few levels, so that many scores tie."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = np.round(rng.integers(0, levels, n) / levels + 0.3 * y, 3)
    return y, s


# ---- splits ------------------------------------------------------------------------------------------------
def test_hold_out_stratified_keeps_class_shares():
    y = np.r_[np.ones(30, int), np.zeros(70, int)]
    train, test = ev.hold_out(y, 0.2, stratified=True, seed=1)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 100
    assert y[test].sum() == 6 and (1 - y[test]).sum() == 14  # 20 % of each class


def test_k_fold_partitions_and_stratifies():
    y = np.r_[np.ones(23, int), np.zeros(47, int)]
    folds = ev.k_fold(y, 7, stratified=True, seed=0)
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(70))
    assert max(len(f) for f in folds) - min(len(f) for f in folds) <= 1
    assert max(y[f].sum() for f in folds) - min(y[f].sum() for f in folds) <= 1


def test_oob_fraction_tends_to_one_over_e():
    for n in (10, 100, 2000):
        missed = np.mean([len(ev.bootstrap(n, seed)[1]) / n for seed in range(200)])
        assert abs(missed - ev.oob_probability(n)) < 4 * math.sqrt(ev.oob_probability(n) / (200 * n)) + 1e-3
    assert abs(ev.oob_probability(10**6) - math.exp(-1)) < 1e-6


def test_bad_splits_say_why():
    with pytest.raises(ValueError, match="more than the n = 5 samples"):
        ev.k_fold(np.arange(5) % 2, 6)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        ev.hold_out(np.arange(10) % 2, 1.5)
    with pytest.raises(ValueError, match="empty class"):
        ev.logistic_regression(np.zeros((4, 2)), np.ones(4), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="only one class"):
        ev.roc_curve(np.ones(4), np.arange(4.0))


# ---- scores against scikit-learn ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_precision_recall_f_match_sklearn(seed):
    y, s = _tied_case(seed)
    pred = s >= np.median(s)
    k = ev.confusion(y, pred)
    for beta in (0.5, 1.0, 2.0):
        p, r, f, _ = metrics.precision_recall_fscore_support(y, pred, beta=beta, average="binary", zero_division=0)
        assert (k.precision, k.recall, k.f_beta(beta)) == pytest.approx((p, r, f), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_roc_and_auc_match_sklearn_with_ties(seed):
    y, s = _tied_case(seed)
    fpr, tpr, thr = ev.roc_curve(y, s)
    fpr_s, tpr_s, thr_s = metrics.roc_curve(y, s, drop_intermediate=False)
    assert np.allclose(fpr, fpr_s) and np.allclose(tpr, tpr_s) and np.allclose(thr[1:], thr_s[1:])
    assert ev.auc(fpr, tpr) == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_average_precision_matches_sklearn(seed):
    y, s = _tied_case(seed)
    assert ev.average_precision(y, s) == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)
    P, R, thr = ev.pr_curve(y, s)
    P_s, R_s, thr_s = metrics.precision_recall_curve(y, s, drop_intermediate=False)
    assert np.allclose(P, P_s[:-1][::-1]) and np.allclose(R, R_s[:-1][::-1]) and np.allclose(thr, thr_s[::-1])


@pytest.mark.parametrize("seed", range(8))
def test_auc_is_one_minus_rank_loss(seed):
    y, s = _tied_case(seed, n=40, levels=4 + seed)
    assert ev.auc(*ev.roc_curve(y, s)[:2]) == pytest.approx(1 - ev.rank_loss(y, s), abs=1e-14)
    # the same identity in exact arithmetic: pairs the wrong way round, ties counting half
    pos, neg = s[y == 1], s[y == 0]
    wrong = sum(Fraction(int(a < b)) + Fraction(int(a == b), 2) for a in pos for b in neg)
    assert Fraction(ev.rank_loss(y, s)).limit_denominator(10**6) == wrong / (len(pos) * len(neg))


def test_macro_micro_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 200)
    pred = np.where(rng.random(200) < 0.6, y, rng.integers(0, 5, 200))
    mm = ev.macro_micro(ev.confusion_matrix(y, pred, 5))
    p, r, f, _ = metrics.precision_recall_fscore_support(y, pred, average="macro", zero_division=0)
    assert (mm["macro_P"], mm["macro_R"], mm["mean_F1"]) == pytest.approx((p, r, f), abs=1e-12)
    p, r, f, _ = metrics.precision_recall_fscore_support(y, pred, average="micro", zero_division=0)
    assert (mm["micro_P"], mm["micro_R"], mm["micro_F1"]) == pytest.approx((p, r, f), abs=1e-12)
    # the book's macro-F1 is the harmonic mean of macro-P and macro-R, not scikit-learn's mean of per-class F1
    assert mm["macro_F1"] == pytest.approx(2 * mm["macro_P"] * mm["macro_R"] / (mm["macro_P"] + mm["macro_R"]))
    assert mm["macro_F1"] != pytest.approx(mm["mean_F1"], abs=1e-6)


def test_break_even_point_is_where_precision_equals_recall():
    y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
    s = np.linspace(1, 0, 10)  # no ties: cutting after the m+ = 4 highest gives P = R = 3/4
    bep, thr = ev.break_even_point(y, s)
    assert bep == pytest.approx(0.75) and thr == pytest.approx(s[3])


def test_f_beta_is_a_weighted_harmonic_mean():
    P, R = 0.6, 0.3
    for beta in (0.5, 1, 3):
        assert 1 / ev.f_beta(P, R, beta) == pytest.approx((1 / P + beta ** 2 / R) / (1 + beta ** 2))


# ---- costs ---------------------------------------------------------------------------------------------------
def test_cost_curve_envelope_area_and_endpoints():
    y, s = _tied_case(3)
    fpr, tpr, _ = ev.roc_curve(y, s)
    x, lines, env = ev.cost_curve(fpr, tpr, grid=1001)
    assert np.allclose(lines[:, 0], fpr) and np.allclose(lines[:, -1], 1 - tpr)  # (0, FPR) to (1, FNR)
    assert env[0] == 0 and env[-1] == 0  # the all-negative and all-positive classifiers are on every curve
    # at equal costs and the data's prior, the envelope is the best normalised error over the thresholds
    c = np.array([[0, 1.0], [1.0, 0]])
    p = y.mean()
    best = min(ev.cost_sensitive_error(y, s >= t, c) for t in np.r_[np.unique(s), np.inf])
    assert np.interp(ev.positive_cost_share(p, c), x, env) == pytest.approx(best, abs=2e-3)


def test_cost_sensitive_error_weights_the_two_mistakes():
    y = np.array([1, 1, 1, 0, 0])
    pred = np.array([0, 1, 1, 1, 1])  # one false negative, two false positives
    assert ev.cost_sensitive_error(y, pred, [[0, 5], [1, 0]]) == pytest.approx((5 + 2) / 5)
    with pytest.raises(ValueError, match="NaN"):
        ev.cost_sensitive_error(y, pred, [[0, float("nan")], [1, 0]])


# ---- hypothesis tests against scipy.stats ----------------------------------------------------------------------
def test_binomial_test_matches_scipy():
    for errors, m, eps0 in [(12, 100, 0.1), (40, 300, 0.1), (3, 50, 0.2)]:
        r = ev.binomial_test(errors, m, eps0, 0.05)
        assert r.p_value == pytest.approx(stats.binomtest(errors, m, eps0, alternative="greater").pvalue, rel=1e-10)
        c = int(r.critical)  # the smallest count whose upper tail is <= alpha
        assert stats.binom.sf(c - 1, m, eps0) <= 0.05 < stats.binom.sf(c - 2, m, eps0)


def test_t_tests_match_scipy():
    rng = np.random.default_rng(1)
    e = 0.1 + 0.02 * rng.standard_normal(10)
    r = ev.t_test(e, 0.09)
    ref = stats.ttest_1samp(e, 0.09)
    assert (r.statistic, r.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)
    a, b = e, e + 0.01 * rng.standard_normal(10) + 0.005
    r = ev.paired_t_test(a, b)
    ref = stats.ttest_rel(a, b)
    assert (r.statistic, r.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)
    assert r.critical == pytest.approx(stats.t.ppf(0.975, 9)) and r.distribution == "t(9)"


def test_5x2_cv_statistic():
    rng = np.random.default_rng(2)
    D = 0.02 + 0.01 * rng.standard_normal((5, 2))
    r = ev.cv_5x2_t_test(D)
    s2 = ((D - D.mean(1, keepdims=True)) ** 2).sum(1)
    tau = math.sqrt(2) * D[0].mean() / math.sqrt(s2.mean())
    assert r.statistic == pytest.approx(tau) and r.p_value == pytest.approx(2 * stats.t.sf(abs(tau), 5))


def test_5x2_cv_statistic_has_its_nominal_size_where_the_books_and_dietterichs_do_not():
    """Under H0 with i.i.d. normal differences the statistic is exactly t(5): it rejects 5 % at alpha = 0.05. The
    book's form (without sqrt 2) and Dietterich's (Delta_1^1 alone on top) are conservative, ~1.5 % and ~2.8 %."""
    D = np.random.default_rng(0).standard_normal((3000, 5, 2))
    rate = np.mean([ev.cv_5x2_t_test(d).reject for d in D])
    assert rate == pytest.approx(0.05, abs=0.012)  # 3 standard errors at n = 3000
    s = np.sqrt(0.2 * ((D - D.mean(2, keepdims=True)) ** 2).sum((1, 2)))
    c = stats.t.isf(0.025, 5)
    assert np.mean(np.abs(D[:, 0].mean(1) / s) > c) < 0.025 and np.mean(np.abs(D[:, 0, 0] / s) > c) < 0.04


def test_mcnemar_with_and_without_continuity_correction():
    rng = np.random.default_rng(3)
    wa, wb = rng.random(300) < 0.15, rng.random(300) < 0.22
    e01, e10 = int((wa & ~wb).sum()), int((~wa & wb).sum())
    r, a, b = ev.mcnemar(wa, wb, 0.05, correction=True)
    assert (a, b) == (e01, e10)
    assert r.statistic == pytest.approx((abs(e01 - e10) - 1) ** 2 / (e01 + e10))
    assert r.p_value == pytest.approx(stats.chi2.sf(r.statistic, 1)) and r.critical == pytest.approx(3.8414588)
    r, _, _ = ev.mcnemar(wa, wb, 0.05, correction=False)
    assert r.statistic == pytest.approx((e01 - e10) ** 2 / (e01 + e10))
    assert r.p_value == pytest.approx(stats.chi2.sf(r.statistic, 1))


def test_friedman_matches_scipy():
    rng = np.random.default_rng(4)
    E = rng.random((8, 4)) + np.array([0.0, 0.1, 0.2, 0.3])  # continuous: no ties
    chi, F, ranks = ev.friedman(E, 0.05)
    ref = stats.friedmanchisquare(*E.T)
    assert (chi.statistic, chi.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-10)
    N, k = E.shape
    assert F.statistic == pytest.approx((N - 1) * chi.statistic / (N * (k - 1) - chi.statistic))
    assert F.p_value == pytest.approx(stats.f.sf(F.statistic, k - 1, (k - 1) * (N - 1)))
    assert ranks.sum() == pytest.approx(k * (k + 1) / 2)


# Zhou table 2.7 (= Demsar 2006 table 5a, b): q_alpha for k = 2 ... 10
BOOK_Q = {0.05: [1.960, 2.344, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164],
          0.1: [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]}


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_nemenyi_critical_difference_equals_the_book_table(alpha):
    for k, q in zip(range(2, 11), BOOK_Q[alpha]):
        assert abs(ev.nemenyi_q(k, alpha) - q) <= 1.5e-3  # the table is printed to 3 decimals (two entries rounded up)
        assert ev.nemenyi_cd(k, 12, alpha) == pytest.approx(ev.nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / 72))


def test_bad_test_input_says_why():
    with pytest.raises(ValueError, match="zero variance"):
        ev.paired_t_test([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="zero variance"):
        ev.cv_5x2_t_test(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="e01 \\+ e10 = 0"):
        ev.mcnemar([1, 0, 1], [1, 0, 1])
    for alpha in (0, 1, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="between 0 and 1"):
            ev.paired_t_test([0.1, 0.2], [0.2, 0.2], alpha)


# ---- bias-variance -----------------------------------------------------------------------------------------
def test_bias_variance_decomposition():
    bv = ev.bias_variance([1, 3, 9], n_train=15, n_sets=200, noise=0.3, seed=0)
    # the noise-free part is an exact identity: mean_D (f_D - f)^2 = (fbar - f)^2 + mean_D (f_D - fbar)^2, so the
    # measured error against fresh noisy labels is bias^2 + variance + noise up to Monte-Carlo error
    assert np.allclose(bv.error, bv.bias2 + bv.variance + bv.noise, rtol=0.08)
    assert bv.bias2[0] > bv.bias2[1] and bv.variance[2] > bv.variance[1]  # low capacity: bias; high: variance
    assert bv.train_error[2] < bv.train_error[0]
