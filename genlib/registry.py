"""Every trained model of the project, in one place.

One `ModelSpec` per model says which class it is, with which config, how it is trained (the recipe module and
its default hyper-parameters), where its weights live on the Hub (repo + pinned revision), what its model card
says and which figure of its `metrics.json` summarises it. Everything else is derived from this table:

- `genlib.hub.load(name)` builds `spec.model_class()` from the Hub snapshot or `weights/<name>/`;
- `python genlib/train.py` takes its model choices, defaults, extra flags and `--list` from here;
- the model card (`weights/<name>/README.md`) takes its description and data attribution from here;
- the tests walk `MODELS` (every spec loads, strictly, and its recipe exists).

Adding a trained model = one entry below + one `genlib/recipes/<recipe>.py` with `train(args, spec)`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

TOY_SETS = ("moons", "circles", "checkerboard", "ring8", "mixture")  # genlib.data.toy_2d names
SEQ_TASKS = ("copy", "numbers", "zh_numbers")  # genlib.data.SEQ_TASKS names


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the key everywhere: weights/<name>/, hub.load(name), train.py <name>
    module: str  # genlib module holding the class
    cls: str  # an nn.Module + PyTorchModelHubMixin class; its __init__ kwargs are `config`
    config: dict  # the architecture (JSON values only); saved as config.json
    recipe: str  # genlib.recipes.<recipe>: train(args, spec) -> RunResult, and the model's evaluator
    defaults: dict  # training hyper-parameters: each key is a CLI flag (--batch-size, --p-uncond, ...)
    repo_id: str  # Hub model repo
    description: str  # model-card text: what the network computes, its inputs and outputs
    dataset: str = "mnist"  # training data: a genlib.data.DATASETS name, "toy-<set>" or "generated-<task>"
    metric: str = ""  # key of metrics.json["final"] shown by `train.py --list`
    revision: str = "main"  # pinned Hub revision: a commit sha once published (README, "Publishing weights")
    options: dict = field(default_factory=dict)  # fixed recipe arguments (the toy set, the sequence task), and for
    # generative models their place on the Compare board: family, draw, board, likelihood (see genlib.compare)

    def model_class(self):
        return getattr(importlib.import_module(self.module), self.cls)

    def recipe_module(self):
        return importlib.import_module(f"genlib.recipes.{self.recipe}")

    @property
    def command(self) -> str:
        data = " --data-dir ../shared/data" if self.dataset in ("mnist", "fashion-mnist") or self.dataset.startswith("text-") else ""
        return f"python genlib/train.py {self.name}{data}"


# Class-conditional since issue 16 (labels dropped with probability p_uncond, as the flow's): the flow's own benchmark
# put its quality in its labels (FID 22.3 / IS 9.63 at w = 1 against 188.7 / 7.07 at w = 0, benchmarks/results/flow.json)
DDPM_UNET = dict(in_channels=1, ch=16, ch_mult=[1, 2, 4], num_res_blocks=1, attn_resolutions=[7], dropout=0.0, img_size=28,
                 num_classes=10)
DDPM_ABOUT = (
    "A small class-conditional U-Net (16/32/64 channels) v_theta(x_t, t, y): DDPM (Ho et al. 2020) on the cosine "
    "schedule over T = 1000 steps (Nichol & Dhariwal 2021), predicting v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0 "
    "(Salimans & Ho 2022) with min-SNR-5 loss weights (Hang et al. 2023); labels dropped with probability 0.1, so "
    "y = 10 (no label) gives the unconditional prediction for classifier-free guidance (Ho & Salimans 2022). "
    "Input (B, 1, 28, 28) in [-1, 1], t a LongTensor in [0, 1000), y a LongTensor in [0, 10].")
# The flow net was made narrower at 14x14 ([1, 2, 4] against the first DDPM's [1, 4, 4]: 1.6x faster per evaluation)
# for the 16-samples-in-0.5-s target (issue 3); the DDPM took the same shape in issue 16, so the two are now alike.
FLOW_UNET = dict(in_channels=1, ch=16, ch_mult=[1, 2, 4], num_res_blocks=1, attn_resolutions=[7], dropout=0.0,
                 img_size=28, num_classes=10, time_scale=1000.0)
MLP_FIELD = dict(dim=2, hidden=256, depth=4, t_dim=32)
PIXELSNAIL = dict(channels=32, n_blocks=1, n_res=3, n_mix=5, attention=True, d_k=16, d_v=32, dropout=0.0)
# Issue 18: the same network given the digit's class (samples at T = 1 scored IS 6.4 without it: strokes that wander
# because nothing fixes which digit is being drawn); 4,928 more parameters (11 vectors of 64 in each of the 7 gated blocks).
PIXELSNAIL_CLASSES = PIXELSNAIL | dict(num_classes=10)
TRANSFORMER = dict(N=2, d_model=64, d_ff=256, h=4, dropout=0.1, norm_first=True, max_len=64)
DCGAN = dict(z_dim=64, ch=32, num_classes=10)  # genlib.gan.DCGANGenerator

def _transformer(task: str, what: str, **defaults) -> ModelSpec:
    """A small encoder-decoder Transformer on a generated sequence task of genlib.data (the Annotated Transformer's
    recipe); `what` says what its inputs are and what it learns."""
    hp = dict(epochs=8, batch_size=100, lr=1.0, warmup=400, smoothing=0.1, train_size=60_000) | defaults
    return ModelSpec(
        f"transformer_{task}", "genlib.transformer", "Transformer", TRANSFORMER, "transformer", hp,
        f"genlib-annotated/transformer-{task.replace('_', '-')}",
        f"A small encoder-decoder Transformer (pre-norm, 2 layers, d_model 64, 4 heads) trained on sequences of {what}.",
        dataset=f"generated-{task}", metric="heldout_exact_match_averaged", options=dict(task=task))


AE_MLP = dict(hidden=512, depth=2)  # encoder 784-512-512-d, decoder d-512-512-784 (ELU); the same for every AE / VAE


def _latent(name: str, cls: str, d: int, what: str, epochs: int, options: dict | None = None, **hp) -> ModelSpec:
    """An MLP autoencoder or VAE of genlib.vae with a d-dimensional code, trained on dynamically binarised MNIST."""
    vae_hp = dict(beta=1.0, recon_weight=1.0) if cls == "VAE" else {}
    kind = "variational autoencoder" if cls == "VAE" else "autoencoder"
    return ModelSpec(
        name, "genlib.vae", cls, dict(latent_dim=d, **AE_MLP), "vae",
        dict(epochs=epochs, batch_size=128, lr=1e-3, warmup=200) | vae_hp | hp,
        f"genlib-annotated/{name.replace('_', '-')}-mnist",
        f"An MLP {kind} with a {d}-dimensional code (encoder 784-512-512, decoder 512-512-784, ELU) and a Bernoulli "
        f"decoder (logits out), trained on dynamically binarised MNIST: {what} Input (B, 1, 28, 28) in [0, 1].",
        metric="neg_elbo" if cls == "VAE" else "recon_nats", options=options or {})


_specs = [
    ModelSpec(
        "ddpm", "genlib.unet", "UNet", DDPM_UNET, "ddpm",
        dict(epochs=12, batch_size=128, lr=4e-4, warmup=100, ema_decay=0.999, schedule="cosine", target="v",
             weighting="min_snr", p_uncond=0.1, init="ddpm_base"),
        "genlib-annotated/ddpm-mnist",
        DDPM_ABOUT + " Warm-started from `ddpm_base` (18 epochs) and trained 12 more with a fresh, lower learning-rate "
        "cycle (issue 16).",
        metric="test_loss_ema",
        options=dict(family="diffusion", draw="genlib.diffusion.draw",
                     board={"DDIM-10": dict(sampler="ddim", steps=10), "DDIM-50": dict(sampler="ddim", steps=50),
                            "DDIM-50, η = 1": dict(sampler="ddim", steps=50, eta=1.0),
                            "DDIM-50, w = 1.25": dict(sampler="ddim", steps=50, w=1.25),
                            "DDIM-50, no label": dict(sampler="ddim", steps=50, w=0.0)})),
    ModelSpec(
        "ddpm_base", "genlib.unet", "UNet", DDPM_UNET, "ddpm",
        dict(epochs=18, batch_size=128, lr=1e-3, warmup=200, ema_decay=0.999, schedule="cosine", target="v",
             weighting="min_snr", p_uncond=0.1),
        "genlib-annotated/ddpm-mnist-base",
        DDPM_ABOUT + " Trained from scratch for 18 epochs: the DDPM tab's model until issue 16's longer run, and the "
        "start of `ddpm`.",
        metric="test_loss_ema"),
    ModelSpec(
        "cnn", "genlib.cnn", "MNISTClassifier", dict(in_channels=1, width=32, feature_dim=128, num_classes=10, dropout=0.3),
        "cnn", dict(epochs=3, batch_size=128, lr=2e-3, warmup=100),
        "genlib-annotated/cnn-mnist",
        "A small convolutional MNIST classifier; its penultimate features are used for the classifier FID and "
        "Inception Score in genlib.metrics.",
        metric="test_accuracy"),
    ModelSpec(
        "cnn_fashion", "genlib.cnn", "MNISTClassifier", dict(in_channels=1, width=32, feature_dim=128, num_classes=10, dropout=0.3),
        "cnn", dict(epochs=8, batch_size=128, lr=2e-3, warmup=100),
        "genlib-annotated/cnn-fashion-mnist",
        "The same small convolutional classifier as `cnn` (conv 32-32, pool, conv 64-64, pool, fc 128, fc 10, batch "
        "norm, dropout 0.3) trained on Fashion-MNIST with random shifts of up to 2 px and horizontal flips. Input "
        "(B, 1, 28, 28) in [-1, 1]; output the logits of the 10 clothing classes.",
        dataset="fashion-mnist", metric="test_accuracy", options=dict(hflip=True)),
    ModelSpec(
        "flow", "genlib.unet", "UNet", FLOW_UNET, "flow",
        dict(epochs=6, batch_size=128, lr=1e-3, warmup=200, ema_decay=0.999, p_uncond=0.1),
        "genlib-annotated/flow-mnist",
        "A class-conditional U-Net vector field u_theta(x, t, y) trained by conditional flow matching on the CondOT "
        "path x_t = t z + (1 - t) eps (t = 0 noise, t = 1 data), labels dropped with probability p_uncond so y = 10 gives "
        "the unconditional field for classifier-free guidance. Input (B, 1, 28, 28), t a float tensor in [0, 1], "
        "y a LongTensor in [0, 10].",
        metric="test_cfm_loss_ema",
        options=dict(family="flow", draw="genlib.flow.draw",
                     board={"w = 0, Euler-20": dict(w=0.0, steps=20), "w = 1, Euler-20": dict(w=1.0, steps=20),
                            "w = 2, Euler-20": dict(w=2.0, steps=20), "w = 1, Euler-5": dict(w=1.0, steps=5)})),
    *[ModelSpec(
        f"flow2d_{toy}", "genlib.flow", "MLPField", MLP_FIELD, "flow2d",
        dict(epochs=40, batch_size=512, lr=2e-3, warmup=100, ema_decay=0.998),
        f"genlib-annotated/flow2d-{toy}",
        f"An MLP vector field u_theta(x, t) on the 2-D toy set `{toy}` (genlib.data.toy_2d), trained by conditional "
        "flow matching on the CondOT path. Input (B, 2), t a float tensor in [0, 1].",
        dataset=f"toy-{toy}", metric="test_cfm_loss_ema", options=dict(toy=toy)) for toy in TOY_SETS],
    ModelSpec(
        "pixelcnn_uncond", "genlib.pixelcnn", "PixelSNAIL", PIXELSNAIL, "pixelcnn",
        dict(epochs=16, batch_size=64, lr=2e-3, warmup=200, ema_decay=0.998),
        "genlib-annotated/pixelsnail-mnist-uncond",
        "A PixelSNAIL-lite: PixelCNN++ shift-based causal convolutions (u and ul streams, gated residual blocks, weight "
        "normalisation), causal self-attention over all earlier pixels, background position channels and a mixture of "
        "5 discretised logistics per pixel, trained by maximum likelihood on 8-bit MNIST without labels: p(x). "
        "Input (B, 1, 28, 28) in [-1, 1]. The PixelCNN tab's model until issue 18, and the start of `pixelcnn`.",
        metric="test_bits_per_dim_ema"),
    ModelSpec(
        "pixelcnn", "genlib.pixelcnn", "PixelSNAIL", PIXELSNAIL_CLASSES, "pixelcnn",
        dict(epochs=3, batch_size=64, lr=5e-4, warmup=100, ema_decay=0.998, init="pixelcnn_uncond", cond_lr_scale=20.0,
             p_uncond=0.1),
        "genlib-annotated/pixelsnail-mnist",
        "A class-conditional PixelSNAIL-lite, p(x | y): the `pixelcnn_uncond` network (PixelCNN++ shift-based causal "
        "convolutions, gated residual blocks, weight normalisation, causal self-attention over all earlier pixels, a "
        "mixture of 5 discretised logistics per pixel) with a learned vector per digit class added before every gate "
        "(PixelCNN++'s conditioning), warm-started from `pixelcnn_uncond` and trained by maximum likelihood on 8-bit "
        "MNIST with its labels, each dropped with probability p_uncond for the label 10, \"no label\", that "
        "classifier-free guidance uses. p(x) = (1/10) sum_y p(x | y). Input (B, 1, 28, 28) in [-1, 1], y a LongTensor in "
        "[0, 10].",
        metric="test_bits_per_dim_ema",
        options=dict(family="autoregressive", draw="genlib.pixelcnn.draw",
                     board={"T = 1, w = 2.5": dict(temperature=1.0, w=2.5), "T = 1, w = 1": dict(temperature=1.0, w=1.0),
                            "T = 0.8, w = 2.5": dict(temperature=0.8, w=2.5)},
                     likelihood=("test_bits_per_dim_ema", "bits/dim"))),
    _latent("ae2", "Autoencoder", 2, "the reconstruction loss only; a code you can draw on a plane.", 8),
    _latent("ae32", "Autoencoder", 32, "the reconstruction loss only.", 8),
    _latent("vae2", "VAE", 2, "the ELBO (beta = 1); prior N(0, I) on a plane.", 20),
    _latent("vae32", "VAE", 32, "the ELBO (beta = 1); the project's likelihood model (importance-weighted bound "
            "with k = 5000 in benchmarks/vae.py).", 80,
            options=dict(family="vae", draw="genlib.vae.draw", board={"z ~ N(0, I), mean image": {}},
                         likelihood=("neg_elbo", "nats (-ELBO)"))),
    _latent("vae32_recon", "VAE", 32, "the ablation with the reconstruction term only (beta = 0): the encoder still "
            "outputs a Gaussian, but nothing pulls it towards the prior.", 8, beta=0.0),
    _latent("vae32_kl", "VAE", 32, "the ablation with the KL term only (recon_weight = 0): every posterior collapses "
            "onto the prior and the decoder never receives a gradient.", 2, recon_weight=0.0),
    _latent("vae32_beta05", "VAE", 32, "a beta-VAE with beta = 0.5 (KL weighed less: sharper reconstructions, a "
            "code that strays from the prior).", 10, beta=0.5),
    _latent("vae32_beta4", "VAE", 32, "a beta-VAE with beta = 4 (KL weighed more: blurrier, closer to the prior, "
            "fewer active units).", 10, beta=4.0),
    ModelSpec(
        "gan", "genlib.gan", "DCGANGenerator", DCGAN, "gan",
        dict(epochs=6, batch_size=64, lr=2e-4, warmup=0, ema_decay=0.999),
        "genlib-annotated/dcgan-mnist",
        "The generator G(z, y) of a small class-conditional DCGAN: [z (64-d), one-hot y] -> fc -> 64 x 7 x 7 -> "
        "transposed convolutions with batch norm and ReLU -> (1, 28, 28), tanh. Trained against a projection "
        "discriminator (strided convolutions, LeakyReLU, spectral normalisation) with the non-saturating GAN loss; the "
        "weights are an EMA copy "
        "with re-estimated batch-norm statistics. Input z (B, 64), y a LongTensor in [0, 10); output in [-1, 1].",
        metric="fid",
        options=dict(family="gan", draw="genlib.gan.sample", board={"DCGAN, one pass": {}})),
    _transformer("copy", "up to 10 digits, the first task of the Annotated Transformer, to copy them",
                 epochs=4, batch_size=80, smoothing=0.0, train_size=20_000),
    _transformer("numbers", "English number words, to turn into digits for 0 to 999999: British ('three hundred and "
                 "twelve thousand and five'), American (no 'and') and mixed forms, and 'a hundred' / 'a thousand'. "
                 "Training numbers are stratified by the shape of the number (which digits are zero, teens), so rare "
                 "shapes such as 'one hundred thousand and thirteen' are seen as often as common ones"),
    _transformer("zh_numbers", "Chinese numerals, to turn into digits for 0 to 999999 ('三十万零五' -> 300005, '一千零一', "
                 "'两百' or '二百', '十五' or '一十五'). Training numbers are stratified by which digits are zero, so every "
                 "placement of 零 and 万 is seen as often as any other"),
]

# Character-level language models (genlib.rnn.CharLM, recipe genlib/recipes/rnn.py). The three Shakespeare cells share
# one size and one time budget (--minutes of training CPU time on one thread: the wall time on an idle machine), so
# they are compared at equal computation; the vocabulary is built from the training text and saved in config.json.
RNN_SHAKESPEARE = dict(emb=64, hidden=256, layers=2, dropout=0.0, tie=False)
RNN_TANG = dict(kind="lstm", emb=256, hidden=256, layers=1, dropout=0.0, tie=True)


def _rnn(corpus: str, kind: str, config: dict, what: str, **defaults) -> ModelSpec:
    hp = dict(epochs=50, batch_size=64, lr=3e-3, warmup=50, minutes=15.0, bptt=100, clip=1.0, min_count=1) | defaults
    return ModelSpec(
        f"rnn_{corpus}_{kind}", "genlib.rnn", "CharLM", config, "rnn", hp,
        f"genlib-annotated/rnn-{corpus}-{kind}",
        f"A character-level {kind.upper() if kind != 'rnn' else 'vanilla RNN'} language model: {what} Trained by "
        "truncated BPTT with gradient-norm clipping to predict the next character; the vocabulary is in config.json. "
        "Input (B, T) character ids; output (B, T, V) next-character logits and the final state.",
        dataset=f"text-{corpus}", metric="val_nats_per_char", options=dict(corpus=corpus))


_specs += [
    *[_rnn("shakespeare", kind, dict(kind=kind, **RNN_SHAKESPEARE),
           "embedding 64, two recurrent layers of 256 units, a linear read-out over the 65 characters of Tiny "
           "Shakespeare (first 90% for training, last 10% for validation).") for kind in ("rnn", "gru", "lstm")],
    _rnn("tang", "lstm", RNN_TANG,
         "one LSTM layer of 256 units whose read-out shares the 256-wide embedding matrix (weight tying), over the "
         "characters that occur at least 10 times in the training poems (the rest are one unknown symbol), on the "
         "Tang poems (traditional characters, one poem a line; every tenth poem held out).",
         batch_size=32, bptt=64, minutes=5.0, min_count=10),
]

# Contrastive representations (genlib.simclr, recipe genlib/recipes/simclr.py): not generative, so no Compare-board
# options. Batch 256 (510 negatives per anchor): the encoder's cost per image dominates a step, so a larger batch
# means fewer updates in the same --minutes on this CPU.
SIMCLR = dict(width=16, hidden=512, z_dim=64, num_classes=10)
_specs += [
    ModelSpec(
        "simclr", "genlib.simclr", "SimCLR", SIMCLR, "simclr",
        dict(epochs=100, batch_size=256, lr=2e-3, warmup=100, minutes=52.0, tau=0.2, weight_decay=1e-4),
        "genlib-annotated/simclr-fashion-mnist",
        "SimCLR (Chen et al. 2020) on Fashion-MNIST without labels: an encoder f (the convolutional trunk of the `cnn` "
        "classifier at width 16: conv 16-16, pool, conv 32-32, pool, flattened) gives h (32 x 7 x 7 = 1568-d), a "
        "projection head g (Linear 1568-512, ReLU, Linear 512-64) gives z; trained with the NT-Xent loss (tau = 0.2) on two augmented "
        "views of each image (random resized crop, small rotation/zoom/shift, horizontal flip, contrast/brightness "
        "jitter, Gaussian blur, noise, random erasing). `head` holds the linear probe fitted afterwards on frozen h. "
        "Input (B, 1, 28, 28) in [-1, 1]; forward() returns (h, z).",
        dataset="fashion-mnist", metric="probe_accuracy"),
]

MODELS: dict[str, ModelSpec] = {s.name: s for s in _specs}


def get(name: str) -> ModelSpec:
    """The spec of `name`; KeyError with the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
