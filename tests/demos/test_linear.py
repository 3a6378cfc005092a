"""The linear-models tab's callbacks as plain functions: normal input, bad input and the messages."""
from __future__ import annotations

import math

import pytest

from demos import linear as tab
from demos import ui
from genlib import linear


def test_strings_exist_in_both_languages_with_the_tab_prefix():
    keys = {k for k in ui.STRINGS["en"] if k.startswith("linear_")}
    assert {"linear_title", "linear_lr", "linear_update", "linear_lam"} <= keys
    assert keys == {k for k in ui.STRINGS["zh"] if k.startswith("linear_")}
    assert tab.TAB_ID == "linear" and tab.TITLE == "linear_title" and tab.MODELS == ()


def test_regression_draws_the_path_and_reports_the_threshold():
    contour, curves, table, status = tab.regression()
    assert contour.startswith("<svg") and "polyline" in contour and curves.startswith("<svg")
    X, _ = linear.regression_data(40, 1, 0.5, 0, 0)
    assert f"{linear.max_stable_lr(X):.4g}" in table
    assert "×" in status and "⛔" not in status


@pytest.mark.parametrize("lr", [0, -0.5, "junk"])
def test_non_positive_or_junk_learning_rate_is_a_message(lr):
    *_, status = tab.regression(lr=lr)
    if lr == "junk":
        assert "not a number" in status
    else:
        assert "⛔" in status and "η > 0" in status.replace("&gt;", ">")


@pytest.mark.parametrize("lr", [1e9, float("inf"), 0.35])
def test_divergence_is_shown_not_crashed_on(lr):
    contour, curves, table, status = tab.regression(lr=lr)
    assert contour.startswith("<svg") and "nan" not in contour.lower() and "inf" not in curves.lower()
    assert "diverged" in status or "no convergence" in status


def test_one_point_and_collinear_features_give_messages():
    *_, status = tab.regression(n=1)
    assert "fewer points than parameters" in status and "minimum-norm" in status


def test_perceptron_steps_and_bound():
    svg, status = tab.perceptron_view(40, 0.8, 0, 400)
    assert svg.startswith("<svg") and "Novikoff" in status and "✓" in status
    first, s0 = tab.perceptron_view(40, 0.8, 0, 0)
    assert "Update 0 of" in s0 and first != svg
    _, overlap = tab.perceptron_view(40, 0.0, 0, 400)
    assert "not converged" in overlap and "does not apply" in overlap


def test_logistic_newton_beats_gd_and_separable_data_warns():
    surface, curves, hess, status = tab.logistic_view()
    assert surface.startswith("<svg") and hess.startswith("<svg")
    newton = int(status.split("Newton ")[1].split(",")[0])
    assert newton < 10
    *_, sep = tab.logistic_view(60, 3.0, 0.0)
    assert "no finite minimiser" in sep or "no minimiser" in sep


@pytest.mark.parametrize("fn", [tab.logistic_view, tab.lda_view])
def test_one_point_is_one_class(fn):
    *outputs, status = fn(1)
    assert "one class" in status and all(o == "" for o in outputs)


def test_lda_has_the_largest_rayleigh_quotient():
    plane, hist, status = tab.lda_view()
    assert plane.startswith("<svg") and hist.startswith("<svg")
    lda = float(status.split("LDA ")[1].split(" ")[0])
    logit = float(status.split("logistic ")[1].split(",")[0])
    assert lda >= logit and math.isfinite(lda)
