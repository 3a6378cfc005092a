"""Denoising diffusion probabilistic models (Ho, Jain & Abbeel 2020, arXiv:2006.11239) and DDIM sampling
(Song, Meng & Ermon 2020, arXiv:2010.02502).

Indexing: arrays have T entries and index i holds the paper's step t = i + 1. So `alpha_bar[0]` is
alpha_bar_1 and a model input `t` is an index in [0, T). "Step 0" of the paper (clean data) is written
as index -1 where a sampler needs it (alpha_bar_0 := 1).

Shapes: x, x0, eps are images (B, C, H, W); t is a LongTensor (B,).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from genlib.sampling import Step

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # eps_theta(x_t, t)


SampleStep = Step  # the samplers yield genlib.sampling.Step: t = array index of the step just taken (the paper's
# step t + 1), x = the sample after it (B, C, H, W), pred = x0_hat, the model's estimate of x_0 made at this step
SAMPLERS = ("ddim", "ancestral", "ancestral_tilde")  # ancestral: sigma_t^2 = beta_t; ancestral_tilde: beta_tilde_t


def _extract(v: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """v[t] reshaped to broadcast over an image batch: (T,), (B,) -> (B, 1, 1, 1) in x's dtype."""
    return v.to(x.device)[t].to(x.dtype).view(-1, *([1] * (x.dim() - 1)))


class GaussianDiffusion:
    """The forward (noising) chain, its closed form and posterior, the training loss and the samplers."""

    def __init__(self, T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02):
        self.T = T
        # Schedules are kept in float64 so closed forms and products stay exact; cast on use.
        self.beta = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)  # beta_t, linear (Ho et al. Sec. 4)
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
        """L_simple = E_{t, x_0, eps} || eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t) ||^2  (eq. 14)."""
        B = x0.shape[0]
        t = torch.randint(0, self.T, (B,), generator=generator, device=x0.device)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        return (eps - model(self.q_sample(x0, t, eps), t).float()).pow(2).mean()

    # ---- sampling --------------------------------------------------------------------------------
    def _eps_and_x0(self, model: EpsModel, x: torch.Tensor, t: torch.Tensor, clip: bool):
        """Model output at (x_t, t) as (eps, x0_hat); with clip, x0_hat is clamped to [-1, 1] and eps re-derived."""
        eps = model(x, t).to(x.dtype)
        x0_hat = self.predict_x0(x, t, eps)
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


def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta (buffers are copied)."""
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), model.parameters()):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(ema.buffers(), model.buffers()):
            b_ema.copy_(b)


def autocast_model(model: nn.Module, bfloat16: bool = True) -> EpsModel:
    """Wrap eps_theta so it runs under CPU bfloat16 autocast and returns float32 (faster sampling on CPUs
    with bf16 support; the schedule arithmetic stays in float32)."""

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            return model(x, t).float()

    return eps


def draw(model: nn.Module, n: int, seed: int, sampler: str = "ddim", steps: int = 50,
         bfloat16: bool = True) -> torch.Tensor:
    """The Compare board's entry (genlib.compare): n images (n, 1, 28, 28) from x_T ~ N(0, I) drawn with `seed`
    (the same starting noise as the flow's draw with that seed), eps_theta under bfloat16 autocast."""
    return GaussianDiffusion().sample(autocast_model(model, bfloat16), n, sampler=sampler, steps=steps, seed=seed)
