"""Generative adversarial networks (Goodfellow et al. 2014, arXiv:1406.2661): a generator G(z) and a discriminator
D(x) playing the game

    min_G max_D  V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p_z}[log(1 - D(G(z)))].

D outputs a logit l; D(x) = sigmoid(l). Every loss below is written on logits with softplus, which is stable for
any l:  -log sigmoid(l) = softplus(-l)  and  -log(1 - sigmoid(l)) = softplus(l).

Two parts:
- the 2-D game the tab trains live: small MLPs G: R^2 -> R^2 and D: R^2 -> R, the three losses (minimax,
  non-saturating, least-squares: Mao et al. 2017, arXiv:1611.04076), one pure seeded training step
  `train_step(state, hyper) -> state`, the targets, and what each frame draws (D's heat map, G's gradient arrows,
  the warped z grid, the ring modes covered);
- a class-conditional DCGAN for MNIST (Radford et al. 2016, arXiv:1511.06434) with a projection discriminator
  (Miyato & Koyama 2018, arXiv:1802.05637), trained by genlib/recipes/gan.py.
Shapes: points (B, 2); images (B, 1, 28, 28) in [-1, 1]; z (B, z_dim); labels y (B,) int64.
"""
from __future__ import annotations

import base64
import math
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


# ---- the three losses, on discriminator logits ------------------------------------------------------------
LOSSES = ("minimax", "nonsaturating", "lsgan")


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The discriminator's loss (it minimises this).

    minimax / non-saturating (same D loss, the negated value function):
        -E log D(x) - E log(1 - D(G(z))) = E softplus(-l_real) + E softplus(l_fake)
    least squares (LSGAN, targets a = 0 for fakes, b = 1 for reals, on D's output l itself):
        1/2 E (l_real - 1)^2 + 1/2 E l_fake^2
    """
    if kind == "lsgan":
        return 0.5 * (real_logits - 1).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss(fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator's loss (it minimises this).

    minimax:         E log(1 - D(G(z))) = -E softplus(l)        (saturates when D confidently rejects: l << 0)
    non-saturating: -E log D(G(z))      =  E softplus(-l)       (steep exactly there)
    least squares:   1/2 E (l - 1)^2                           (target c = 1: "look real")
    """
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    if kind == "lsgan":
        return 0.5 * (fake_logits - 1).pow(2).mean()
    return F.softplus(-fake_logits).mean()


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)): the best D for a fixed G (Goodfellow et al. 2014, Prop. 1)."""
    return p_data / (p_data + p_g)


def js_divergence(p: torch.Tensor, q: torch.Tensor, dx: float) -> float:
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2, for densities on a grid of spacing dx."""
    m = (p + q) / 2

    def kl(a):
        return torch.where(a > 0, a * (torch.log(a.clamp_min(1e-300)) - torch.log(m.clamp_min(1e-300))), 0.0).sum() * dx

    return float(0.5 * kl(p) + 0.5 * kl(q))


# ---- 2-D networks ---------------------------------------------------------------------------------------
def mlp(d_in: int, d_out: int, hidden: int, depth: int) -> nn.Sequential:
    """depth hidden layers of width `hidden` with LeakyReLU(0.2)."""
    layers, width = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    layers.append(nn.Linear(width, d_out))
    return nn.Sequential(*layers)


# ---- 2-D targets -------------------------------------------------------------------------------------------
TARGETS = ("ring8", "moons", "gaussian", "line", "mixture", "circles")


def target_points(name: str, n: int, seed: int) -> torch.Tensor:
    """n points (n, 2) of a 2-D target; ring8 / moons / mixture / circles are genlib.data.toy_2d's sets."""
    from genlib import data

    if name in data.TOY_SETS:
        return data.toy_2d(name, n, seed=seed)
    g = torch.Generator().manual_seed(seed)
    if name == "gaussian":  # one Gaussian, off the origin, so G has to move
        return torch.tensor([1.0, 0.5]) + 0.5 * torch.randn(n, 2, generator=g)
    if name == "line":  # a segment from (-2, -1) to (2, 1) with a little width: a 1-D manifold in the plane
        s = torch.rand(n, 1, generator=g) * 4 - 2
        return torch.cat([s, 0.5 * s], dim=1) + 0.04 * torch.randn(n, 2, generator=g)
    raise ValueError(f"unknown target {name!r}; choose one of {TARGETS}")


def ring_modes(points: torch.Tensor, radius_factor: float = 3.0) -> np.ndarray:
    """How many of the generated points lie within radius_factor * std of each of the 8 ring means: (8,) counts."""
    from genlib.data import mixture_params

    means, stds, _ = mixture_params("ring8")
    d = torch.cdist(points.double(), means.double())  # (n, 8)
    near = d < radius_factor * stds.double()
    return near.sum(0).numpy()


def modes_covered(points: torch.Tensor, min_share: float = 0.02) -> int:
    """Ring modes holding at least min_share of the points (a mode "covered")."""
    counts = ring_modes(points)
    return int((counts >= min_share * len(points)).sum())


# ---- the live 2-D game: state, hyper-parameters, one pure step ----------------------------------------------
# Presets for the tab (seed included). benchmarks/gan.py runs each twice for 3000 steps: "healthy" covers all 8 ring
# modes, "collapse" (G ten times faster than D) at most 2 of them, "oscillation" (the same mismatch on one Gaussian) keeps
# the generated mean swinging around the target.
PRESETS = {
    "healthy": dict(target="ring8", loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0),
    "collapse": dict(target="ring8", loss="nonsaturating", lr_g=1e-2, lr_d=1e-3, d_steps=1, seed=0),
    "oscillation": dict(target="gaussian", loss="nonsaturating", lr_g=1e-2, lr_d=1e-3, d_steps=1, seed=0),
}


@dataclass(frozen=True)
class Hyper:
    target: str = "ring8"
    loss: str = "nonsaturating"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1  # discriminator updates per generator update
    batch: int = 256
    z_dim: int = 2
    hidden: int = 64
    depth: int = 2
    beta1: float = 0.5  # Adam's first-moment decay (DCGAN's 0.5; 0.9 makes the game oscillate more)
    seed: int = 0


@dataclass
class GameState:
    """Everything one session's game needs: both networks, their Adam states, the step count, the RNG state, the
    loss history. `train_step` never mutates its input; it returns a new state."""

    hyper: Hyper
    G: nn.Module
    D: nn.Module
    opt_g: Adam
    opt_d: Adam
    rng: torch.Tensor  # the generator's state (torch.Generator.get_state())
    step: int = 0
    losses: list = field(default_factory=list)  # [step, loss_D, loss_G]
    modes: list = field(default_factory=list)  # [step, ring modes covered] (ring8 only)
    z_fixed: torch.Tensor | None = None  # the z whose samples are drawn each frame (B, z_dim)


class Adam:
    """Adam (Kingma & Ba 2015, arXiv:1412.6980) written out, for the live game:

        m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,
        theta <- theta - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps).

    The same update as torch.optim.Adam (tested), but with no first-use cost (torch.optim imports torch._dynamo: several
    seconds on this CPU, which the page's first frame would wait for) and a state that is copied with its networks."""

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = list(params), lr, tuple(betas), eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t  # bias corrections
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-self.lr / c1)

    def copy_to(self, params) -> "Adam":
        """This optimiser's state (moments, step count) on another copy of the same parameters."""
        new = Adam(params, self.lr, self.betas, self.eps)
        new.t, new.m, new.v = self.t, [m.clone() for m in self.m], [v.clone() for v in self.v]
        return new


def _optimizers(G, D, h: Hyper):
    return Adam(G.parameters(), h.lr_g, (h.beta1, 0.999)), Adam(D.parameters(), h.lr_d, (h.beta1, 0.999))


def seeded_init(net: nn.Module, g: torch.Generator) -> nn.Module:
    """Re-draw every Linear layer as torch's default does (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases)
    from `g`: the same networks for the same seed, without touching the global generator other threads use."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=g)
                m.bias.uniform_(-bound, bound, generator=g)
    return net


def new_game(h: Hyper, n_show: int = 300) -> GameState:
    """A fresh game: G and D initialised from the seed, Adam states empty, a fixed z for drawing."""
    g = torch.Generator().manual_seed(h.seed)
    G = seeded_init(mlp(h.z_dim, 2, h.hidden, h.depth), g)
    D = seeded_init(mlp(2, 1, h.hidden, h.depth), g)
    z_fixed = torch.randn(n_show, h.z_dim, generator=g)
    opt_g, opt_d = _optimizers(G, D, h)
    return GameState(h, G, D, opt_g, opt_d, g.get_state(), z_fixed=z_fixed)


def clone_state(s: GameState) -> GameState:
    """A deep copy (networks and Adam moments), so a step never changes its input."""
    import copy

    G, D = copy.deepcopy(s.G), copy.deepcopy(s.D)
    return GameState(s.hyper, G, D, s.opt_g.copy_to(G.parameters()), s.opt_d.copy_to(D.parameters()), s.rng.clone(),
                     s.step, list(s.losses), list(s.modes), s.z_fixed)


def with_hyper(s: GameState, h: Hyper) -> GameState:
    """The same networks under new learning rates / loss / D steps (the target and sizes stay those of the game)."""
    h = replace(h, target=s.hyper.target, z_dim=s.hyper.z_dim, hidden=s.hyper.hidden, depth=s.hyper.depth,
                seed=s.hyper.seed)
    s = clone_state(s)
    s.hyper = h
    for opt, lr in ((s.opt_g, h.lr_g), (s.opt_d, h.lr_d)):
        opt.lr, opt.betas = lr, (h.beta1, 0.999)
    return s


def train_step(state: GameState, hyper: Hyper | None = None, steps: int = 1, inplace: bool = False) -> GameState:
    """`steps` rounds of the game: d_steps discriminator updates on fresh real and fake batches, then one generator
    update. Pure (returns a new state unless inplace) and deterministic: every draw comes from state.rng."""
    s = state if inplace else clone_state(state)
    if hyper is not None and hyper != s.hyper:
        s = with_hyper(s, hyper)
    h = s.hyper
    g = torch.Generator()
    g.set_state(s.rng)
    with torch.enable_grad():
        for _ in range(steps):
            for _ in range(h.d_steps):
                x = target_points(h.target, h.batch, seed=int(torch.randint(2**31 - 1, (), generator=g)))
                z = torch.randn(h.batch, h.z_dim, generator=g)
                with torch.no_grad():
                    fake = s.G(z)
                loss_d = d_loss(s.D(x), s.D(fake), h.loss)
                s.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                s.opt_d.step()
            z = torch.randn(h.batch, h.z_dim, generator=g)
            loss_g = g_loss(s.D(s.G(z)), h.loss)
            s.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            s.opt_g.step()
            s.step += 1
            s.losses.append([s.step, loss_d.item(), loss_g.item()])
    s.rng = g.get_state()
    if h.target == "ring8":
        with torch.no_grad():
            s.modes.append([s.step, modes_covered(s.G(s.z_fixed))])
    return s


def is_finite(state: GameState) -> bool:
    """False once a parameter of G or D is NaN or infinite (the game diverged)."""
    return all(torch.isfinite(p).all() for net in (state.G, state.D) for p in net.parameters())


# ---- what a frame draws --------------------------------------------------------------------------------------
@torch.no_grad()
def d_heatmap(D: nn.Module, lim: float = 3.5, n: int = 40) -> np.ndarray:
    """D(x) = sigmoid(logit) on an n x n grid over [-lim, lim]^2: (n, n), row 0 at the top (y = +lim)."""
    ys = torch.linspace(lim, -lim, n)
    xs = torch.linspace(-lim, lim, n)
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1).reshape(-1, 2)  # (n*n, 2) as (x, y)
    return torch.sigmoid(D(grid)).reshape(n, n).numpy()


def g_gradients(state: GameState, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(points G(z) (B, 2), -d loss_G / d G(z) (B, 2)): the direction each generated point is pushed by the
    generator's loss through D (GAN Lab's "generator gradients")."""
    with torch.enable_grad():
        x = state.G(z).detach().requires_grad_(True)
        loss = g_loss(state.D(x), state.hyper.loss) * len(x)  # per-point gradients, not divided by B
        (grad,) = torch.autograd.grad(loss, x)
    return x.detach().numpy(), (-grad).numpy()


@torch.no_grad()
def warped_grid(G: nn.Module, lines: int = 9, per_line: int = 25, lim: float = 2.5) -> list[np.ndarray]:
    """How G warps the z plane: the images G(.) of the horizontal and vertical lines of a grid over [-lim, lim]^2
    (z_dim = 2), each a (per_line, 2) polyline."""
    t = torch.linspace(-lim, lim, per_line)
    out = []
    for c in torch.linspace(-lim, lim, lines):
        for pts in (torch.stack([t, torch.full_like(t, c)], 1), torch.stack([torch.full_like(t, c), t], 1)):
            out.append(G(pts).numpy())
    return out


# ---- DCGAN on MNIST ---------------------------------------------------------------------------------------
class DCGANGenerator(nn.Module, PyTorchModelHubMixin, library_name="genlib", tags=["gan", "dcgan", "mnist", "genlib"],
                     license="mit"):
    """G(z, y): [z, one-hot y] -> fc -> (2ch, 7, 7) -> up-conv -> (ch, 14, 14) -> up-conv -> (1, 28, 28), tanh.

    DCGAN's rules: strided (transposed) convolutions instead of pooling, batch norm in G except at its output,
    ReLU in G, tanh at the output."""

    def __init__(self, z_dim: int = 64, ch: int = 32, num_classes: int = 10):
        super().__init__()
        self.z_dim, self.ch, self.num_classes = z_dim, ch, num_classes
        self.fc = nn.Sequential(nn.Linear(z_dim + num_classes, 2 * ch * 7 * 7, bias=False), nn.BatchNorm1d(2 * ch * 7 * 7),
                                nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * ch, ch, 4, 2, 1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(),  # (B, ch, 14, 14)
            nn.ConvTranspose2d(ch, 1, 4, 2, 1), nn.Tanh())  # (B, 1, 28, 28)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], dim=1))  # (B, 2ch*49)
        return self.up(h.view(-1, 2 * self.ch, 7, 7))


class DCGANDiscriminator(nn.Module):
    """D(x, y) logit: conv -> (ch, 14, 14) -> conv -> (2ch, 7, 7) -> features h; logit = w.h + b + <embed(y), h>
    (the projection discriminator). LeakyReLU(0.2), strided convolutions, no pooling; spectral normalisation on
    every layer (Miyato et al. 2018, arXiv:1802.05957) in place of DCGAN's batch norm: D still wins the opening
    steps, but it cannot sharpen its decision without bound, so G catches up (weights/gan/metrics.json's curves)."""

    def __init__(self, ch: int = 32, num_classes: int = 10, feature_dim: int = 128):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        self.conv = nn.Sequential(
            sn(nn.Conv2d(1, ch, 4, 2, 1)), nn.LeakyReLU(0.2),  # (B, ch, 14, 14)
            sn(nn.Conv2d(ch, 2 * ch, 4, 2, 1)), nn.LeakyReLU(0.2))  # (B, 2ch, 7, 7)
        self.fc = nn.Sequential(sn(nn.Linear(2 * ch * 49, feature_dim)), nn.LeakyReLU(0.2))
        self.out = sn(nn.Linear(feature_dim, 1))
        self.embed = sn(nn.Embedding(num_classes, feature_dim))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.fc(self.conv(x).flatten(1))  # (B, feature_dim)
        return self.out(h).squeeze(1) + (self.embed(y) * h).sum(1)  # (B,)


def init_dcgan(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def latents(n: int, z_dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(z (n, z_dim) ~ N(0, I), labels 0, 1, ..., 9, 0, ... (n,)) from a seed."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn(n, z_dim, generator=g), torch.arange(n) % 10


@torch.no_grad()
def sample(G: DCGANGenerator, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
    """n images (n, 1, 28, 28) in [-1, 1] from a seed; labels default to 0..9 in turn."""
    z, y = latents(n, G.z_dim, seed)
    return G.eval()(z, y if labels is None else labels)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 - t) z0 + t z1 for each t (T,) -> (T, z_dim)."""
    t = t.view(-1, 1)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation sin((1 - t) w) / sin w z0 + sin(t w) / sin w z1, w the angle between z0 and z1
    (White 2016): the path keeps the norm a Gaussian z typically has; lerp through the middle shrinks it."""
    t = t.view(-1, 1)
    cos = (z0 @ z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    if omega.abs() < 1e-4:  # (almost) the same direction: lerp is the limit
        return lerp(z0, z1, t.view(-1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


# ---- compact per-epoch snapshots (uint8 grids in metrics.json) -------------------------------------------------
def pack_images(x: torch.Tensor) -> str:
    """Images (B, 1, 28, 28) in [-1, 1] -> base64 of zlib-compressed uint8 (a few KB for 16 digits)."""
    u8 = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    return base64.b64encode(zlib.compress(u8.tobytes(), 9)).decode("ascii")


def unpack_images(s: str, n: int) -> np.ndarray:
    """pack_images' inverse: uint8 (n, 28, 28)."""
    return np.frombuffer(zlib.decompress(base64.b64decode(s)), dtype=np.uint8).reshape(n, 28, 28)
