"""Denoising diffusion probabilistic models (Ho, Jain & Abbeel 2020, arXiv:2006.11239) and DDIM sampling
(Song, Meng & Ermon 2020, arXiv:2010.02502); the cosine schedule (Nichol & Dhariwal 2021, arXiv:2102.09672), the
eps / x0 / v prediction targets (Salimans & Ho 2022, arXiv:2202.00512), min-SNR-gamma loss weights (Hang et al.
2023, arXiv:2303.09556), scores and predictor-corrector sampling (Song et al. 2021, arXiv:2011.13456), annealed
Langevin dynamics (Song & Ermon 2019, arXiv:1907.05600) and the VP SDE on 2-D data.

Indexing: arrays have T entries and index i holds the paper's step t = i + 1. So `alpha_bar[0]` is
alpha_bar_1 and a model input `t` is an index in [0, T). "Step 0" of the paper (clean data) is written
as index -1 where a sampler needs it (alpha_bar_0 := 1).

Shapes: x, x0, eps are images (B, C, H, W); t is a LongTensor (B,).
"""
from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Iterator

import torch
from torch import nn

from genlib.flow import cfg_field
from genlib.sampling import Step, batch_slices, class_labels, in_parallel  # noqa: F401 (class_labels: part of this module's API)

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # eps_theta(x_t, t)


SampleStep = Step  # the samplers yield genlib.sampling.Step: t = array index of the step just taken (the paper's
# step t + 1), x = the sample after it (B, C, H, W), pred = x0_hat, the model's estimate of x_0 made at this step
SAMPLERS = ("ddim", "ancestral", "ancestral_tilde")  # ancestral: sigma_t^2 = beta_t; ancestral_tilde: beta_tilde_t
SCHEDULES = ("linear", "cosine")  # beta_t linear in t (Ho et al.), or from a squared-cosine alpha_bar (Nichol & Dhariwal)
TARGETS = ("eps", "x0", "v")  # what the network predicts: the noise, the clean image, or v = sqrt(ab) eps - sqrt(1-ab) x0
WEIGHTINGS = ("uniform", "min_snr")  # every t alike, or min(SNR_t, gamma) expressed for the target (Hang et al.)


def cosine_betas(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol & Dhariwal (2021), eq. 17: alpha_bar(t) = f(t) / f(0), f(t) = cos^2((t / T + s) / (1 + s) * pi / 2),
    beta_t = 1 - alpha_bar(t) / alpha_bar(t - 1) clipped at max_beta (0.999) so the last steps stay finite.
    Returns the T betas (float64), index i = the paper's t = i + 1."""
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return (1.0 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)


def min_snr_weight(snr: torch.Tensor, target: str, gamma: float = 5.0) -> torch.Tensor:
    """Min-SNR-gamma (Hang et al. 2023): weigh the x0-space error by min(SNR_t, gamma). Since
    ||eps - eps_hat||^2 = SNR ||x0 - x0_hat||^2 and ||v - v_hat||^2 = (1 + SNR) ||x0 - x0_hat||^2, the same weight on
    each target's own error is min(SNR, gamma) / SNR (eps), min(SNR, gamma) (x0), min(SNR, gamma) / (SNR + 1) (v)."""
    clipped = snr.clamp(max=gamma)
    if target == "eps":
        return clipped / snr
    if target == "x0":
        return clipped
    if target == "v":
        return clipped / (snr + 1.0)
    raise ValueError(f"unknown target {target!r}; one of {TARGETS}")


def _extract(v: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """v[t] reshaped to broadcast over an image batch: (T,), (B,) -> (B, 1, 1, 1) in x's dtype."""
    return v.to(x.device)[t].to(x.dtype).view(-1, *([1] * (x.dim() - 1)))


class GaussianDiffusion:
    """The forward (noising) chain, its closed form and posterior, the training loss and the samplers."""

    def __init__(self, T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02, schedule: str = "linear",
                 target: str = "eps", weighting: str = "uniform", gamma: float = 5.0):
        if schedule not in SCHEDULES or target not in TARGETS or weighting not in WEIGHTINGS:
            raise ValueError(f"schedule, target, weighting must be in {SCHEDULES}, {TARGETS}, {WEIGHTINGS}")
        self.T, self.schedule, self.target, self.weighting, self.gamma = T, schedule, target, weighting, gamma
        # Schedules are kept in float64 so closed forms and products stay exact; cast on use.
        if schedule == "linear":
            self.beta = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)  # beta_t, linear (Ho et al. Sec. 4)
        else:
            self.beta = cosine_betas(T)  # Nichol & Dhariwal eq. 17, beta clipped at 0.999
        self.alpha = 1.0 - self.beta  # alpha_t = 1 - beta_t
        self.alpha_bar = torch.cumprod(self.alpha, dim=0)  # alpha_bar_t = prod_{s<=t} alpha_s
        self.alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])  # alpha_bar_{t-1}
        # beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t   (eq. 7)
        self.beta_tilde = self.beta * (1.0 - self.alpha_bar_prev) / (1.0 - self.alpha_bar)

    # ---- forward process -------------------------------------------------------------------------
    def q_step(self, x_prev: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """One forward step q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)   (eq. 2)."""
        return _extract(self.alpha.sqrt(), t, x_prev) * x_prev + _extract(self.beta.sqrt(), t, x_prev) * noise

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Closed form q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)   (eq. 4)."""
        return _extract(self.alpha_bar.sqrt(), t, x0) * x0 + _extract((1.0 - self.alpha_bar).sqrt(), t, x0) * noise

    def snr(self, t: int) -> float:
        """Signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t) of x_t."""
        a = float(self.alpha_bar[t])
        return a / (1.0 - a)

    @property
    def config(self) -> dict:
        """What a trained model needs to be sampled with the right process (saved in metrics.json as "diffusion")."""
        return dict(T=self.T, schedule=self.schedule, target=self.target, weighting=self.weighting, gamma=self.gamma)

    @classmethod
    def from_metrics(cls, metrics: dict) -> "GaussianDiffusion":
        """The process a model was trained with, from its metrics.json ({} or no "diffusion" key: Ho et al.'s
        linear schedule, eps target and uniform weight, which the first `ddpm` weights were trained with)."""
        return cls(**metrics.get("diffusion", {}))

    def log_snr(self) -> torch.Tensor:
        """log SNR_t = log alpha_bar_t - log(1 - alpha_bar_t), (T,) float64."""
        return self.alpha_bar.log() - (1.0 - self.alpha_bar).log()

    # ---- prediction targets (Salimans & Ho 2022) ---------------------------------------------------
    def v_target(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x0: the velocity of x_t on the circle
        (sqrt(ab), sqrt(1 - ab)) = (cos phi, sin phi), v = d x_t / d phi."""
        return _extract(self.alpha_bar.sqrt(), t, x0) * eps - _extract((1.0 - self.alpha_bar).sqrt(), t, x0) * x0

    def target_of(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, target: str | None = None) -> torch.Tensor:
        """The regression target of this process (or of `target`): eps, x0 or v."""
        target = target or self.target
        if target == "eps":
            return eps
        if target == "x0":
            return x0
        if target == "v":
            return self.v_target(x0, t, eps)
        raise ValueError(f"unknown target {target!r}; one of {TARGETS}")

    def to_eps_x0(self, xt: torch.Tensor, t: torch.Tensor, pred: torch.Tensor, target: str | None = None):
        """A network output of `target` at (x_t, t) -> (eps_hat, x0_hat), exactly (x_t = a x0 + s eps, a^2 + s^2 = 1):
        eps:  x0 = (x_t - s eps) / a;        x0:  eps = (x_t - a x0) / s;
        v:    x0 = a x_t - s v,  eps = s x_t + a v."""
        target = target or self.target
        if target == "eps":
            return pred, self.predict_x0(xt, t, pred)
        if target == "x0":
            return self.predict_eps(xt, t, pred), pred
        if target == "v":
            a, s = _extract(self.alpha_bar.sqrt(), t, xt), _extract((1.0 - self.alpha_bar).sqrt(), t, xt)
            return s * xt + a * pred, a * xt - s * pred
        raise ValueError(f"unknown target {target!r}; one of {TARGETS}")

    def convert(self, xt: torch.Tensor, t: torch.Tensor, pred: torch.Tensor, source: str, dest: str) -> torch.Tensor:
        """The same prediction expressed as another target (eps, x0 or v)."""
        eps, x0 = self.to_eps_x0(xt, t, pred, source)
        return self.target_of(x0, t, eps, dest)

    def loss_weight(self, t: torch.Tensor) -> torch.Tensor:
        """The per-sample weight (B,) of this process's loss: 1 (uniform) or min-SNR-gamma for its target."""
        if self.weighting == "uniform":
            return torch.ones(t.shape, dtype=torch.float64)
        ab = self.alpha_bar[t.cpu()]  # the schedule lives on the CPU in float64
        return min_snr_weight(ab / (1.0 - ab), self.target, self.gamma)

    # ---- scores (Song & Ermon 2019; Song et al. 2021) ----------------------------------------------
    def score_from_eps(self, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """grad log q(x_t) = -E[eps | x_t] / sqrt(1 - alpha_bar_t): the exact noise predictor is a scaled score
        (Tweedie's formula), so s_theta(x_t, t) = -eps_theta(x_t, t) / sqrt(1 - alpha_bar_t)."""
        return -eps / _extract((1.0 - self.alpha_bar).sqrt(), t, xt)

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        """L_T per dimension: KL( q(x_T | x_0) || N(0, I) ), averaged over pixels -> (B,).

        For Gaussians with mean m, variance v against N(0, 1): KL = (v + m^2 - 1 - log v) / 2.
        It has no parameters to learn; with this schedule it is close to zero.
        """
        a = self.alpha_bar[-1]
        m, v = a.sqrt() * x0.double(), 1.0 - a
        return (0.5 * (v + m.pow(2) - 1.0 - torch.log(v))).flatten(1).mean(dim=1)

    # ---- posterior and parameterisation ----------------------------------------------------------
    def q_posterior(self, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde I)   (eqs. 6-7). Returns (mean, variance (B,1,1,1))."""
        coef_x0 = self.alpha_bar_prev.sqrt() * self.beta / (1.0 - self.alpha_bar)
        coef_xt = self.alpha.sqrt() * (1.0 - self.alpha_bar_prev) / (1.0 - self.alpha_bar)
        mean = _extract(coef_x0, t, xt) * x0 + _extract(coef_xt, t, xt) * xt
        return mean, _extract(self.beta_tilde, t, xt)

    def predict_x0(self, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Invert eq. 4 for x_0 given the noise: x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
        return (xt - _extract((1.0 - self.alpha_bar).sqrt(), t, xt) * eps) / _extract(self.alpha_bar.sqrt(), t, xt)

    def predict_eps(self, xt: torch.Tensor, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        """The same relation solved for eps: eps = (x_t - sqrt(alpha_bar_t) x_0) / sqrt(1 - alpha_bar_t)."""
        return (xt - _extract(self.alpha_bar.sqrt(), t, xt) * x0) / _extract((1.0 - self.alpha_bar).sqrt(), t, xt)

    # ---- training --------------------------------------------------------------------------------
    def loss(self, model: EpsModel, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """L_simple = E_{t, x_0, eps} || eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t) ||^2  (eq. 14).

        With another target the network regresses x0 or v instead of eps, and with weighting "min_snr" each
        sample's squared error (mean over pixels) is multiplied by min_snr_weight(SNR_t, target)."""
        B = x0.shape[0]
        t = torch.randint(0, self.T, (B,), generator=generator, device=x0.device)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        out = model(self.q_sample(x0, t, eps), t).float()
        if self.target == "eps" and self.weighting == "uniform":
            return (eps - out).pow(2).mean()
        per_sample = (self.target_of(x0, t, eps) - out).pow(2).flatten(1).mean(1)
        return (self.loss_weight(t).to(per_sample) * per_sample).mean()

    # ---- sampling --------------------------------------------------------------------------------
    def _eps_and_x0(self, model: EpsModel, x: torch.Tensor, t: torch.Tensor, clip: bool):
        """Model output at (x_t, t) as (eps, x0_hat) whatever the target; with clip, x0_hat is clamped to [-1, 1]
        and eps re-derived."""
        eps, x0_hat = self.to_eps_x0(x, t, model(x, t).to(x.dtype))
        if clip:
            x0_hat = x0_hat.clamp(-1.0, 1.0)
            eps = self.predict_eps(x, t, x0_hat)
        return eps, x0_hat

    @torch.no_grad()
    def p_sample_loop(
        self,
        model: EpsModel,
        x: torch.Tensor,
        t_start: int | None = None,
        generator: torch.Generator | None = None,
        variance: str = "beta",
        clip: bool = True,
    ) -> Iterator[SampleStep]:
        """Ancestral sampling (Algorithm 2) from x = x_{t_start} down to x_0, one step per index.

        x_{t-1} = mu_tilde(x_t, x0_hat) + sigma_t z, with sigma_t^2 = beta_t ("beta") or beta_tilde_t
        ("beta_tilde"); no noise is added at the last step. Yields a SampleStep after every step.
        """
        if variance not in ("beta", "beta_tilde"):
            raise ValueError("variance must be 'beta' or 'beta_tilde'")
        var = self.beta if variance == "beta" else self.beta_tilde
        t_start = self.T - 1 if t_start is None else t_start
        for k, i in enumerate(range(t_start, -1, -1), start=1):
            t = torch.full((x.shape[0],), i, dtype=torch.long, device=x.device)
            _, x0_hat = self._eps_and_x0(model, x, t, clip)
            mean, _ = self.q_posterior(x0_hat, x, t)  # mu_theta = mu_tilde(x_t, x0_hat)   (eq. 11)
            if i > 0:
                z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
                x = mean + _extract(var.sqrt(), t, x) * z
            else:
                x = mean
            yield Step(k, t_start + 1, x, i, pred=x0_hat)

    @staticmethod
    def ddim_timesteps(t_start: int, steps: int) -> list[int]:
        """`steps` indices spread evenly over [0, t_start], descending (always ends at 0)."""
        steps = max(1, min(steps, t_start + 1))
        ts = torch.linspace(0, t_start, steps, dtype=torch.float64).round().long().unique()
        return ts.flip(0).tolist()

    def ddim_step(
        self, x: torch.Tensor, t: int, t_prev: int, eps: torch.Tensor, x0_hat: torch.Tensor, eta: float, z: torch.Tensor | None
    ) -> torch.Tensor:
        """DDIM update from index t to t_prev (t_prev = -1 means clean data, alpha_bar = 1)   (Song et al. eq. 12):

        x_{prev} = sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev - sigma^2) eps + sigma z,
        sigma = eta * sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t)) * sqrt(1 - alpha_bar_t / alpha_bar_prev)   (eq. 16).
        """
        a_t = float(self.alpha_bar[t])
        a_prev = float(self.alpha_bar[t_prev]) if t_prev >= 0 else 1.0
        sigma = eta * ((1.0 - a_prev) / (1.0 - a_t) * (1.0 - a_t / a_prev)) ** 0.5
        x_prev = a_prev**0.5 * x0_hat + max(1.0 - a_prev - sigma**2, 0.0) ** 0.5 * eps
        if sigma > 0 and z is not None:
            x_prev = x_prev + sigma * z
        return x_prev

    @torch.no_grad()
    def ddim_sample_loop(
        self,
        model: EpsModel,
        x: torch.Tensor,
        steps: int = 50,
        eta: float = 0.0,
        t_start: int | None = None,
        generator: torch.Generator | None = None,
        clip: bool = True,
    ) -> Iterator[SampleStep]:
        """DDIM sampling from x = x_{t_start} to x_0 in `steps` model calls; eta=0 is deterministic."""
        t_start = self.T - 1 if t_start is None else t_start
        ts = self.ddim_timesteps(t_start, steps)
        for k, (t, t_prev) in enumerate(zip(ts, ts[1:] + [-1]), start=1):
            tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
            eps, x0_hat = self._eps_and_x0(model, x, tt, clip)
            z = None
            if eta > 0 and t_prev >= 0:
                z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = self.ddim_step(x, t, t_prev, eps, x0_hat, eta, z)
            yield Step(k, len(ts), x, t, pred=x0_hat)

    def sample_loop(
        self,
        model: EpsModel,
        x: torch.Tensor,
        sampler: str = "ddim",
        steps: int = 50,
        eta: float = 0.0,
        t_start: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Iterator[Step]:
        """One entry for every sampler in SAMPLERS: "ddim" (`steps`, `eta`), "ancestral" (sigma_t^2 = beta_t) or
        "ancestral_tilde" (sigma_t^2 = beta_tilde_t), the latter two one step per index from t_start."""
        if sampler == "ddim":
            return self.ddim_sample_loop(model, x, steps=steps, eta=eta, t_start=t_start, generator=generator)
        if sampler in ("ancestral", "ancestral_tilde"):
            variance = "beta_tilde" if sampler == "ancestral_tilde" else "beta"
            return self.p_sample_loop(model, x, t_start=t_start, generator=generator, variance=variance)
        raise ValueError(f"unknown sampler {sampler!r}; one of {SAMPLERS}")

    def sample(
        self,
        model: EpsModel,
        n: int,
        shape: tuple[int, int, int] = (1, 28, 28),
        sampler: str = "ddim",
        steps: int = 50,
        eta: float = 0.0,
        seed: int = 0,
        variance: str = "beta",
    ) -> torch.Tensor:
        """Convenience wrapper: n images (n, *shape) from pure noise with a fixed seed."""
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((n, *shape), generator=g)
        if sampler == "ancestral" and variance == "beta_tilde":
            sampler = "ancestral_tilde"
        for step in self.sample_loop(model, x, sampler, steps, eta, generator=g):
            x = step.x
        return x

    # ---- predictor-corrector sampling (Song et al. 2021, Algorithms 1 and 5) -----------------------
    def langevin_correct(self, model: EpsModel, x: torch.Tensor, t: int, snr: float,
                         generator: torch.Generator | None = None) -> torch.Tensor:
        """One Langevin corrector step at noise level t with the model's score s = -eps_theta / sqrt(1 - alpha_bar_t):
        x <- x + e s + sqrt(2 e) z, the step e = 2 alpha_t (r ||z|| / ||s||)^2 set per sample from the target
        signal-to-noise ratio r of the update (Song et al. 2021, Algorithm 5)."""
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        eps, _ = self.to_eps_x0(x, tt, model(x, tt).to(x.dtype))
        score = self.score_from_eps(x, tt, eps)
        z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        norm = lambda v: v.flatten(1).norm(dim=1).clamp_min(1e-12)  # noqa: E731
        e = 2.0 * float(self.alpha[t]) * (snr * norm(z) / norm(score)) ** 2  # (B,)
        e = e.view(-1, *([1] * (x.dim() - 1)))
        return x + e * score + (2.0 * e).sqrt() * z

    @torch.no_grad()
    def pc_sample_loop(self, model: EpsModel, x: torch.Tensor, steps: int = 50, corrector_steps: int = 1,
                       snr: float = 0.16, eta: float = 0.0, generator: torch.Generator | None = None,
                       clip: bool = True) -> Iterator[Step]:
        """Predictor-corrector sampling: at each of the DDIM predictor's `steps` noise levels, `corrector_steps`
        Langevin steps at that level (they pull x_t towards q(x_t)), then one DDIM step (eta) to the next level.
        Costs steps * (1 + corrector_steps) network calls. Yields a Step after every predictor step."""
        if steps < 1 or corrector_steps < 0 or not snr > 0:
            raise ValueError("steps >= 1, corrector_steps >= 0 and snr > 0 are required")
        ts = self.ddim_timesteps(self.T - 1, steps)
        for k, (t, t_prev) in enumerate(zip(ts, ts[1:] + [-1]), start=1):
            for _ in range(corrector_steps):
                x = self.langevin_correct(model, x, t, snr, generator)
            tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
            eps, x0_hat = self._eps_and_x0(model, x, tt, clip)
            z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) if eta > 0 and t_prev >= 0 else None
            x = self.ddim_step(x, t, t_prev, eps, x0_hat, eta, z)
            yield Step(k, len(ts), x, t, pred=x0_hat)


# ---- scores and Langevin dynamics on 2-D data (exact scores from genlib.flow.GaussianMixture) -------------
def perturbed(mixture, sigma: float):
    """p_sigma = p_data * N(0, sigma^2 I) for a GaussianMixture: each component's variance grows by sigma^2 (the
    noise-conditional density of NCSN, variance exploding). Its .score is grad log p_sigma in closed form."""
    from genlib.flow import GaussianMixture

    return GaussianMixture(mixture.means, (mixture.stds**2 + sigma**2).sqrt(), mixture.weights)


def two_modes():
    """Song & Ermon's (2019, sec. 3.2) example in the plane: weights 0.8 and 0.2 on two well separated Gaussians.
    Langevin with the data score keeps whatever split it starts with; annealing recovers 0.8 : 0.2."""
    from genlib.flow import GaussianMixture

    return GaussianMixture(torch.tensor([[-1.8, -1.8], [1.8, 1.8]]), torch.tensor([0.35, 0.35]), torch.tensor([0.8, 0.2]))


def mode_fractions(mixture, x: torch.Tensor) -> torch.Tensor:
    """The fraction of the points x (N, D) nearest to each component mean (K,): to compare with mixture.weights."""
    nearest = torch.cdist(x.to(mixture.means.dtype), mixture.means).argmin(dim=1)
    return torch.bincount(nearest, minlength=len(mixture.weights)).to(torch.float64) / max(1, len(x))


def sigma_ladder(sigma_max: float, sigma_min: float, levels: int) -> list[float]:
    """NCSN's noise levels: a geometric sequence from sigma_max down to sigma_min."""
    if not (sigma_max > sigma_min > 0) or levels < 1:
        raise ValueError("need sigma_max > sigma_min > 0 and at least one level")
    if levels == 1:
        return [float(sigma_min)]
    r = (sigma_min / sigma_max) ** (1.0 / (levels - 1))
    return [float(sigma_max * r**i) for i in range(levels)]


def annealed_langevin(score: Callable[[torch.Tensor, float], torch.Tensor], x: torch.Tensor, sigmas: list[float],
                      steps_per_level: int, step: float, generator: torch.Generator | None = None) -> Iterator[Step]:
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1): for each sigma_i of a decreasing ladder, run
    `steps_per_level` Langevin steps (genlib.flow.langevin) on p_{sigma_i} with step alpha_i = step * sigma_i^2 /
    sigma_L^2, so the update's signal-to-noise ratio is the same at every level. Yields every Langevin step, with
    t = the sigma in use."""
    from genlib.flow import langevin

    sigmas = [float(v) for v in sigmas]
    if not sigmas or any(not v > 0 for v in sigmas) or any(a <= b for a, b in zip(sigmas, sigmas[1:])):
        raise ValueError("the sigma ladder must be positive and strictly decreasing")
    if steps_per_level < 1 or not step > 0:
        raise ValueError("steps_per_level >= 1 and step > 0 are required")
    total, k = len(sigmas) * steps_per_level, 0
    for sigma in sigmas:
        alpha = step * sigma**2 / sigmas[-1] ** 2
        for st in langevin(lambda v, s=sigma: score(v, s), x, steps_per_level, alpha, generator):
            k, x = k + 1, st.x
            yield Step(k, total, x, sigma)


class VPSDE:
    """The variance-preserving SDE (Song et al. 2021), DDPM's limit as T -> infinity, in SDE time tau in [0, 1]
    (tau = 0 data, tau = 1 noise): dx = -1/2 b(tau) x dtau + sqrt(b(tau)) dW, b(tau) = b_min + tau (b_max - b_min).
    Its marginals are those of genlib.flow.DDPMPath read at t = 1 - tau: x_tau = m(tau) x_0 + s(tau) eps."""

    def __init__(self, b_min: float = 0.1, b_max: float = 20.0):
        from genlib.flow import DDPMPath

        self.b_min, self.b_max, self.path = b_min, b_max, DDPMPath(b_min, b_max)

    def b(self, tau: float) -> float:
        return self.b_min + tau * (self.b_max - self.b_min)

    def mean_std(self, tau: float) -> tuple[float, float]:
        """(m, s) with m = exp(-1/2 int_0^tau b), s = sqrt(1 - m^2)."""
        t = torch.tensor(1.0 - tau, dtype=torch.float64)
        return float(self.path.alpha(t)), float(self.path.beta(t))

    def marginal(self, mixture, tau: float):
        """p_tau of GaussianMixture data in closed form (its .score is the exact score)."""
        return mixture.marginal(self.path, torch.tensor(1.0 - tau))

    def forward(self, x0: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> Iterator[Step]:
        """Euler-Maruyama on the forward SDE from tau = 0 to 1."""
        h, x = 1.0 / steps, x0
        for k in range(steps):
            tau = k * h
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x - 0.5 * self.b(tau) * x * h + math.sqrt(self.b(tau) * h) * z
            yield Step(k + 1, steps, x, (k + 1) * h)

    def reverse(self, score: Callable[[torch.Tensor, float], torch.Tensor], x1: torch.Tensor, steps: int,
                method: str = "sde", generator: torch.Generator | None = None, tau_min: float = 1e-3) -> Iterator[Step]:
        """From tau = 1 down to tau_min, Euler(-Maruyama) with step h:
        "sde": the reverse-time SDE   dx = [-1/2 b x - b grad log p_tau(x)] dtau + sqrt(b) dW (Anderson 1982);
        "ode": the probability-flow ODE dx/dtau = -1/2 b x - 1/2 b grad log p_tau(x), which has the same marginals."""
        if method not in ("sde", "ode") or steps < 1:
            raise ValueError("method 'sde' or 'ode', steps >= 1")
        h, x = (1.0 - tau_min) / steps, x1
        for k in range(steps):
            tau = 1.0 - k * h
            b, s = self.b(tau), score(x, tau)
            if method == "sde":
                z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
                x = x + (0.5 * b * x + b * s) * h + math.sqrt(b * h) * z
            else:
                x = x + (0.5 * b * x + 0.5 * b * s) * h
            yield Step(k + 1, steps, x, tau - h)

    def score_from_condot_field(self, u: Callable, x: torch.Tensor, tau: float) -> torch.Tensor:
        """grad log p_tau(x) from a field u_t(x) learned on the CondOT path (genlib.flow): x_tau = m x0 + s eps
        = c (t x0 + (1 - t) eps) with c = m + s, t = m / (m + s), so p_tau(x) = p^CondOT_t(x / c) / c^d and
        grad log p_tau(x) = score^CondOT_t(x / c) / c, the CondOT score read off the field."""
        from genlib.flow import PATHS

        m, s = self.mean_std(tau)
        c, t = m + s, m / (m + s)
        tt = torch.full((x.shape[0],), t, dtype=torch.float32)
        y = x / c
        return PATHS["condot"].score_from_field(u(y, tt), y, tt) / c


def trained_process(name: str = "ddpm") -> GaussianDiffusion:
    """The process the trained model `name` was built for (schedule, target, weighting from its metrics.json via
    genlib.hub; the original linear / eps process when the record has none or the weights are missing)."""
    from genlib import hub

    try:
        return GaussianDiffusion.from_metrics(hub.load_metrics(name))
    except hub.ModelUnavailable:
        return GaussianDiffusion()

def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta (buffers are copied)."""
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), model.parameters()):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(ema.buffers(), model.buffers()):
            b_ema.copy_(b)


def bfloat16_weights(model: nn.Module) -> nn.Module:
    """A copy of `model` whose Conv2d and Linear weights and biases are held in bfloat16: the values CPU autocast
    would round them to on every call, rounded once. Normalisation layers keep float32, as autocast runs them, so
    the copy under autocast computes exactly what the float32 model does under autocast (tested), without ~60 weight
    casts per pass. The original is not touched."""
    copy_ = copy.deepcopy(model)
    for module in copy_.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.to(torch.bfloat16)
    return copy_


def autocast_model(model: nn.Module, bfloat16: bool = True, y: torch.Tensor | None = None, w: float = 1.0,
                   shared: bool = False, workers: int = 1) -> EpsModel:
    """Wrap the network as an EpsModel (x_t, t) -> prediction that runs under CPU bfloat16 autocast and returns
    float32 (faster sampling on CPUs with bf16 support; the schedule arithmetic stays in float32). With bfloat16 the
    wrapper runs a bfloat16_weights copy of the model: a new one per call (~10 ms for the DDPM U-Net), or with
    shared=True one per model object, kept (a loaded model the app shares between requests; weights that no longer
    change). For a class-conditional net, y (B,) are the labels of the B images the sampler will draw and w the
    classifier-free guidance scale (genlib.flow.cfg_field: w = 1 conditional, w = 0 unconditional); y = None asks
    for the net's unconditional prediction (the null label). workers > 1 splits every pass over the batch into that
    many slices run at once, one thread each (genlib.sampling.in_parallel): the same outputs, since the network
    treats images independently, and faster on a few cores than one batch on as many intra-op threads."""
    net = (shared_bfloat16_weights(model) if shared else bfloat16_weights(model)) if bfloat16 else model
    conditional = y is not None and getattr(model, "num_classes", 0)

    def run(x: torch.Tensor, t: torch.Tensor, rows: slice) -> torch.Tensor:  # the images `rows` of the batch
        field = cfg_field(net, y[rows], w, model.num_classes) if conditional else net
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            return field(x[rows], t[rows]).float()

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if workers <= 1:
            return run(x, t, slice(None))
        jobs = [functools.partial(run, x, t, rows) for rows in batch_slices(len(x), workers)]
        return torch.cat(in_parallel(jobs))

    return eps


@functools.lru_cache(maxsize=2)
def shared_bfloat16_weights(model: nn.Module) -> nn.Module:
    """bfloat16_weights made once per model object (autocast_model(shared=True))."""
    return bfloat16_weights(model)


def cached_autocast_model(model: nn.Module, bfloat16: bool = True, y: torch.Tensor | None = None,
                          w: float = 1.0, workers: int = 1) -> EpsModel:
    """autocast_model for a loaded model the app shares between requests: its bfloat16 copy is made once."""
    return autocast_model(model, bfloat16, y, w, shared=True, workers=workers)


def draw(model: nn.Module, n: int, seed: int, sampler: str = "ddim", steps: int = 50, eta: float = 0.0,
         bfloat16: bool = True, process: GaussianDiffusion | None = None, w: float = 1.0) -> torch.Tensor:
    """The Compare board's entry (genlib.compare): n images (n, 1, 28, 28) from x_T ~ N(0, I) drawn with `seed`
    (the same starting noise as the flow's draw with that seed), the network under bfloat16 autocast, sampled with
    `process` (default: the shipped ddpm's, trained_process()); a class-conditional net gets the balanced labels
    class_labels(n) and guidance scale w, as the flow's draw does. The bfloat16 copy is made once per model object
    (the board's live rows call this per request with the app's loaded model)."""
    process = process or trained_process("ddpm")
    eps = autocast_model(model, bfloat16, y=class_labels(n), w=w, shared=True)
    return process.sample(eps, n, sampler=sampler, steps=steps, eta=eta, seed=seed)
