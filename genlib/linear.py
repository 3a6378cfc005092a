"""Linear models, the ground floor (Zhou Zhihua, *Machine Learning*, ch. 3; Rosenblatt 1958; Novikoff 1962; Fisher 1936).

Notation follows Zhou: a sample x in R^d is augmented to x_hat = (x; 1) so that w^T x + b = w_hat^T x_hat, and the
design matrix X_hat (N, d + 1) stacks the x_hat as rows.

- least squares: the normal equations, numpy's lstsq (SVD) and QR; gradient descent and mini-batch SGD on
  L(w_hat) = ||X_hat w_hat - y||^2 / (2N), whose Hessian X_hat^T X_hat / N fixes the largest stable step 2 / lambda_max;
- the perceptron (labels -1/+1) with Novikoff's bound (R / gamma)^2 on its number of updates;
- logistic regression (labels 0/1): mean log-loss + (lambda / 2) ||w||^2 (the bias is not penalised), by gradient
  descent and by Newton's method;
- Fisher's linear discriminant: w proportional to S_w^{-1} (mu_1 - mu_0), and its Rayleigh quotient.

Everything is float64 numpy; nothing here imports torch or gradio. Bad input raises LinearModelError with a message a
page can show.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class LinearModelError(ValueError):
    """Input a linear model cannot use (too few points, one class, a singular matrix); the text says why."""


# ---- toy data (seeded) -----------------------------------------------------------------------------------
def regression_data(n: int = 40, dim: int = 1, noise: float = 0.5, outliers: int = 0, seed: int = 0):
    """(X (n, dim), y (n,)): x uniform on [0, 4] (not centred, so the loss valley in (w, b) is long and thin),
    y = w_true . x + b_true + noise eps, and `outliers` points moved up by 8 to 12."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 4.0, size=(n, dim))
    w_true = np.array([1.5, -0.8, 0.6][:dim]) if dim <= 3 else rng.normal(size=dim)
    y = X @ w_true - 1.0 + noise * rng.normal(size=n)
    if outliers:
        idx = rng.choice(n, size=min(outliers, n), replace=False)
        y[idx] += rng.uniform(8.0, 12.0, size=len(idx))
    return X, y


def two_classes(n: int = 60, gap: float = 1.5, spread: float = 0.7, seed: int = 0, angle: float = 30.0):
    """(X (n, 2), y (n,) in {0, 1}): two Gaussian clouds along the direction `angle` (degrees), centres 2 * gap
    apart, elongated across that direction so that LDA's direction differs from the line between the means.
    A large gap makes the classes separable; a small one makes them overlap."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    u = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    v = np.array([-u[1], u[0]])
    z = rng.normal(size=(n, 2)) * np.array([spread, 2.2 * spread])  # narrow along u, long along v
    shear = 0.6 * z[:, 1]  # correlate the two axes: the best direction is not u
    X = (np.where(y == 1, gap, -gap) + z[:, 0] + shear)[:, None] * u + z[:, 1:2] * v
    return X, y


def augment(X: np.ndarray) -> np.ndarray:
    """x -> x_hat = (x; 1): the design matrix X_hat (N, d + 1), whose last column of ones carries the bias."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((len(X), 1))])


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise LinearModelError(f"X must be (N, d) and y (N,); got {X.shape} and {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise LinearModelError("the data contain NaN or infinite values")
    return X, y


# ---- least squares ---------------------------------------------------------------------------------------
def least_squares(X, y, method: str = "lstsq") -> np.ndarray:
    """The minimiser w_hat* of ||X_hat w_hat - y||^2.

    "normal": solve (X_hat^T X_hat) w_hat = X_hat^T y, the normal equations (squares the condition number);
    "qr": X_hat = Q R, then R w_hat = Q^T y (back-substitution on the triangular R);
    "lstsq": numpy's SVD solver, which also handles a rank-deficient X_hat (the minimum-norm solution).
    The first two raise LinearModelError when X_hat^T X_hat is singular (collinear features, too few points)."""
    X, y = _check_xy(X, y)
    Xh = augment(X)
    if method == "lstsq":
        return np.linalg.lstsq(Xh, y, rcond=None)[0]
    rank = np.linalg.matrix_rank(Xh)
    if rank < Xh.shape[1]:
        raise LinearModelError(
            f"X_hat^T X_hat is singular (rank {rank} < {Xh.shape[1]}): "
            + ("fewer points than parameters" if len(X) < Xh.shape[1] else "the features are collinear")
            + "; the least-squares solution is not unique (lstsq picks the one of minimum norm)")
    if method == "normal":
        return np.linalg.solve(Xh.T @ Xh, Xh.T @ y)  # (X^T X) w = X^T y
    if method == "qr":
        Q, R = np.linalg.qr(Xh)  # (N, d+1), (d+1, d+1) upper triangular
        return np.linalg.solve(R, Q.T @ y)  # R w = Q^T y
    raise ValueError(f"method must be 'lstsq', 'normal' or 'qr', not {method!r}")


def mse(w_hat, X, y) -> float:
    """L(w_hat) = ||X_hat w_hat - y||^2 / (2N)."""
    r = augment(X) @ w_hat - y
    return float(r @ r / (2 * len(y)))


def mse_grid(X, y, W: np.ndarray) -> np.ndarray:
    """L at many parameter vectors at once: W (..., d + 1) -> (...)."""
    r = W @ augment(X).T - y  # (..., N)
    return (r**2).sum(-1) / (2 * len(y))


def mse_gradient(w_hat, X, y) -> np.ndarray:
    """grad L = X_hat^T (X_hat w_hat - y) / N, vectorised."""
    Xh = augment(X)
    return Xh.T @ (Xh @ w_hat - y) / len(y)


def mse_gradient_looped(w_hat, X, y) -> np.ndarray:
    """The same gradient as a Python loop over samples and coordinates (for the timing comparison)."""
    g = [0.0] * len(w_hat)
    for xi, yi in zip(augment(X).tolist(), np.asarray(y).tolist()):
        r = sum(a * b for a, b in zip(xi, w_hat)) - yi
        for j in range(len(g)):
            g[j] += r * xi[j]
    return np.array(g) / len(y)


def mse_hessian(X) -> np.ndarray:
    """H = X_hat^T X_hat / N: constant, so the loss is an exact quadratic bowl."""
    Xh = augment(X)
    return Xh.T @ Xh / len(Xh)


def max_stable_lr(X) -> float:
    """2 / lambda_max(H): gradient descent on the quadratic converges for 0 < lr < this, diverges above it."""
    return 2.0 / float(np.linalg.eigvalsh(mse_hessian(X)).max())


@dataclass
class Path:
    params: np.ndarray  # (T + 1, d + 1) w_hat after each step, starting at w0
    losses: np.ndarray  # (T + 1,) L(w_hat) along the path (full-batch loss, also for SGD)
    diverged: bool  # stopped early because the parameters or the loss became inf/NaN (or passed 1e12)


def _finite(w: np.ndarray, loss: float) -> bool:
    return bool(np.isfinite(w).all() and np.isfinite(loss) and loss < 1e12)


def _descend(X, y, lr: float, steps: int, w0, batches) -> Path:
    """w_hat <- w_hat - lr * (gradient on the rows batches() returns, or on all rows for None), `steps` times,
    recording the full-batch loss; stops (diverged=True) once the parameters or the loss leave the finite range."""
    w = np.zeros(X.shape[1] + 1) if w0 is None else np.asarray(w0, dtype=np.float64).copy()
    params, losses = [w.copy()], [mse(w, X, y)]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            idx = batches()
            w = w - lr * (mse_gradient(w, X, y) if idx is None else mse_gradient(w, X[idx], y[idx]))
            loss = mse(w, X, y)
            if not _finite(w, loss):
                return Path(np.array(params), np.array(losses), True)
            params.append(w.copy())
            losses.append(loss)
    return Path(np.array(params), np.array(losses), False)


def gradient_descent(X, y, lr: float, steps: int, w0=None) -> Path:
    """Full-batch GD: w_hat <- w_hat - lr grad L(w_hat). Stops (diverged=True) once the loss passes 1e12."""
    X, y = _check_xy(X, y)
    return _descend(X, y, lr, steps, w0, lambda: None)


def sgd(X, y, lr: float, steps: int, batch_size: int, seed: int = 0, w0=None) -> Path:
    """Mini-batch SGD: each step draws `batch_size` samples (reshuffled every epoch) and moves along their mean
    gradient, an unbiased estimate of grad L."""
    X, y = _check_xy(X, y)
    rng = np.random.default_rng(seed)
    n, batch_size = len(y), max(1, min(int(batch_size), len(y)))
    order = np.array([], dtype=np.int64)

    def next_batch() -> np.ndarray:  # the next `batch_size` indices of an epoch-by-epoch shuffle
        nonlocal order
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(n)])
        idx, order = order[:batch_size], order[batch_size:]
        return idx

    return _descend(X, y, lr, steps, w0, next_batch)


# ---- the perceptron --------------------------------------------------------------------------------------
@dataclass
class PerceptronRun:
    weights: np.ndarray  # (U + 1, d + 1) w_hat before the first and after each update
    mistakes: np.ndarray  # (U,) index of the misclassified sample behind each update
    epochs: int  # passes over the data
    converged: bool  # a full pass without a mistake


def perceptron(X, y, max_epochs: int = 100) -> PerceptronRun:
    """Rosenblatt's rule on labels y in {-1, +1}: visit the samples in order; whenever y_i w_hat^T x_hat_i <= 0,
    w_hat <- w_hat + y_i x_hat_i. Stops after a pass with no mistake, or after max_epochs passes."""
    X, y = _check_xy(X, y)
    if not set(np.unique(y)) <= {-1.0, 1.0}:
        raise LinearModelError("perceptron labels must be -1 or +1")
    Xh = augment(X)
    w = np.zeros(Xh.shape[1])
    weights, mistakes = [w.copy()], []
    for epoch in range(1, max_epochs + 1):
        clean = True
        for i in range(len(y)):
            if y[i] * (w @ Xh[i]) <= 0:  # a mistake (or on the hyperplane)
                w = w + y[i] * Xh[i]  # the update
                weights.append(w.copy())
                mistakes.append(i)
                clean = False
        if clean:
            return PerceptronRun(np.array(weights), np.array(mistakes, dtype=np.int64), epoch, True)
    return PerceptronRun(np.array(weights), np.array(mistakes, dtype=np.int64), max_epochs, False)


def max_margin_direction(X, y, iters: int = 500) -> tuple[np.ndarray, float]:
    """A unit w_hat separating the augmented samples with the largest margin we can find, and that margin
    gamma = min_i y_i w_hat^T x_hat_i (<= 0 when the data are not separable).

    Dual coordinate ascent for the hard-margin problem min ||u||^2 / 2 s.t. y_i u^T x_hat_i >= 1 (no bias: the bias
    is the last coordinate of x_hat). Any separating u gives a valid Novikoff bound; the best one gives the tightest."""
    X, y = _check_xy(X, y)
    Xh = augment(X)
    Z = y[:, None] * Xh  # (N, d+1) rows y_i x_hat_i
    sq = (Z**2).sum(1)
    alpha, u = np.zeros(len(y)), np.zeros(Xh.shape[1])
    for _ in range(iters):
        moved = 0.0
        for i in range(len(y)):
            new = max(0.0, alpha[i] - (Z[i] @ u - 1.0) / sq[i])
            u += (new - alpha[i]) * Z[i]
            moved = max(moved, abs(new - alpha[i]))
            alpha[i] = new
        if moved < 1e-9:  # a full pass changed nothing: converged
            break
    norm = np.linalg.norm(u)
    if norm == 0:
        return u, 0.0
    u = u / norm
    return u, float((Z @ u).min())


def novikoff_bound(X, y) -> tuple[float, float, float]:
    """(R, gamma, (R / gamma)^2): R = max ||x_hat_i||, gamma the margin of max_margin_direction. On separable data
    the perceptron makes at most (R / gamma)^2 updates; bound = inf when gamma <= 0 (no separator found)."""
    R = float(np.linalg.norm(augment(X), axis=1).max())
    _, gamma = max_margin_direction(X, y)
    return R, gamma, (R / gamma) ** 2 if gamma > 1e-12 else float("inf")


# ---- logistic regression ---------------------------------------------------------------------------------
def _check_binary(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = _check_xy(X, y)
    if not set(np.unique(y)) <= {0.0, 1.0}:
        raise LinearModelError("labels must be 0 or 1")
    if len(np.unique(y)) < 2:
        raise LinearModelError(f"all {len(y)} points are in one class: there is no boundary to find")
    return X, y


def sigmoid(z):
    """1 / (1 + e^{-z}), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_loss(beta, X, y, lam: float = 0.0) -> float:
    """l(beta) = (1/N) sum_i [log(1 + e^{z_i}) - y_i z_i] + (lam/2) ||w||^2, z_i = beta^T x_hat_i (Zhou eq. 3.27,
    averaged, plus an L2 penalty on w but not on the bias)."""
    z = augment(X) @ beta
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * beta[:-1] @ beta[:-1])


def log_loss_gradient(beta, X, y, lam: float = 0.0) -> np.ndarray:
    """grad l = X_hat^T (p - y) / N + lam (w; 0), p_i = sigmoid(z_i)."""
    Xh = augment(X)
    g = Xh.T @ (sigmoid(Xh @ beta) - y) / len(y)
    g[:-1] += lam * beta[:-1]
    return g


def log_loss_hessian(beta, X, lam: float = 0.0) -> np.ndarray:
    """H = X_hat^T diag(p_i (1 - p_i)) X_hat / N + lam diag(1, ..., 1, 0): positive semi-definite, so l is convex."""
    Xh = augment(X)
    p = sigmoid(Xh @ beta)
    H = (Xh * (p * (1 - p))[:, None]).T @ Xh / len(Xh)
    H[:-1, :-1] += lam * np.eye(len(beta) - 1)
    return H


@dataclass
class LogisticRun:
    params: np.ndarray  # (T + 1, d + 1) beta = (w; b) after each iteration
    losses: np.ndarray  # (T + 1,) penalised mean log-loss
    grad_norms: np.ndarray  # (T + 1,) ||grad l||
    stopped: str  # "" or why the run stopped early (converged, singular Hessian, overflow)


def logistic_fit(X, y, method: str = "newton", lam: float = 0.0, lr: float = 1.0, steps: int = 50,
                 tol: float = 1e-10) -> LogisticRun:
    """Minimise the penalised log-loss from beta = 0 by "gd" (beta <- beta - lr grad l) or "newton"
    (beta <- beta - H^{-1} grad l). Stops when ||grad l|| < tol."""
    X, y = _check_binary(X, y)
    beta = np.zeros(X.shape[1] + 1)
    params, losses, norms = [beta.copy()], [log_loss(beta, X, y, lam)], []
    g = log_loss_gradient(beta, X, y, lam)
    norms.append(float(np.linalg.norm(g)))
    stopped = ""
    with np.errstate(all="ignore"):
        for _ in range(steps):
            if norms[-1] < tol:
                stopped = "converged"
                break
            if method == "newton":
                H = log_loss_hessian(beta, X, lam)
                try:
                    if np.linalg.cond(H) > 1e14:
                        raise np.linalg.LinAlgError
                    step = np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    stopped = "singular Hessian"
                    break
                beta = beta - step  # Newton: beta - H^{-1} grad l
            elif method == "gd":
                beta = beta - lr * g
            else:
                raise ValueError(f"method must be 'gd' or 'newton', not {method!r}")
            loss = log_loss(beta, X, y, lam)
            g = log_loss_gradient(beta, X, y, lam)
            if not (np.isfinite(beta).all() and np.isfinite(loss) and np.abs(beta).max() < 1e12):
                stopped = "overflow"
                break
            params.append(beta.copy())
            losses.append(loss)
            norms.append(float(np.linalg.norm(g)))
    return LogisticRun(np.array(params), np.array(losses), np.array(norms), stopped)


# ---- Fisher's linear discriminant ------------------------------------------------------------------------
def scatter_matrices(X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mu_0, mu_1, S_w, S_b): class means, within-class scatter S_w = sum_c sum_{x in c} (x - mu_c)(x - mu_c)^T
    and between-class scatter S_b = (mu_0 - mu_1)(mu_0 - mu_1)^T (Zhou eqs. 3.33-3.34)."""
    X, y = _check_binary(X, y)
    mu0, mu1 = X[y == 0].mean(0), X[y == 1].mean(0)
    D0, D1 = X[y == 0] - mu0, X[y == 1] - mu1
    S_w = D0.T @ D0 + D1.T @ D1
    d = (mu0 - mu1)[:, None]
    return mu0, mu1, S_w, d @ d.T


def lda_direction(X, y) -> np.ndarray:
    """w = S_w^{-1} (mu_1 - mu_0), normalised to length 1 (Zhou eq. 3.39; the scale of w does not matter). A singular
    S_w (collinear features, one point per class) raises LinearModelError."""
    mu0, mu1, S_w, _ = scatter_matrices(X, y)
    if np.linalg.matrix_rank(S_w) < len(S_w):
        raise LinearModelError("the within-class scatter S_w is singular (collinear features or too few points per "
                               "class), so S_w^-1 does not exist")
    w = np.linalg.solve(S_w, mu1 - mu0)
    return w / np.linalg.norm(w)


def rayleigh_quotient(w, X, y) -> float:
    """J(w) = w^T S_b w / w^T S_w w: between-class over within-class spread of the projections w^T x."""
    _, _, S_w, S_b = scatter_matrices(X, y)
    w = np.asarray(w, dtype=np.float64)
    return float(w @ S_b @ w / (w @ S_w @ w))
