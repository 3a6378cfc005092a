"""Flow matching and diffusion as ODEs/SDEs, after Holderrieth & Erives, "An Introduction to Flow Matching
and Diffusion Models" (arXiv:2506.02070); CondOT path from Lipman et al. (2022); classifier-free guidance
from Ho & Salimans (2022).

Time runs from t = 0 (noise, p_init = N(0, I)) to t = 1 (data, p_data).
A Gaussian probability path conditioned on a data point z is

    p_t(x | z) = N(alpha_t z, beta_t^2 I),   alpha_0 = 0, beta_0 = 1,   alpha_1 = 1, beta_1 = 0,

so x_t = alpha_t z + beta_t eps with eps ~ N(0, I). Shapes: x, z, eps are (B, *D) (points (B, 2) or
images (B, C, H, W)); t is a float tensor (B,) in [0, 1]. A "field" is a callable u(x, t) -> (B, *D).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from genlib.sampling import Step

Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # u_t(x): (B, *D), (B,) -> (B, *D)


def _b(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A per-sample scalar (B,) reshaped to broadcast over x: (B, 1, ..., 1)."""
    return v.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))


# ---- probability paths ---------------------------------------------------------------------------
class GaussianPath:
    """Schedules alpha_t, beta_t and their time derivatives; subclasses define the four functions."""

    name = "gaussian"

    def alpha(self, t: torch.Tensor) -> torch.Tensor: raise NotImplementedError
    def beta(self, t: torch.Tensor) -> torch.Tensor: raise NotImplementedError
    def d_alpha(self, t: torch.Tensor) -> torch.Tensor: raise NotImplementedError
    def d_beta(self, t: torch.Tensor) -> torch.Tensor: raise NotImplementedError

    def sample(self, z: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """x_t = alpha_t z + beta_t eps, a draw from p_t(. | z)."""
        return _b(self.alpha(t), z) * z + _b(self.beta(t), z) * eps

    def target(self, z: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """d/dt x_t = alpha'_t z + beta'_t eps: the conditional field evaluated at x_t (the CFM regression target)."""
        return _b(self.d_alpha(t), z) * z + _b(self.d_beta(t), z) * eps

    def conditional_field(self, x: torch.Tensor, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """u_t(x | z) = (alpha'_t - beta'_t / beta_t * alpha_t) z + beta'_t / beta_t * x   (t < 1)."""
        a, b, da, db = (_b(f(t), x) for f in (self.alpha, self.beta, self.d_alpha, self.d_beta))
        return (da - db / b * a) * z + db / b * x

    def conditional_score(self, x: torch.Tensor, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """grad_x log p_t(x | z) = -(x - alpha_t z) / beta_t^2   (t < 1)."""
        a, b = _b(self.alpha(t), x), _b(self.beta(t), x)
        return -(x - a * z) / b**2

    def score_from_field(self, u: torch.Tensor, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """grad log p_t(x) = (alpha_t u_t(x) - alpha'_t x) / (beta_t^2 alpha'_t - alpha_t beta'_t beta_t)."""
        a, b, da, db = (_b(f(t), x) for f in (self.alpha, self.beta, self.d_alpha, self.d_beta))
        return (a * u - da * x) / (b**2 * da - a * db * b)

    def field_from_score(self, s: torch.Tensor, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """u_t(x) = (beta_t^2 alpha'_t / alpha_t - beta'_t beta_t) grad log p_t(x) + alpha'_t / alpha_t x   (t > 0)."""
        a, b, da, db = (_b(f(t), x) for f in (self.alpha, self.beta, self.d_alpha, self.d_beta))
        return (b**2 * da / a - db * b) * s + da / a * x


class CondOTPath(GaussianPath):
    """alpha_t = t, beta_t = 1 - t: straight lines from eps to z, target field z - eps."""

    name = "condot"

    def alpha(self, t): return t
    def beta(self, t): return 1.0 - t
    def d_alpha(self, t): return torch.ones_like(t)
    def d_beta(self, t): return -torch.ones_like(t)


class CosinePath(GaussianPath):
    """Variance preserving (alpha_t^2 + beta_t^2 = 1): alpha_t = sin(pi t / 2), beta_t = cos(pi t / 2)."""

    name = "vp-cosine"

    def alpha(self, t): return torch.sin(0.5 * math.pi * t)
    def beta(self, t): return torch.cos(0.5 * math.pi * t)
    def d_alpha(self, t): return 0.5 * math.pi * torch.cos(0.5 * math.pi * t)
    def d_beta(self, t): return -0.5 * math.pi * torch.sin(0.5 * math.pi * t)


class DDPMPath(GaussianPath):
    """The DDPM forward process in continuous time (Song et al. 2021's VP-SDE), with time reversed.

    With tau = 1 - t and a linear rate b(tau) = b_min + tau (b_max - b_min),
    alpha_t = exp(-1/2 int_0^tau b(s) ds) (the continuous sqrt(alpha_bar)), beta_t = sqrt(1 - alpha_t^2).
    alpha_0 = exp(-5.025) ~ 0.0066 rather than exactly 0: like DDPM's x_T, p_0 is almost N(0, I).
    """

    name = "vp-ddpm"

    def __init__(self, b_min: float = 0.1, b_max: float = 20.0):
        self.b_min, self.b_max = b_min, b_max

    def alpha(self, t):
        tau = 1.0 - t
        return torch.exp(-0.5 * (self.b_min * tau + 0.5 * (self.b_max - self.b_min) * tau**2))

    def beta(self, t): return (1.0 - self.alpha(t) ** 2).clamp_min(0.0).sqrt()
    def d_alpha(self, t): return 0.5 * (self.b_min + (1.0 - t) * (self.b_max - self.b_min)) * self.alpha(t)
    def d_beta(self, t): return -self.alpha(t) * self.d_alpha(t) / self.beta(t)


PATHS = {p.name: p for p in (CondOTPath(), CosinePath(), DDPMPath())}


# ---- training ------------------------------------------------------------------------------------
def cfm_loss(u_theta: Field, z: torch.Tensor, path: GaussianPath = PATHS["condot"],
             generator: torch.Generator | None = None, t_max: float = 1.0) -> torch.Tensor:
    """L_CFM = E_{t ~ U[0,1), z ~ p_data, x ~ p_t(.|z)} || u_theta(x, t) - u_t(x | z) ||^2 (mean over dims)."""
    t = (torch.rand(z.shape[0], generator=generator) * t_max).to(z.device)  # (B,)
    eps = torch.randn(z.shape, generator=generator).to(z.device, z.dtype)
    x = path.sample(z, t, eps)
    return (u_theta(x, t) - path.target(z, t, eps)).pow(2).mean()


# ---- guidance ------------------------------------------------------------------------------------
def guided_field(u_cond: torch.Tensor, u_uncond: torch.Tensor, w: float) -> torch.Tensor:
    """Classifier-free guidance: u~ = (1 - w) u_t(x | empty) + w u_t(x | y). w = 1: conditional; w = 0: unconditional."""
    return (1.0 - w) * u_uncond + w * u_cond


def _autocast_bf16(u: Field, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return u(x, t).float()


def cfg_field(model: nn.Module, y: torch.Tensor, w: float, null_label: int, bfloat16: bool = False) -> Field:
    """The guided field of a label-conditioned network model(x, t, y). Runs one batched pass of 2B
    (conditional and unconditional halves) when w is not 0 or 1, a single pass of B otherwise.
    bfloat16=True runs the network under CPU bfloat16 autocast (~1.5x faster here) and returns float32."""
    if bfloat16:
        guided = cfg_field(model, y, w, null_label)
        return lambda x, t: _autocast_bf16(guided, x, t)

    def u(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        empty = torch.full_like(y, null_label)
        if w == 1.0:
            return model(x, t, y)
        if w == 0.0:
            return model(x, t, empty)
        both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, empty]))
        u_cond, u_uncond = both.chunk(2)
        return guided_field(u_cond, u_uncond, w)

    return u


# ---- samplers ------------------------------------------------------------------------------------
FlowStep = Step  # integrate() yields genlib.sampling.Step: t = the time reached, x = the state there


SIGMAS = ("constant", "vanishing")  # sigma_t = sigma, or sigma (1 - t) which is 0 at the data end


def sigma_at(t: float, sigma: float, schedule: str = "vanishing") -> float:
    return sigma * (1.0 - t) if schedule == "vanishing" else sigma


def integrate(u: Field, x0: torch.Tensor, steps: int, method: str = "euler", *, path: GaussianPath | None = None,
              sigma: float = 0.0, sigma_schedule: str = "vanishing", generator: torch.Generator | None = None,
              t0: float = 0.0, t1: float = 1.0) -> Iterator[FlowStep]:
    """Simulate from t0 to t1 in `steps` equal steps, yielding the state after each step.

    method "euler":    X_{t+h} = X_t + h u_t(X_t)                                  (ODE, 1 evaluation/step)
           "midpoint": X_{t+h} = X_t + h u_{t+h/2}(X_t + h/2 u_t(X_t))              (ODE, 2 evaluations/step)
           "heun":     X_{t+h} = X_t + h/2 (u_t(X_t) + u_{t+h}(X_t + h u_t(X_t)))   (ODE, 2 evaluations/step)
           "sde":      Euler-Maruyama for dX = [u_t + sigma_t^2 / 2 grad log p_t] dt + sigma_t dW, with the
                       score read off the field through the Gaussian path (needs `path`; 1 evaluation/step).
    Euler, midpoint and the SDE evaluate only at t < 1, where the score conversion is finite; Heun's second
    evaluation of the last step is at t = 1 itself.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    if method == "sde" and path is None:
        raise ValueError("the SDE sampler needs the probability path to turn the field into a score")
    x, h = x0, (t1 - t0) / steps
    B = x0.shape[0]

    def field(x, t):
        return u(x, torch.full((B,), t, dtype=torch.float32))

    for k in range(steps):
        t = t0 + k * h
        if method == "euler":
            x = x + h * field(x, t)
        elif method == "midpoint":
            x = x + h * field(x + 0.5 * h * field(x, t), t + 0.5 * h)
        elif method == "heun":
            d1 = field(x, t)
            x = x + 0.5 * h * (d1 + field(x + h * d1, t + h))
        elif method == "sde":
            tt = torch.full((B,), t, dtype=torch.float32)
            v = u(x, tt)
            s_t = sigma_at(t, sigma, sigma_schedule)
            drift = v + 0.5 * s_t**2 * path.score_from_field(v, x, tt) if s_t > 0 else v
            noise = torch.randn(x.shape, generator=generator).to(x.dtype)
            x = x + h * drift + math.sqrt(h) * s_t * noise
        else:
            raise ValueError(f"unknown method {method!r}")
        yield Step(k + 1, steps, x, t0 + (k + 1) * h)


def evaluations_per_step(method: str) -> int:
    return 2 if method in ("midpoint", "heun") else 1


def sample(u: Field, shape: tuple[int, ...], steps: int, method: str = "euler", seed: int = 0, **kw) -> torch.Tensor:
    """Draw x_0 ~ N(0, I) from a seeded generator and integrate to t = 1; returns the final state."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g)
    for step in integrate(u, x, steps, method, generator=g, **kw):
        x = step.x
    return x


@torch.no_grad()
def draw(model: nn.Module, n: int, seed: int, w: float = 1.0, steps: int = 20, method: str = "euler") -> torch.Tensor:
    """The Compare board's entry (genlib.compare): n images (n, 1, 28, 28) of the class-conditional MNIST field,
    labels 0, 1, ..., 9, 0, ... (balanced), guidance scale w, from x_0 ~ N(0, I) drawn with `seed` (the same
    starting noise as the DDPM's draw with that seed), bfloat16 autocast as in the tab."""
    y = torch.arange(n) % 10
    return sample(cfg_field(model, y, w, model.num_classes, bfloat16=True), (n, 1, 28, 28), steps, method, seed=seed)


# ---- Langevin dynamics ---------------------------------------------------------------------------
def langevin(score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, steps: int, step_size: float,
             generator: torch.Generator | None = None) -> Iterator[Step]:
    """Unadjusted Langevin dynamics: X <- X + eps/2 grad log p(X) + sqrt(eps) N(0, I), which leaves p
    invariant as eps -> 0 (the SDE dX = sigma^2/2 grad log p dt + sigma dW with sigma^2 h = eps)."""
    for k in range(1, steps + 1):
        noise = torch.randn(x.shape, generator=generator).to(x.dtype)
        x = x + 0.5 * step_size * score(x) + math.sqrt(step_size) * noise
        yield Step(k, steps, x, k * step_size)  # t: the Langevin "time" k * eps


# ---- Gaussian mixtures: a p_data with everything in closed form ----------------------------------
@dataclass
class GaussianMixture:
    """p(x) = sum_k w_k N(x; mu_k, s_k^2 I) in D dimensions. means (K, D), stds (K,), weights (K,)."""

    means: torch.Tensor
    stds: torch.Tensor
    weights: torch.Tensor

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        return self.means[k] + self.stds[k, None] * torch.randn(n, self.means.shape[1], generator=generator)

    def _log_components(self, x: torch.Tensor) -> torch.Tensor:  # (N, K): log w_k + log N(x; mu_k, s_k^2 I)
        D = x.shape[1]
        d2 = (x[:, None, :] - self.means[None]).pow(2).sum(-1)
        var = self.stds.pow(2)[None]
        return self.weights.log()[None] - 0.5 * d2 / var - 0.5 * D * torch.log(2 * math.pi * var)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(self._log_components(x), dim=1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """grad log p(x) = sum_k r_k(x) (mu_k - x) / s_k^2 with responsibilities r_k."""
        r = torch.softmax(self._log_components(x), dim=1)  # (N, K)
        return (r[:, :, None] * (self.means[None] - x[:, None, :]) / self.stds.pow(2)[None, :, None]).sum(1)

    def marginal(self, path: GaussianPath, t: torch.Tensor) -> "GaussianMixture":
        """p_t = the mixture pushed through x = alpha_t z + beta_t eps: N(alpha_t mu_k, (alpha_t^2 s_k^2 + beta_t^2) I).
        t is a 0-d tensor."""
        a, b = path.alpha(t), path.beta(t)
        return GaussianMixture(a * self.means, (a**2 * self.stds**2 + b**2).sqrt(), self.weights)

    def posterior_mean(self, path: GaussianPath, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """E[z | x_t = x]: responsibilities r_k(x) of the components of p_t, and within component k the
        Gaussian posterior mean mu_k + alpha_t s_k^2 / (alpha_t^2 s_k^2 + beta_t^2) (x - alpha_t mu_k)."""
        a, b = path.alpha(t), path.beta(t)
        r = torch.softmax(self.marginal(path, t)._log_components(x), dim=1)  # (N, K)
        gain = a * self.stds**2 / (a**2 * self.stds**2 + b**2)  # (K,)
        means = self.means[None] + gain[None, :, None] * (x[:, None, :] - a * self.means[None])  # (N, K, D)
        return (r[:, :, None] * means).sum(1)

    def marginal_field(self, path: GaussianPath, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The marginalisation trick in closed form: u_t(x) = E[u_t(x | z) | x_t = x]
        = alpha'_t E[z | x] + beta'_t E[eps | x], with E[eps | x] = (x - alpha_t E[z | x]) / beta_t   (t < 1)."""
        a, b, da, db = path.alpha(t), path.beta(t), path.d_alpha(t), path.d_beta(t)
        z_hat = self.posterior_mean(path, x, t)
        return da * z_hat + db * (x - a * z_hat) / b


# ---- the 2-D vector-field network ----------------------------------------------------------------
from huggingface_hub import PyTorchModelHubMixin  # noqa: E402

from genlib.nn import timestep_embedding  # noqa: E402


class MLPField(nn.Module, PyTorchModelHubMixin, library_name="genlib", tags=["flow-matching", "genlib"], license="mit"):
    """u_theta(x, t) for points x (B, dim): an MLP on [x, sinusoidal embedding of t]."""

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, t_dim: int = 32):
        super().__init__()
        self.t_dim = t_dim
        layers, width = [], dim + t_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # x: (B, dim), t: (B,) in [0, 1] -> (B, dim)
        return self.net(torch.cat([x, timestep_embedding(1000.0 * t, self.t_dim)], dim=1))


def toy_mixture(name: str) -> GaussianMixture:
    """The toy set `name` ('ring8' or 'mixture') as a GaussianMixture (genlib.data.mixture_params): exact p_t,
    score and marginal field, and the same draws as genlib.data.toy_2d."""
    from genlib.data import mixture_params

    return GaussianMixture(*mixture_params(name))
