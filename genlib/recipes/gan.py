"""A class-conditional DCGAN on MNIST: alternating discriminator / generator updates with the non-saturating loss
(genlib.gan.d_loss, g_loss), Adam(lr, beta1 = 0.5) as in DCGAN, bfloat16 autocast, an EMA copy of G (whose batch-norm
statistics are re-estimated before it is used). Each epoch keeps a snapshot of the EMA generator's images from one
fixed z batch (a few KB, in metrics.json) and its classifier score (IS / FID on the project's classifier features), so
the tab can replay training. The saved model is the EMA generator."""
from __future__ import annotations

import copy

import torch
from tqdm import tqdm

from genlib.gan import DCGANDiscriminator, d_loss, g_loss, init_dcgan, latents, pack_images
from genlib.train import RunResult, autocast, load_images, seeded

SNAPSHOT_N = 16  # the fixed z batch: 16 digits, labels 0..9, 0..5
SNAPSHOT_SEED = 2024
SCORE_N = 1000  # samples per epoch for the classifier score


def train(args, spec) -> RunResult:
    g = seeded(args.seed)
    x_train, y_train, x_test, _ = load_images(args)
    G = spec.model_class()(**spec.config)
    D = DCGANDiscriminator(ch=spec.config["ch"], num_classes=spec.config["num_classes"])
    init_dcgan(G)  # D keeps its default initialisation under spectral normalisation
    ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    scorer = Scorer(x_test, n=min(SCORE_N, len(x_test)))
    z_fixed, y_fixed = latents(SNAPSHOT_N, G.z_dim, SNAPSHOT_SEED)
    n, B = len(x_train), args.batch_size
    per_epoch = n // B
    total = per_epoch * args.epochs
    log_every = max(1, total // 300)
    curve_d, curve_g, epochs, run_d, run_g, step = [], [], [], [], [], 0
    with tqdm(total=total, desc=args.model, unit="step", mininterval=10) as bar:
        for epoch in range(args.epochs):
            G.train(), D.train()
            perm = torch.randperm(n, generator=g)
            for i in range(per_epoch):
                idx = perm[i * B : (i + 1) * B]
                x, y = x_train[idx], y_train[idx]
                for opt in (opt_g, opt_d):  # linear decay to 0 over the last 30 % of steps
                    for group in opt.param_groups:
                        group["lr"] = args.lr * min(1.0, (total - step) / (0.3 * total))
                z = torch.randn(B, G.z_dim, generator=g)
                y_fake = torch.randint(10, (B,), generator=g)
                # discriminator: reals (x, y) against fakes G(z, y_fake)
                with autocast(args.amp):
                    fake = G(z, y_fake)
                    loss_d = d_loss(D(x, y).float(), D(fake.detach(), y_fake).float())
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                # generator: the non-saturating loss through the updated D
                with autocast(args.amp):
                    loss_g = g_loss(D(fake, y_fake).float())
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                decay = min(args.ema_decay, (1 + step) / (10 + step))
                with torch.no_grad():
                    for p_ema, p in zip(ema.parameters(), G.parameters()):
                        p_ema.lerp_(p, 1.0 - decay)
                run_d.append(loss_d.item()), run_g.append(loss_g.item())
                step += 1
                if step % log_every == 0 or step == total:
                    curve_d.append([step, sum(run_d) / len(run_d)]), curve_g.append([step, sum(run_g) / len(run_g)])
                    run_d, run_g = [], []
                    bar.set_postfix(d=f"{curve_d[-1][1]:.3f}", g=f"{curve_g[-1][1]:.3f}")
                bar.update(1)
            recalibrate(ema, batches=2 if args.limit else 40, seed=args.seed + epoch)  # --limit: a smoke run
            with torch.no_grad():
                snap = ema(z_fixed, y_fixed)
            record = {"epoch": epoch + 1, "step": step, "images": pack_images(snap), **scorer(ema, seed=args.seed)}
            epochs.append(record)
            tqdm.write(f"epoch {epoch + 1}: " + ", ".join(f"{k}={v}" for k, v in record.items() if k != "images"))
    final = {k: epochs[-1][k] for k in ("is", "fid", "class_accuracy") if k in epochs[-1]} if epochs else {}
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "dcgan": spec.config, "loss": "nonsaturating",
               "adam_betas": [0.5, 0.999], "loss_curve": curve_g, "loss_curve_d": curve_d,
               "snapshot": {"n": SNAPSHOT_N, "seed": SNAPSHOT_SEED, "labels": y_fixed.tolist()}, "epochs_record": epochs,
               "final": {"train_loss_g_last": curve_g[-1][1] if curve_g else None,
                         "train_loss_d_last": curve_d[-1][1] if curve_d else None, **final}}
    return RunResult(ema, metrics)


@torch.no_grad()
def recalibrate(G, batches: int = 40, batch: int = 250, seed: int = 0) -> None:
    """Re-estimate G's batch-norm statistics for its current (EMA) weights: the cumulative mean and variance over
    `batches` forward passes in training mode (the running statistics of the training G belong to other weights)."""
    g = torch.Generator().manual_seed(seed)
    norms = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    G.train()
    for _ in range(batches):
        G(torch.randn(batch, G.z_dim, generator=g), torch.randint(G.num_classes, (batch,), generator=g))
    for m in norms:
        m.momentum = 0.1
    G.eval()


class Scorer:
    """The project's sample-quality evaluator (genlib.metrics with the `cnn` classifier, as in benchmarks/quality.py
    and benchmarks/flow.py): IS and FID against the test images, and the share of samples the classifier reads as
    the class they were asked for. Empty when the classifier's weights are missing."""

    def __init__(self, x_test: torch.Tensor, n: int = 1000):
        from genlib import hub
        from genlib.metrics import classifier_outputs

        self.n = n
        try:
            self.clf = hub.load("cnn").eval()
        except hub.ModelUnavailable:
            self.clf = None
            return
        self.f_test, _ = classifier_outputs(self.clf, x_test)

    @torch.no_grad()
    def __call__(self, G, seed: int = 0) -> dict:
        from genlib.gan import sample
        from genlib.metrics import classifier_outputs, fid_from_features, inception_score

        if self.clf is None:
            return {}
        x = torch.cat([sample(G, 250, seed=10_000 + seed + i) for i in range(0, self.n, 250)])[: self.n]
        labels = torch.cat([torch.arange(250) % 10 for _ in range(0, self.n, 250)])[: self.n]  # 0..9 in turn per chunk
        f, probs = classifier_outputs(self.clf, x)
        return {"is": round(inception_score(probs, max(1, self.n // 1000))[0], 3),
                "fid": round(fid_from_features(f, self.f_test), 3),
                "class_accuracy": round((probs.argmax(1) == labels).float().mean().item(), 4)}

