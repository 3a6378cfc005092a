"""The evaluation tab's callbacks as plain functions: real classifiers, the numbers they show, and bad input."""
from __future__ import annotations

import re

import numpy as np
import pytest

from demos import evaluation as tab
from demos import ui
from genlib import evaluation as ev


def test_strings_exist_in_both_languages_with_the_tab_prefix():
    keys = {k for k in ui.STRINGS["en"] if k.startswith("eval_")}
    assert {"eval_title", "eval_threshold", "eval_cost", "eval_alpha"} <= keys
    assert keys == {k for k in ui.STRINGS["zh"] if k.startswith("eval_")}
    assert tab.TAB_ID == "evaluation" and tab.API_PREFIX == "eval" and tab.TITLE == "eval_title" and tab.MODELS == ()


def test_bundled_pairs_have_both_classes_and_the_app_never_reads_shared_data(monkeypatch):
    monkeypatch.delenv("GENLIB_DATA", raising=False)
    for name in ev.DATASETS:
        X, y = ev.load_dataset(name)
        assert len(X) == len(y) == 400 and y.sum() == 200 and np.isfinite(X).all()


def test_split_view_estimates_and_bootstrap_share():
    where, curve, status = tab.split_view("mnist_1v7", "knn7", 1.0, "holdout", 0.3, True, 10, 3, 0)
    assert where.startswith("<svg") and "error 0." in status and "± " in status
    *_, status = tab.split_view("mnist_1v7", "stump", 1.0, "bootstrap", 0.3, True, 10, 2, 0)
    share = float(re.search(r"first split: ([0-9.]+)", status).group(1))
    assert abs(share - ev.oob_probability(400)) < 0.08
    *_, status = tab.split_view("blobs", "logistic", 1.0, "kfold", 0.3, False, 20, 30, 0)
    assert "using 6" in status  # at most MAX_FITS models per request


def test_threshold_moves_the_confusion_matrix_and_the_roc_point():
    y, s = tab.holdout_scores("mnist_3v5", "logistic", 1.0)
    low, high = tab.scores_view("mnist_3v5", "logistic", 1.0, 0.05, 1.0), tab.scores_view("mnist_3v5", "logistic", 1.0, 0.95, 2.0)
    for (thr, out) in ((0.05, low), (0.95, high)):
        k = ev.confusion(y, s >= thr)
        assert f"TP = {k.tp}, FN = {k.fn}, FP = {k.fp}, TN = {k.tn}" in out[3]
        fpr, tpr = k.fp / (k.fp + k.tn), k.tp / (k.tp + k.fn)
        assert f"(FPR, TPR) = ({fpr:.3f}, {tpr:.3f})" in out[3]
    assert low[2] != high[2]  # the ROC picture's marker moved
    auc = re.search(r"AUC = ([0-9.]+) and 1 − ℓ_rank = ([0-9.]+)", low[3])
    assert auc.group(1) == auc.group(2)


def test_multiclass_micro_f1_is_accuracy():
    cm, table, status = tab.multiclass_view("fashion", 3)
    assert "**macro**" in table and "**micro**" in table
    micro, acc = re.search(r"micro-F1 ([0-9.]+) = accuracy ([0-9.]+)", status).groups()
    assert micro == acc


def test_costs_and_bad_cost_entries():
    svg, status = tab.cost_view("mnist_4v9", "knn7", 1.0, 0.5, [[0, 5], [1, 0]])
    assert svg.startswith("<svg") and "cost01 = 5" in status
    for bad in ([[0, float("nan")], [1, 0]], [[0, None], [1, 0]], [[0, "abc"], [1, 0]], [[1, 1], [1, 0]], [[0, -1], [1, 0]],
                [[0, 0], [0, 0]], [[0, 1]]):
        svg, status = tab.cost_view("mnist_4v9", "knn7", 1.0, 0.5, bad)
        assert svg == "" and "⛔" in status


def test_tests_view_reports_every_test_and_refuses_bad_input():
    table, diagram, status = tab.tests_view(["logistic", "stump"], "blobs", 5, 0.05, 0.1, 0)
    for name in ("binomial", "t-test", "paired t-test", "5x2 cv t-test", "McNemar", "Friedman chi2", "Friedman F"):
        assert f"| {name}" in table
    assert "CD = " in diagram and "Nemenyi CD" in status
    for alpha in (0, 1, 1.5, -0.2, float("nan"), "x"):
        table, diagram, status = tab.tests_view(["logistic", "stump"], "blobs", 5, alpha, 0.1, 0)
        assert table == "" and "strictly between 0 and 1" in status
    table, _, status = tab.tests_view(["logistic"], "blobs", 5, 0.05, 0.1, 0)
    assert table == "" and "at least two" in status
    # identical learners: zero variance and e01 + e10 = 0 are said, not crashed on
    table, _, status = tab.tests_view(["knn7", "knn7", "stump"], "blobs", 5, 0.05, 0.1, 0)
    assert "⛔" not in status
    table, _, status = tab.tests_view(["stump", "knn1", "bogus"], "mnist_1v7", 50, 0.05, 0.1, 0)
    assert "ignored ['bogus']" in status and "outside [2, 20]" in status


def test_identical_learners_give_a_message(monkeypatch):
    monkeypatch.setitem(ev.LEARNERS, "twin", ev.LEARNERS["stump"])
    monkeypatch.setitem(tab.LEARNER_NAMES, "twin", "a second decision stump")
    table, _, status = tab.tests_view(["stump", "twin"], "blobs", 5, 0.05, 0.1, 0)
    assert "zero variance" in status and "e01 + e10 = 0" in status and "| binomial" in table


def test_bias_variance_view():
    svg, status = tab.bias_variance_view(0.3, 20, 30, 0)
    assert svg.startswith("<svg") and "bias²" in svg and "lowest test error" in status
    svg, status = tab.bias_variance_view(float("nan"), 10**6, -4, 0)
    assert "not a number" in status and "outside" in status
