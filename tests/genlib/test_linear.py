"""genlib.linear against numpy.linalg.lstsq and scikit-learn (LinearRegression, LogisticRegression,
LinearDiscriminantAnalysis), and the equations of the linear-models note checked numerically."""
from __future__ import annotations

import numpy as np
import pytest

from genlib import linear

sklearn = pytest.importorskip("sklearn")
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402


@pytest.mark.parametrize("dim", [1, 2])
def test_normal_equations_equal_lstsq_qr_and_sklearn(dim):
    X, y = linear.regression_data(n=30, dim=dim, noise=0.7, outliers=2, seed=1)
    ref = np.linalg.lstsq(np.hstack([X, np.ones((30, 1))]), y, rcond=None)[0]
    skl = LinearRegression().fit(X, y)
    for method in ("normal", "qr", "lstsq"):
        w = linear.least_squares(X, y, method)
        np.testing.assert_allclose(w, ref, atol=1e-10)
        np.testing.assert_allclose(w[:-1], skl.coef_, atol=1e-10)
        np.testing.assert_allclose(w[-1], skl.intercept_, atol=1e-10)
    # the normal equations: the residual is orthogonal to every column of X_hat
    r = linear.augment(X) @ ref - y
    np.testing.assert_allclose(linear.augment(X).T @ r, 0.0, atol=1e-9)


def test_gradient_and_hessian_of_the_squared_loss():
    X, y = linear.regression_data(n=12, dim=2, seed=3)
    w = np.array([0.3, -0.2, 0.5])
    eps = 1e-6
    num = np.array([(linear.mse(w + eps * e, X, y) - linear.mse(w - eps * e, X, y)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(linear.mse_gradient(w, X, y), num, atol=1e-7)
    np.testing.assert_allclose(linear.mse_gradient_looped(w, X, y), linear.mse_gradient(w, X, y), atol=1e-12)
    H = linear.mse_hessian(X)
    numH = np.array([(linear.mse_gradient(w + eps * e, X, y) - linear.mse_gradient(w - eps * e, X, y)) / (2 * eps)
                     for e in np.eye(3)])
    np.testing.assert_allclose(H, numH, atol=1e-6)
    np.testing.assert_allclose(linear.mse_grid(X, y, np.stack([w, 2 * w])), [linear.mse(w, X, y), linear.mse(2 * w, X, y)])


def test_gd_converges_below_two_over_lambda_max_and_diverges_above():
    X, y = linear.regression_data(n=40, dim=1, seed=0)
    w_star, thr = linear.least_squares(X, y), linear.max_stable_lr(X)
    below = linear.gradient_descent(X, y, 0.9 * thr, 3000)
    assert not below.diverged
    np.testing.assert_allclose(below.params[-1], w_star, atol=1e-6)
    above = linear.gradient_descent(X, y, 1.1 * thr, 3000)
    assert above.diverged and np.isfinite(above.losses).all()
    assert above.losses[-1] > 1e6 * above.losses[0] or len(above.losses) < 3001
    huge = linear.gradient_descent(X, y, 1e9, 50)
    assert huge.diverged and len(huge.losses) < 51


def test_error_contracts_by_one_minus_lr_lambda():
    """e_{t+1} = (I - lr H) e_t exactly, e_t = w_t - w*: each eigen-direction shrinks by |1 - lr lambda_i|."""
    X, y = linear.regression_data(n=20, dim=1, seed=2)
    w_star, H = linear.least_squares(X, y), linear.mse_hessian(X)
    lr = 0.1
    path = linear.gradient_descent(X, y, lr, 5)
    for t in range(5):
        np.testing.assert_allclose(path.params[t + 1] - w_star, (np.eye(2) - lr * H) @ (path.params[t] - w_star), atol=1e-10)


def test_sgd_with_full_batch_is_gd_and_small_batches_get_close():
    X, y = linear.regression_data(n=32, dim=1, seed=4)
    lr = 0.5 * linear.max_stable_lr(X)
    np.testing.assert_allclose(linear.sgd(X, y, lr, 30, batch_size=32).params, linear.gradient_descent(X, y, lr, 30).params)
    mini = linear.sgd(X, y, 0.05, 2000, batch_size=4, seed=0)
    assert not mini.diverged
    assert mini.losses[-1] < 1.2 * linear.mse(linear.least_squares(X, y), X, y)


def test_singular_design_gives_a_clear_error():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # second column = 2 x first
    with pytest.raises(linear.LinearModelError, match="collinear"):
        linear.least_squares(X, np.array([1.0, 2.0, 3.0]), "normal")
    with pytest.raises(linear.LinearModelError, match="fewer points"):
        linear.least_squares(np.array([[1.0]]), np.array([2.0]), "qr")
    w = linear.least_squares(X, np.array([1.0, 2.0, 3.0]), "lstsq")  # minimum-norm solution still fits
    np.testing.assert_allclose(linear.augment(X) @ w, [1.0, 2.0, 3.0], atol=1e-10)


def _pm(y):
    return np.where(y == 1, 1.0, -1.0)


@pytest.mark.parametrize("seed", range(4))
def test_perceptron_updates_never_exceed_novikoff_bound(seed):
    X, y = linear.two_classes(n=40, gap=1.6, spread=0.35, seed=seed)
    R, gamma, bound = linear.novikoff_bound(X, _pm(y))
    assert gamma > 0  # separable
    run = linear.perceptron(X, _pm(y), max_epochs=1000)
    assert run.converged
    assert len(run.mistakes) <= bound
    w = run.weights[-1]
    assert (_pm(y) * (linear.augment(X) @ w) > 0).all()  # the final hyperplane separates


def test_perceptron_update_rule_and_non_separable_data():
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    run = linear.perceptron(X, np.array([1.0, -1.0]))
    np.testing.assert_allclose(run.weights[1], [1.0, 0.0, 1.0])  # w + y_0 x_hat_0 from zero
    Xx = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])  # XOR
    bad = linear.perceptron(Xx, np.array([1.0, 1.0, -1.0, -1.0]), max_epochs=50)
    assert not bad.converged
    assert linear.novikoff_bound(Xx, np.array([1.0, 1.0, -1.0, -1.0]))[1] <= 0


def test_logistic_gradient_and_hessian():
    X, y = linear.two_classes(n=30, gap=0.6, seed=5)
    beta, lam, eps = np.array([0.4, -0.3, 0.2]), 0.1, 1e-6
    f = lambda b: linear.log_loss(b, X, y, lam)  # noqa: E731
    num = np.array([(f(beta + eps * e) - f(beta - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(linear.log_loss_gradient(beta, X, y, lam), num, atol=1e-7)
    g = lambda b: linear.log_loss_gradient(b, X, y, lam)  # noqa: E731
    numH = np.array([(g(beta + eps * e) - g(beta - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(linear.log_loss_hessian(beta, X, lam), numH, atol=1e-6)
    assert np.linalg.eigvalsh(linear.log_loss_hessian(beta, X, 0.0)).min() >= -1e-12  # convex


@pytest.mark.parametrize("lam", [0.01, 0.1])
def test_newton_matches_sklearn_logistic_regression(lam):
    X, y = linear.two_classes(n=60, gap=0.8, seed=6)
    run = linear.logistic_fit(X, y, "newton", lam=lam, steps=50)
    assert run.stopped == "converged"
    # sklearn minimises C sum_i loss_i + ||w||^2 / 2; ours is mean loss + lam ||w||^2 / 2: C = 1 / (N lam)
    skl = LogisticRegression(C=1.0 / (len(y) * lam), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(run.params[-1][:-1], skl.coef_[0], atol=1e-4)
    np.testing.assert_allclose(run.params[-1][-1], skl.intercept_[0], atol=1e-4)


def test_newton_needs_far_fewer_iterations_than_gd():
    X, y = linear.two_classes(n=60, gap=0.8, seed=6)
    newton = linear.logistic_fit(X, y, "newton", lam=0.01, steps=50, tol=1e-8)
    gd = linear.logistic_fit(X, y, "gd", lam=0.01, lr=1.0, steps=5000, tol=1e-8)
    assert newton.stopped == "converged" and len(newton.losses) <= 12
    assert len(gd.losses) > 5 * len(newton.losses)
    np.testing.assert_allclose(gd.params[-1], newton.params[-1], atol=1e-5)


def test_separable_data_weights_grow_without_l2_and_stay_bounded_with_it():
    X, y = linear.two_classes(n=40, gap=2.0, spread=0.3, seed=0)
    free = linear.logistic_fit(X, y, "gd", lam=0.0, lr=1.0, steps=4000)
    norms = np.linalg.norm(free.params[:, :-1], axis=1)
    assert norms[-1] > norms[len(norms) // 2] > norms[len(norms) // 4]  # still growing: no finite minimiser
    assert free.losses[-1] < 1e-2
    reg = linear.logistic_fit(X, y, "newton", lam=0.05, steps=100)
    assert reg.stopped == "converged" and np.linalg.norm(reg.params[-1][:-1]) < 10


def test_one_class_is_refused():
    with pytest.raises(linear.LinearModelError, match="one class"):
        linear.logistic_fit(np.zeros((5, 2)), np.ones(5))


def test_lda_direction_matches_sklearn_up_to_scale():
    X, y = linear.two_classes(n=80, gap=1.0, seed=7)
    w = linear.lda_direction(X, y)
    skl = LinearDiscriminantAnalysis(solver="eigen").fit(X, y).coef_[0]
    skl = skl / np.linalg.norm(skl)
    np.testing.assert_allclose(w * np.sign(w @ skl), skl, atol=1e-8)


def test_lda_direction_maximises_the_rayleigh_quotient():
    X, y = linear.two_classes(n=80, gap=1.0, seed=8)
    w = linear.lda_direction(X, y)
    best = linear.rayleigh_quotient(w, X, y)
    angles = np.linspace(0, np.pi, 721)
    others = [linear.rayleigh_quotient(np.array([np.cos(a), np.sin(a)]), X, y) for a in angles]
    assert best >= max(others) - 1e-9
    mu0, mu1, S_w, S_b = linear.scatter_matrices(X, y)
    # generalised eigenproblem S_b w = J S_w w at the optimum
    np.testing.assert_allclose(S_b @ w, best * (S_w @ w), atol=1e-8)


def test_lda_singular_scatter_is_refused():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0], [4.0, 4.0]])  # all on one line: S_w has rank 1
    with pytest.raises(linear.LinearModelError, match="singular"):
        linear.lda_direction(X, np.array([0, 0, 1, 1]))


def test_sigmoid_is_stable():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    s = linear.sigmoid(z)
    assert np.isfinite(s).all() and s[2] == 0.5
    np.testing.assert_allclose(s + linear.sigmoid(-z), 1.0)
