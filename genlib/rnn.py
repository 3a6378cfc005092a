"""Character-level recurrent language models: the vanilla RNN (Elman 1990), the LSTM (Hochreiter & Schmidhuber 1997)
and the GRU (Cho et al. 2014), written out cell by cell, plus what the RNN tab shows about them.

    model = hub.load("rnn_shakespeare_lstm")
    for step in sample(model, "ROMEO:", n=200, temperature=0.8, top_k=20, generator=g): ...
    states = hidden_trace(model, "To be, or not to be")           # (T, H) hidden units over time
    norms = state_gradient_norms(model, "some text")                # ||dh_T/ds_t||_F for t = T-1 ... 0

The cells below use torch's parameter layout (gates stacked in the rows of one matrix), so a manual cell and
`nn.RNN` / `nn.GRU` / `nn.LSTM` with copied weights compute the same numbers (tests/genlib/test_rnn.py checks it).
`CharLM` trains on the fused torch layer (one C++ call per sequence: several times faster) and can run the same
weights through the manual cells (`manual=True`), which is what the notes include.

Vocabulary: the characters of the training corpus, built at train time and saved in config.json with the weights.
Where the corpus has rare characters (Tang poems: fewer than `min_count` occurrences) they share one unknown symbol
UNK, which the model learns like any other. A prompt character outside the vocabulary becomes UNK when the vocabulary
has one, and is left out otherwise (Tiny Shakespeare: all 65 characters are in it, so UNK never occurred in
training and would be an untrained input); `encode` reports what it replaced or dropped. Samplers never write UNK.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin

from genlib.sampling import Step

UNK = "\ufffd"  # the unknown symbol (never in a corpus)
CELLS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # rows of W_ih / W_hh per hidden unit


# ---- the three cells, one line per equation ----------------------------------------------------------------------
def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """Elman's recurrence. x (B, E), h (B, H) -> h' (B, H)."""
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)  # h' = tanh(W_ih x + b_ih + W_hh h + b_hh)


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """Cho et al.'s gated recurrent unit (torch's form: the reset gate multiplies W_hn h + b_hn). -> h' (B, H)."""
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)  # W_ir x + b_ir, W_iz x + b_iz, W_in x + b_in
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=1)  # W_hr h + b_hr, W_hz h + b_hz, W_hn h + b_hn
    r = torch.sigmoid(x_r + h_r)  # reset gate     r = sigma(W_ir x + b_ir + W_hr h + b_hr)
    z = torch.sigmoid(x_z + h_z)  # update gate    z = sigma(W_iz x + b_iz + W_hz h + b_hz)
    n = torch.tanh(x_n + r * h_n)  # candidate     n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    return (1 - z) * n + z * h  # h' = (1 - z) * n + z * h


def lstm_step(x, state, w_ih, w_hh, b_ih, b_hh):
    """Hochreiter & Schmidhuber's long short-term memory with a forget gate. state = (h, c) -> (h', c')."""
    h, c = state
    i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)  # gate pre-activations, (B, H) each
    i = torch.sigmoid(i)  # input gate     i = sigma(W_ii x + b_ii + W_hi h + b_hi)
    f = torch.sigmoid(f)  # forget gate    f = sigma(W_if x + b_if + W_hf h + b_hf)
    g = torch.tanh(g)  # candidate         g = tanh(W_ig x + b_ig + W_hg h + b_hg)
    o = torch.sigmoid(o)  # output gate    o = sigma(W_io x + b_io + W_ho h + b_ho)
    c = f * c + i * g  # cell state        c' = f * c + i * g
    return o * torch.tanh(c), c  # hidden  h' = o * tanh(c')


STEPS = {"rnn": rnn_step, "gru": gru_step, "lstm": lstm_step}


class Cell(nn.Module):
    """One manual cell of kind 'rnn' | 'gru' | 'lstm' with torch's parameter names and initialisation."""

    def __init__(self, kind: str, input_size: int, hidden_size: int):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind must be one of {CELLS}")
        self.kind, self.hidden_size = kind, hidden_size
        rows = GATES[kind] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        for p in self.parameters():  # torch's init: U(-1/sqrt(H), 1/sqrt(H))
            nn.init.uniform_(p, -hidden_size ** -0.5, hidden_size ** -0.5)

    def forward(self, x, state):
        return STEPS[self.kind](x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


# ---- vocabulary ---------------------------------------------------------------------------------------------
def build_vocab(text: str, min_count: int = 1) -> str:
    """The vocabulary as one string: UNK first when some characters occur fewer than min_count times, then the
    kept characters by code point."""
    counts = Counter(text)
    kept = sorted(ch for ch, n in counts.items() if n >= min_count and ch != UNK)
    return (UNK if len(kept) < len(counts) else "") + "".join(kept)


@dataclass
class Encoded:
    ids: list[int]
    unknown: int  # characters outside the vocabulary (mapped to UNK or dropped)
    dropped: bool  # True when they were dropped (the vocabulary has no UNK)


def encode(vocab: str, text: str) -> Encoded:
    """Character ids of text; characters outside vocab become UNK, or are dropped when vocab has no UNK."""
    index = {ch: i for i, ch in enumerate(vocab)}
    unk = index.get(UNK)
    ids, unknown = [], 0
    for ch in text:
        i = index.get(ch)
        if i is None or ch == UNK:
            unknown += 1
            if unk is None:
                continue
            i = unk
        ids.append(i)
    return Encoded(ids, unknown, unk is None)


def encode_corpus(vocab: str, text: str) -> torch.Tensor:
    """The whole corpus as a LongTensor (characters outside vocab -> UNK)."""
    return torch.tensor(encode(vocab, text).ids, dtype=torch.long)


# ---- the language model -----------------------------------------------------------------------------------
class CharLM(nn.Module, PyTorchModelHubMixin):
    """Embedding -> L recurrent layers -> linear read-out to next-character logits.

    kind: 'rnn' | 'gru' | 'lstm'; vocab: the characters (config.json keeps them with the weights); emb: embedding
    size; hidden: H per layer; layers: L; dropout between layers (training only); tie: the read-out reuses the
    embedding matrix (needs emb == hidden; halves the parameters of a large vocabulary such as the Tang poems')."""

    def __init__(self, kind: str = "lstm", vocab: str = "ab", emb: int = 32, hidden: int = 64, layers: int = 1,
                 dropout: float = 0.0, tie: bool = False):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind must be one of {CELLS}")
        if tie and emb != hidden:
            raise ValueError("tie needs emb == hidden")
        self.kind, self.vocab, self.hidden, self.layers, self.tie = kind, vocab, hidden, layers, tie
        self.embed = nn.Embedding(len(vocab), emb)
        layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
        self.rnn = layer(emb, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = None if tie else nn.Linear(hidden, len(vocab))
        self.bias = nn.Parameter(torch.zeros(len(vocab))) if tie else None

    @property
    def V(self) -> int:
        return len(self.vocab)

    def init_state(self, batch: int):
        """Zero state: (L, B, H), or a pair of them (h, c) for the LSTM."""
        h = torch.zeros(self.layers, batch, self.hidden)
        return (h, h.clone()) if self.kind == "lstm" else h

    def logits(self, out: torch.Tensor) -> torch.Tensor:
        """Read-out: (..., H) -> (..., V)."""
        return F.linear(out, self.embed.weight, self.bias) if self.tie else self.head(out)

    def layer_weights(self, l: int):
        r = self.rnn
        return (getattr(r, f"weight_ih_l{l}"), getattr(r, f"weight_hh_l{l}"), getattr(r, f"bias_ih_l{l}"),
                getattr(r, f"bias_hh_l{l}"))

    def run_manual(self, x: torch.Tensor, state):
        """The recurrence written out: loop over time, then over layers, with the cells above. x (B, T, E) ->
        (outputs of the top layer (B, T, H), final state). Same numbers as the fused layer (in eval mode)."""
        lstm = self.kind == "lstm"
        step = STEPS[self.kind]
        hs = [(state[0][l], state[1][l]) if lstm else state[l] for l in range(self.layers)]
        outs = []
        for t in range(x.shape[1]):
            inp = x[:, t]  # (B, E)
            for l in range(self.layers):
                hs[l] = step(inp, hs[l], *self.layer_weights(l))  # layer l at time t
                inp = hs[l][0] if lstm else hs[l]  # its h feeds the layer above
            outs.append(inp)
        final = (torch.stack([s[0] for s in hs]), torch.stack([s[1] for s in hs])) if lstm else torch.stack(hs)
        return torch.stack(outs, dim=1), final

    def forward(self, ids: torch.Tensor, state=None, manual: bool = False):
        """ids (B, T) -> (logits (B, T, V), final state). manual=True runs the cells above instead of the fused
        layer (same weights, same result)."""
        if state is None:
            state = self.init_state(ids.shape[0])
        x = self.drop(self.embed(ids))  # (B, T, E)
        out, state = self.run_manual(x, state) if manual else self.rnn(x, state)
        return self.logits(self.drop(out)), state


def detach(state):
    """Truncated BPTT: the state carried into the next chunk, cut from the graph of the previous one."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def chunk_loss(model: CharLM, x: torch.Tensor, y: torch.Tensor, state):
    """Mean cross-entropy (nats/char) of one chunk, and the detached state to start the next chunk from.
    x, y (B, T): y is x shifted by one character."""
    logits, state = model(x, state)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten()), detach(state)


@torch.no_grad()
def nats_per_char(model: CharLM, ids: torch.Tensor, streams: int = 16, chunk: int = 256) -> float:
    """Mean -log p(x_{t+1} | x_<=t) over a held-out text (ids (N,)), read as `streams` parallel pieces, each from a
    zero state (the first characters of each piece are predicted with little context)."""
    n = (len(ids) - 1) // streams
    x = ids[: n * streams].view(streams, n)
    y = ids[1 : n * streams + 1].view(streams, n)
    state, total = model.init_state(streams), 0.0
    for i in range(0, n, chunk):
        logits, state = model(x[:, i : i + chunk], state)
        total += F.cross_entropy(logits.flatten(0, 1), y[:, i : i + chunk].flatten(), reduction="sum").item()
    return total / (n * streams)


# ---- temperature, top-k, sampling ------------------------------------------------------------------------------
def shape_logits(logits: torch.Tensor, temperature: float, top_k: int = 0) -> torch.Tensor:
    """Temperature and top-k as operations on logits (V,): keep the k largest (the rest -> -inf), divide by T.
    T = 0 is greedy: all the mass on the arg-max (returned as 0 there, -inf elsewhere)."""
    z = logits.clone()
    if top_k and 0 < top_k < z.numel():
        kth = torch.topk(z, top_k).values[-1]
        z[z < kth] = float("-inf")  # exactly k survive unless there are ties at the k-th value
    if temperature <= 0:
        greedy = torch.full_like(z, float("-inf"))
        greedy[z.argmax()] = 0.0
        return greedy
    return z / temperature  # p_i = exp(z_i / T) / sum_j exp(z_j / T)


@torch.no_grad()
def sample(model: CharLM, prompt: str | list[int], n: int, temperature: float = 1.0, top_k: int = 0,
           generator: torch.Generator | None = None, mask=None):
    """Yield one Step per new character: x = the ids so far (1, L), t = the position written, pred = the model's
    log-probabilities before temperature and top-k (V,), probs = the log-probabilities it was drawn from (V,).
    mask(position, ids) -> bool tensor (V,) of allowed characters, or None (the quatrain form uses it).
    UNK is never written. An empty prompt starts from a newline where the vocabulary has one."""
    ids = encode(model.vocab, prompt).ids if isinstance(prompt, str) else list(prompt)
    if not ids:
        ids = [model.vocab.index("\n")] if "\n" in model.vocab else [0]
    state = model.init_state(1)
    logits, state = model(torch.tensor([ids]), state)
    last = logits[0, -1]
    never = torch.zeros(model.V, dtype=torch.bool)
    if UNK in model.vocab:
        never[model.vocab.index(UNK)] = True
    for k in range(n):
        z = last.masked_fill(never, float("-inf"))
        if mask is not None:
            z = z.masked_fill(~mask(k, ids), float("-inf"))
        raw = F.log_softmax(z, dim=-1)
        shaped = F.log_softmax(shape_logits(z, temperature, top_k), dim=-1)
        nxt = int(torch.multinomial(shaped.exp(), 1, generator=generator)) if temperature > 0 else int(shaped.argmax())
        ids.append(nxt)
        yield Step(index=k + 1, total=n, x=torch.tensor([ids]), t=len(ids) - 1, pred=raw, probs=shaped)
        logits, state = model(torch.tensor([[nxt]]), state)
        last = logits[0, -1]


def generate(model: CharLM, prompt: str, n: int, **kw) -> str:
    """The text the sampler writes after the prompt (n characters)."""
    step = None
    for step in sample(model, prompt, n, **kw):
        pass
    start = step.x.shape[1] - n if step is not None else 0
    return decode(model.vocab, step.x[0, start:].tolist()) if step is not None else ""


def decode(vocab: str, ids: list[int]) -> str:
    return "".join(vocab[i] for i in ids)


# ---- the quatrain form (絕句): L characters a line, four lines, ， after lines 1 and 3, 。 (or ？) after 2 and 4 ----
COMMA, STOPS = "，", "。？"


def form_chars(line: int) -> tuple[str, str]:
    """(what may end the line, the punctuation set) for line index 0..3."""
    return (COMMA, STOPS) if line % 2 == 0 else (STOPS, COMMA)


def quatrain_mask(vocab: str, line_len: int, heads: str = ""):
    """mask(k, ids) for `sample`: the k-th character written (k = 0 ... 4 (L + 1) - 1) may be any Han character at a
    line position, the right punctuation after each line, and heads[i] (藏头) as the first character of line i."""
    punct = set(COMMA + STOPS)
    han = torch.tensor([ch not in punct and ch not in "\n" + UNK for ch in vocab])
    index = {ch: i for i, ch in enumerate(vocab)}

    def mask(k: int, ids) -> torch.Tensor:
        line, pos = divmod(k, line_len + 1)
        if line >= 4:
            m = torch.zeros(len(vocab), dtype=torch.bool)
            if "\n" in index:
                m[index["\n"]] = True
            return m
        if pos == line_len:  # the punctuation after the line
            ok = form_chars(line)[0]
            return torch.tensor([ch in ok for ch in vocab])
        if pos == 0 and line < len(heads) and heads[line] in index and han[index[heads[line]]]:
            m = torch.zeros(len(vocab), dtype=torch.bool)
            m[index[heads[line]]] = True
            return m
        return han.clone()

    return mask


def quatrain_ok(text: str, line_len: int) -> bool:
    """True when text is four lines of line_len Han characters, punctuated ， 。 ， 。 (。 or ？ at the stops)."""
    line = rf"[^，。？\n{UNK}]{{{line_len}}}"
    return re.fullmatch(rf"{line}，{line}[。？]{line}，{line}[。？]", text) is not None


def poem_form(text: str) -> str | None:
    """'5x4', '7x4', '5x8' or '7x8' when text is a regular poem of the corpus's four forms, else None."""
    for n in (5, 7):
        line = rf"[^，。？\n{UNK}]{{{n}}}"
        pair = rf"{line}，{line}[。？]"
        for lines in (4, 8):
            if re.fullmatch(rf"(?:{pair}){{{lines // 2}}}", text):
                return f"{n}x{lines}"
    return None


def write_quatrain(model: CharLM, line_len: int, heads: str = "", temperature: float = 0.8, top_k: int = 0,
                   generator: torch.Generator | None = None):
    """Yield the Steps of a masked quatrain: 4 (line_len + 1) characters after a newline."""
    yield from sample(model, "\n", 4 * (line_len + 1), temperature, top_k, generator,
                      mask=quatrain_mask(model.vocab, line_len, heads))


def free_poem(model: CharLM, temperature: float = 0.8, generator: torch.Generator | None = None,
              limit: int = 80) -> str:
    """One unconstrained poem: characters after a newline until the next newline (at most `limit`)."""
    out = []
    for step in sample(model, "\n", limit, temperature, 0, generator):
        ch = model.vocab[int(step.x[0, -1])]
        if ch == "\n":
            break
        out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=2)
def _opencc(config: str):
    from opencc import OpenCC  # opencc-python-reimplemented: OpenCC's own tables, pure Python, offline

    return OpenCC(config)


def simplified(text: str) -> str:
    """Traditional -> simplified characters by OpenCC's t2s tables (a display view only; the model writes traditional)."""
    return _opencc("t2s").convert(text)


def traditional(text: str) -> str:
    """Simplified -> traditional by OpenCC's s2t tables (so a 藏头 character typed in simplified form can be found)."""
    return _opencc("s2t").convert(text)


def line_position(text: str) -> torch.Tensor:
    """Characters since the last line break or line-ending punctuation (，。？ newline), after each character: (T,)."""
    pos, out = 0, []
    for ch in text:
        pos = 0 if ch in "\n，。？" else pos + 1
        out.append(float(pos))
    return torch.tensor(out)


# ---- inside the state ------------------------------------------------------------------------------------------
@torch.no_grad()
def hidden_trace(model: CharLM, text: str, cell_state: bool = False) -> torch.Tensor:
    """The top layer's hidden units h_t (or the LSTM's cell state c_t) after each character: (T, H)."""
    ids = torch.tensor([encode(model.vocab, text).ids])
    state, rows = model.init_state(1), []
    x = model.embed(ids)
    lstm = model.kind == "lstm"
    hs = [(state[0][l], state[1][l]) if lstm else state[l] for l in range(model.layers)]
    for t in range(ids.shape[1]):
        inp = x[:, t]
        for l in range(model.layers):
            hs[l] = STEPS[model.kind](inp, hs[l], *model.layer_weights(l))
            inp = hs[l][0] if lstm else hs[l]
        top = hs[-1]
        rows.append((top[1] if cell_state else top[0])[0] if lstm else top[0])
    return torch.stack(rows) if rows else torch.zeros(0, model.hidden)


def tracking_units(states: torch.Tensor, signal: torch.Tensor, k: int = 3) -> list[tuple[int, float]]:
    """The k units whose activation correlates most (in absolute value) with a signal over time (e.g. the position
    in the line, or 'inside a quotation'): [(unit, Pearson r)]."""
    s = (signal - signal.mean()) / (signal.std() + 1e-8)
    a = (states - states.mean(0)) / (states.std(0) + 1e-8)
    r = (a * s[:, None]).mean(0) * len(s) / max(1, len(s) - 1)
    top = r.abs().argsort(descending=True)[:k]
    return [(int(i), float(r[i])) for i in top]


def _flat_step(model: CharLM):
    """s' = step(s, x): the whole state (all layers; h and c for the LSTM) as one vector, for Jacobians."""
    L, H, lstm = model.layers, model.hidden, model.kind == "lstm"

    def step(s, x):
        parts = s.view(2 * L if lstm else L, H)
        inp, new = x, []
        for l in range(L):
            st = (parts[l], parts[L + l]) if lstm else parts[l]
            w_ih, w_hh, b_ih, b_hh = model.layer_weights(l)
            out = STEPS[model.kind](inp[None], (st[0][None], st[1][None]) if lstm else st[None], w_ih, w_hh, b_ih, b_hh)
            new.append(out)
            inp = (out[0] if lstm else out)[0]
        if lstm:
            return torch.cat([o[0][0] for o in new] + [o[1][0] for o in new])
        return torch.cat([o[0] for o in new])

    return step


def state_gradient_norms(model: CharLM, text: str) -> torch.Tensor:
    """||dh_T / ds_t||_F for t = T-1, T-2, ..., 1 (index j holds T - t = j + 1): how much the last hidden state h_T
    (top layer) still depends on the state s_t after character t. s is every layer's h (and c, for the LSTM).
    By the chain rule dh_T/ds_t = dh_T/ds_{t+1} . ds_{t+1}/ds_t; autograd computes all of them in one backward pass
    through the recurrence, batched over the H rows of dh_T/ds_T (is_grads_batched: one pass per row, vectorised)."""
    ids = encode(model.vocab, text).ids
    if len(ids) < 2:
        return torch.zeros(0)
    step = _flat_step(model)
    x = model.embed(torch.tensor(ids)).detach()  # (T, E)
    H, L = model.hidden, model.layers
    with torch.enable_grad():
        s = torch.zeros((2 if model.kind == "lstm" else 1) * L * H, requires_grad=True)
        states = []
        for t in range(len(ids)):
            s = step(s, x[t])  # s_{t+1} = f(s_t, x_t)
            states.append(s)
        h_T = states[-1][(L - 1) * H : L * H]  # the top layer's h inside s_T
        grads = torch.autograd.grad(h_T, states[:-1], grad_outputs=torch.eye(H), is_grads_batched=True)
    # grads[t-1] = dh_T/ds_t (H, S) for t = 1 ... T-1; report them from T - t = 1 upwards
    return torch.stack([torch.linalg.matrix_norm(g) for g in reversed(grads)]).detach()


# ---- the toy next-character RNN of the course (trained in seconds, in the tab) ----------------------------------
TOY_SENTENCES = ("hey how are you", "good i am fine", "have a nice day", "see you soon")


def toy_data(sentences=TOY_SENTENCES):
    """(vocab, inputs (N, T), targets (N, T)): each sentence padded with spaces to the longest; the target is the
    input shifted by one character."""
    vocab = "".join(sorted(set("".join(sentences) + " ")))
    width = max(map(len, sentences))
    padded = [s.ljust(width) for s in sentences]
    ids = torch.tensor([[vocab.index(c) for c in s] for s in padded])
    return vocab, ids[:, :-1], ids[:, 1:]


def train_toy(kind: str = "rnn", hidden: int = 12, steps: int = 150, lr: float = 0.01, seed: int = 0):
    """A one-layer char model on the toy sentences, trained with Adam: (model, losses per step)."""
    torch.manual_seed(seed)
    vocab, x, y = toy_data()
    model = CharLM(kind, vocab, emb=len(vocab), hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        logits, _ = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


def perplexity(nats: float) -> float:
    """exp(mean nats per character): the effective number of equally likely next characters."""
    return math.exp(nats)
