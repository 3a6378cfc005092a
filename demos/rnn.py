"""The RNN tab: character-level language models on Tiny Shakespeare and the Tang poems. Sample with temperature and
top-k (the next-character distribution before and after them, step by step), write a masked quatrain (藏头 optional,
simplified view), look at hidden units over a text, compare dh_T/ds_t for the three cells, and train the course's toy
next-character RNN in the page.

Every callback is a plain function of its inputs (tested without a server); the models and their math are in
genlib.rnn, this module only checks the input and draws.
"""
from __future__ import annotations

import functools
import html
import math

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import hub, rnn

TAB_ID = "rnn"
TITLE = "rnn_title"
KINDS = ("rnn", "gru", "lstm")
MODEL_CHOICES = ("shakespeare_lstm", "shakespeare_gru", "shakespeare_rnn", "tang_lstm")
MODELS = tuple(f"rnn_{m}" for m in MODEL_CHOICES)
MAX_PROMPT = 400  # characters of the prompt the model reads (the last ones)
MAX_LENGTH = 600  # characters one sample writes
MAX_TOP_K = 100
T_MIN, T_MAX = 0.1, 2.0
BARS = 12  # characters in the next-character chart
MAX_STATE_CHARS = 120  # hidden-unit heat map
STATE_UNITS = 16
MAX_GRAD_CHARS = 60  # dh_T/ds_t
MAX_TOY_STEPS = 400
DEFAULT_PROMPT = "ROMEO:\n"
DEFAULT_STATE_TEXT = "KING RICHARD II:\nNo, not a word; I have no more to say.\nI'll speak no more.\n"
DEFAULT_GRAD_TEXT = "First Citizen:\nBefore we proceed any further, hear me."

ui.add_strings(
    en={
        "rnn_title": "RNN",
        "rnn_sample_h": "## 1 · Sample with temperature",
        "rnn_model": "Model",
        "rnn_model_shakespeare_rnn": "Shakespeare · vanilla RNN", "rnn_model_shakespeare_gru": "Shakespeare · GRU",
        "rnn_model_shakespeare_lstm": "Shakespeare · LSTM", "rnn_model_tang_lstm": "Tang poems · LSTM",
        "rnn_prompt": "Prompt (the model continues it)",
        "rnn_temperature": "Temperature T",
        "rnn_top_k": "Top-k (0 = all characters)",
        "rnn_length": "Characters to write",
        "rnn_seed": "Seed",
        "rnn_sample_btn": "Sample",
        "rnn_text": "Text",
        "rnn_quatrain_h": "## 2 · Write a Tang quatrain (五言 / 七言絕句)",
        "rnn_form": "Line length",
        "rnn_form_5": "five characters (五言)", "rnn_form_7": "seven characters (七言)",
        "rnn_heads": "First character of each line (藏头, optional, up to four)",
        "rnn_simplified": "Show in simplified characters",
        "rnn_quatrain_btn": "Write",
        "rnn_state_h": "## 3 · Inside the state",
        "rnn_state_text": "Text to read",
        "rnn_state_btn": "Show hidden units",
        "rnn_grad_h": "## 4 · Vanishing gradients: ‖∂h_T/∂s_t‖ for the three cells",
        "rnn_grad_text": "Text (the three Shakespeare models read the same characters)",
        "rnn_grad_btn": "Compute",
        "rnn_toy_h": "## 5 · The toy next-character RNN (trained here, in seconds)",
        "rnn_toy_cell": "Cell",
        "rnn_toy_cell_rnn": "vanilla RNN", "rnn_toy_cell_gru": "GRU", "rnn_toy_cell_lstm": "LSTM",
        "rnn_toy_steps": "Training steps",
        "rnn_toy_btn": "Train",
        "rnn_records_h": "## 6 · How the models were trained",
        "rnn_arg_model": "model", "rnn_arg_temperature": "temperature", "rnn_arg_top_k": "top-k",
        "rnn_arg_length": "length", "rnn_arg_form": "line length", "rnn_arg_cell": "cell",
        "rnn_arg_steps": "training steps", "rnn_arg_simplified": "simplified view",
        "rnn_msg_sampling": "{model}: T = {T:g}, {k}seed {seed}",
        "rnn_msg_topk": "top-k {k}, ",
        "rnn_msg_chars": "{index}/{total} characters",
        "rnn_msg_trimmed": "the prompt has {n} characters; the model reads the last {max}",
        "rnn_msg_unknown_unk": "{n} prompt characters are outside the vocabulary and were read as the unknown symbol",
        "rnn_msg_unknown_dropped": "{n} prompt characters are outside the model's {v} characters and were left out",
        "rnn_msg_empty": "the prompt is empty: the model starts from a line break",
        "rnn_msg_chart": "next character after “{context}”: before (grey) and after (blue) T and top-k",
        "rnn_msg_quatrain": "{form}-character quatrain, T = {T:g}, seed {seed}",
        "rnn_msg_form_ok": "form ✓ (4 lines of {n}, ， 。 ， 。)",
        "rnn_msg_form_bad": "form ✗",
        "rnn_msg_free_share": "Without the mask, {regular:.0%} of {n} poems the model wrote freely (T = 0.8) had one of "
                              "the corpus's regular forms and {quatrain:.0%} were quatrains (measured after training).",
        "rnn_msg_heads_dropped": "藏头: {chars} not in the model's vocabulary; those lines start freely",
        "rnn_msg_heads_long": "藏头: only the first four characters are used",
        "rnn_msg_state": "{n} characters through {model}: {units} of its {h} top-layer units, those that follow the "
                         "position in the line most closely first",
        "rnn_msg_state_units": "unit {unit}: r = {r:+.2f} with the position in the line",
        "rnn_msg_state_empty": "no characters of the text are in this model's vocabulary: type some text",
        "rnn_msg_text_trimmed": "the text has {n} characters; the first {max} are used",
        "rnn_msg_grad": "{n} characters: ‖∂h_T/∂s_t‖ at T − t = {far}: {values}",
        "rnn_msg_grad_short": "type at least two characters of English text",
        "rnn_msg_toy": "{cell}, {steps} steps: loss {first:.3f} → {last:.3f} nats/char; greedy continuations below",
        "rnn_msg_records": "Validation loss in nats per character (lower is better); the three Shakespeare cells had the "
                           "same budget of training CPU time (one thread; the wall time is longer when the machine is busy).",
        "rnn_col_model": "model", "rnn_col_val": "validation nats/char", "rnn_col_ppl": "perplexity",
        "rnn_col_minutes": "CPU minutes", "rnn_col_wall": "wall minutes", "rnn_col_steps": "steps", "rnn_col_params": "parameters",
        "rnn_col_prompt": "first two characters", "rnn_col_wrote": "model writes", "rnn_col_target": "sentence",
        "rnn_plot_log": "log₁₀ ‖∂h_T/∂s_t‖ against T − t",
        "rnn_plot_toy": "toy RNN: training loss (nats/char)",
        "rnn_plot_val": "validation nats/char (first 40,000 characters) against training CPU minutes",
        "rnn_plot_heat": "hidden units (rows) after each character (columns)",
    },
    zh={
        "rnn_title": "RNN",
        "rnn_sample_h": "## 1 · 带温度的采样",
        "rnn_model": "模型",
        "rnn_model_shakespeare_rnn": "莎士比亚 · 普通 RNN", "rnn_model_shakespeare_gru": "莎士比亚 · GRU",
        "rnn_model_shakespeare_lstm": "莎士比亚 · LSTM", "rnn_model_tang_lstm": "唐诗 · LSTM",
        "rnn_prompt": "提示（模型接着写）",
        "rnn_temperature": "温度 T",
        "rnn_top_k": "前 k 个截断（0 = 全部字符）",
        "rnn_length": "要写的字符数",
        "rnn_seed": "随机种子",
        "rnn_sample_btn": "采样",
        "rnn_text": "文本",
        "rnn_quatrain_h": "## 2 · 写一首唐代绝句（五言 / 七言绝句）",
        "rnn_form": "每句字数",
        "rnn_form_5": "五个字（五言）", "rnn_form_7": "七个字（七言）",
        "rnn_heads": "每句的第一个字（藏头，可选，最多四个）",
        "rnn_simplified": "用简体字显示",
        "rnn_quatrain_btn": "写诗",
        "rnn_state_h": "## 3 · 隐藏状态的内部",
        "rnn_state_text": "要读的文本",
        "rnn_state_btn": "显示隐藏单元",
        "rnn_grad_h": "## 4 · 梯度消失：三种单元的 ‖∂h_T/∂s_t‖",
        "rnn_grad_text": "文本（三个莎士比亚模型读同样的字符）",
        "rnn_grad_btn": "计算",
        "rnn_toy_h": "## 5 · 玩具版下一个字符 RNN（在页面里训练，几秒钟）",
        "rnn_toy_cell": "单元",
        "rnn_toy_cell_rnn": "普通 RNN", "rnn_toy_cell_gru": "GRU", "rnn_toy_cell_lstm": "LSTM",
        "rnn_toy_steps": "训练步数",
        "rnn_toy_btn": "训练",
        "rnn_records_h": "## 6 · 这些模型是怎样训练的",
        "rnn_arg_model": "模型", "rnn_arg_temperature": "温度", "rnn_arg_top_k": "前 k 个截断",
        "rnn_arg_length": "长度", "rnn_arg_form": "每句字数", "rnn_arg_cell": "单元",
        "rnn_arg_steps": "训练步数", "rnn_arg_simplified": "简体显示",
        "rnn_msg_sampling": "{model}：T = {T:g}，{k}随机种子 {seed}",
        "rnn_msg_topk": "前 {k} 个截断，",
        "rnn_msg_chars": "{index}/{total} 个字符",
        "rnn_msg_trimmed": "提示有 {n} 个字符；模型只读最后 {max} 个",
        "rnn_msg_unknown_unk": "提示中有 {n} 个字符不在词表里，按未知符号读入",
        "rnn_msg_unknown_dropped": "提示中有 {n} 个字符不在模型的 {v} 个字符之内，已略去",
        "rnn_msg_empty": "提示为空：模型从一个换行开始写",
        "rnn_msg_chart": "“{context}”之后的下一个字符：温度和前 k 个截断之前（灰）与之后（蓝）",
        "rnn_msg_quatrain": "{form}言绝句，T = {T:g}，随机种子 {seed}",
        "rnn_msg_form_ok": "格式 ✓（四句，每句 {n} 字，， 。 ， 。）",
        "rnn_msg_form_bad": "格式 ✗",
        "rnn_msg_free_share": "不加掩码时，模型自由写出的 {n} 首诗（T = 0.8）中有 {regular:.0%} 符合语料中的一种整齐格式，"
                              "{quatrain:.0%} 是绝句（训练后测得）。",
        "rnn_msg_heads_dropped": "藏头：{chars} 不在模型的词表里；这些句子的首字自由生成",
        "rnn_msg_heads_long": "藏头：只用前四个字",
        "rnn_msg_state": "{model} 读了 {n} 个字符：顶层 {h} 个单元中的 {units} 个，最贴合句中位置的排在前面",
        "rnn_msg_state_units": "单元 {unit}：与句中位置的相关系数 r = {r:+.2f}",
        "rnn_msg_state_empty": "文本中没有一个字符在这个模型的词表里：请输入一些文字",
        "rnn_msg_text_trimmed": "文本有 {n} 个字符；只用前 {max} 个",
        "rnn_msg_grad": "{n} 个字符：T − t = {far} 时的 ‖∂h_T/∂s_t‖：{values}",
        "rnn_msg_grad_short": "请至少输入两个英文字符",
        "rnn_msg_toy": "{cell}，{steps} 步：损失 {first:.3f} → {last:.3f} 奈特/字符；下面是贪心续写",
        "rnn_msg_records": "验证集上每个字符的损失（奈特，越低越好）；三个莎士比亚单元的训练 CPU 时间预算相同（单线程；机器繁忙时实际耗时更长）。",
        "rnn_col_model": "模型", "rnn_col_val": "验证集 奈特/字符", "rnn_col_ppl": "困惑度",
        "rnn_col_minutes": "CPU 分钟数", "rnn_col_wall": "实际分钟数", "rnn_col_steps": "步数", "rnn_col_params": "参数量",
        "rnn_col_prompt": "前两个字符", "rnn_col_wrote": "模型写出", "rnn_col_target": "句子",
        "rnn_plot_log": "log₁₀ ‖∂h_T/∂s_t‖ 随 T − t 的变化",
        "rnn_plot_toy": "玩具 RNN：训练损失（奈特/字符）",
        "rnn_plot_val": "验证集（前 40,000 个字符）奈特/字符 随训练 CPU 分钟数的变化",
        "rnn_plot_heat": "隐藏单元（行）在每个字符之后（列）的取值",
    },
)

CELL_NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}


def _show(ch: str) -> str:
    return {"\n": "⏎", " ": "␣", rnn.UNK: "□"}.get(ch, ch)


def _model_name(choice: str) -> str:
    return ui.say(f"rnn_model_{choice}")


# ---- 1 · sampling ----------------------------------------------------------------------------------------------
def distribution_svg(before: torch.Tensor, after: torch.Tensor, vocab: str, context: str) -> str:
    """Bars of the BARS most likely next characters: p before temperature / top-k (grey) and after (blue)."""
    p0, p1 = before.exp(), after.exp()
    top = torch.argsort(torch.maximum(p0, p1), descending=True)[:BARS].tolist()
    w, h, left, bottom = 440, 190, 30, 30
    bw = (w - left - 10) / len(top)
    hi = max(float(p0[top].max()), float(p1[top].max()), 1e-9)
    parts = [f'<text x="{left}" y="12" font-size="11">{html.escape(ui.say("rnn_msg_chart", context=context))}</text>',
             f'<text x="2" y="26" font-size="10">{hi:.2f}</text><text x="2" y="{h - bottom}" font-size="10">0</text>']
    for j, i in enumerate(top):
        x = left + j * bw
        for k, (p, color) in enumerate(((p0, "#9ca3af"), (p1, "#2563eb"))):
            bh = (h - bottom - 22) * float(p[i]) / hi
            parts.append(f'<rect x="{x + 2 + k * bw / 2 - k * 2:.1f}" y="{h - bottom - bh:.1f}" width="{bw / 2 - 2:.1f}" '
                         f'height="{bh:.1f}" fill="{color}"><title>{html.escape(_show(vocab[i]))}: '
                         f'{float(p[i]):.3f}</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 14}" font-size="12" text-anchor="middle">'
                     f'{html.escape(_show(vocab[i]))}</text>')
    return ui.svg.canvas(w, h, ui.say("rnn_msg_chart", context=context), "".join(parts))


def _read_prompt(prompt, vocab: str, c: ui.Clamped) -> list[int]:
    text = "" if prompt is None else str(prompt)
    if len(text) > MAX_PROMPT:
        c.messages.append(ui.say("rnn_msg_trimmed", n=len(text), max=MAX_PROMPT))
        text = text[-MAX_PROMPT:]
    enc = rnn.encode(vocab, text)
    if enc.unknown:
        key = "rnn_msg_unknown_dropped" if enc.dropped else "rnn_msg_unknown_unk"
        c.messages.append(ui.say(key, n=enc.unknown, v=len(vocab)))
    if not enc.ids:
        c.messages.append(ui.say("rnn_msg_empty"))
    return enc.ids


def sample_text(model="shakespeare_lstm", prompt=DEFAULT_PROMPT, temperature=0.8, top_k=0, length=300, seed=0):
    """Stream a sample: (text so far, next-character chart, status). Every input is clamped; the prompt is cut to
    its last MAX_PROMPT characters, and characters outside the vocabulary are handled as genlib.rnn.encode says."""
    c = ui.Clamped()
    choice = c.choice("rnn_arg_model", model, list(MODEL_CHOICES), "shakespeare_lstm")
    T = c.float("rnn_arg_temperature", temperature, T_MIN, T_MAX, 0.8)
    k = c.int("rnn_arg_top_k", top_k, 0, MAX_TOP_K, 0)
    n = c.int("rnn_arg_length", length, 1, MAX_LENGTH, 300)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    lm, problem = ui.load_model(f"rnn_{choice}")
    if lm is None:
        yield "", "", ui.status(c, problem, "error")
        return
    ids = _read_prompt(prompt, lm.vocab, c)
    shown = rnn.decode(lm.vocab, ids)
    steps = rnn.sample(lm, ids, n, T, k, torch.Generator().manual_seed(seed))

    def render(step):
        written = step.x[0, len(ids) if ids else 1:].tolist()
        context = _show(rnn.decode(lm.vocab, step.x[0, -6:-1].tolist()))
        return shown + rnn.decode(lm.vocab, written), distribution_svg(step.pred, step.probs, lm.vocab, context)

    head = ui.say("rnn_msg_sampling", model=_model_name(choice), T=T, k=ui.say("rnn_msg_topk", k=k) if k else "", seed=seed)
    where = lambda s: ui.say("rnn_msg_chars", index=s.index, total=s.total)  # noqa: E731
    yield from ui.stream(steps, render, head, c, frames=60, where=where)


# ---- 2 · the quatrain ---------------------------------------------------------------------------------------
def _read_heads(heads, vocab: str, c: ui.Clamped) -> str:
    chars = [ch for ch in ("" if heads is None else str(heads)) if not ch.isspace() and ch not in "，。？,.?;；、"]
    if len(chars) > 4:
        c.messages.append(ui.say("rnn_msg_heads_long"))
        chars = chars[:4]
    out, missing = [], []
    for ch in chars:
        if ch not in vocab or ch == rnn.UNK:
            ch2 = rnn.traditional(ch)  # typed in simplified form?
            ch = ch2 if len(ch2) == 1 and ch2 in vocab else ch
        if ch in vocab and ch not in "\n，。？" + rnn.UNK:
            out.append(ch)
        else:
            missing.append(ch)
            out.append("\0")  # no head for this line
    if missing:
        c.messages.append(ui.say("rnn_msg_heads_dropped", chars=" ".join(missing)))
    return "".join(out)


def _poem_html(poem: str, line_len: int, simple: bool) -> str:
    text = rnn.simplified(poem) if simple else poem
    lines = [text[i : i + line_len + 1] for i in range(0, len(text), line_len + 1)]
    body = "<br>".join(html.escape(line) for line in lines)
    return f'<div style="font-size:1.6em;line-height:1.7;letter-spacing:0.15em">{body}</div>'


def quatrain(form="5", heads="", temperature=0.8, seed=0, simplified=False):
    """Stream a masked quatrain from the Tang model: (poem HTML, status)."""
    c = ui.Clamped()
    form = c.choice("rnn_arg_form", str(form), ["5", "7"], "5")
    L = int(form)
    T = c.float("rnn_arg_temperature", temperature, T_MIN, T_MAX, 0.8)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    simple = c.flag("rnn_arg_simplified", simplified)
    lm, problem = ui.load_model("rnn_tang_lstm")
    if lm is None:
        yield "", ui.status(c, problem, "error")
        return
    head_chars = _read_heads(heads, lm.vocab, c)
    steps = rnn.write_quatrain(lm, L, head_chars, T, 0, torch.Generator().manual_seed(seed))
    poem = ""

    def render(step):
        nonlocal poem
        poem = rnn.decode(lm.vocab, step.x[0, 1:].tolist())
        return (_poem_html(poem, L, simple),)

    head = ui.say("rnn_msg_quatrain", form=L, T=T, seed=seed)
    where = lambda s: ui.say("rnn_msg_chars", index=s.index, total=s.total)  # noqa: E731
    last = None
    for last in ui.stream(steps, render, head, c, frames=4 * (L + 1), where=where):
        yield last
    ok = rnn.quatrain_ok(poem, L)
    share = _free_share()
    text = head + " — " + ui.say("rnn_msg_form_ok" if ok else "rnn_msg_form_bad", n=L) + (f" {share}" if share else "")
    yield last[0], ui.status(c, text, "info" if ok else "warn")


def _free_share() -> str:
    try:
        final = hub.load_metrics("rnn_tang_lstm").get("final", {})
    except hub.ModelUnavailable:
        return ""
    if "free_poem_regular_share" not in final:
        return ""
    return ui.say("rnn_msg_free_share", regular=final["free_poem_regular_share"],
                  quatrain=final["free_poem_quatrain_share"], n=final["free_poem_samples"])


# ---- 3 · hidden units -------------------------------------------------------------------------------------------
def state_view(model="shakespeare_lstm", text=DEFAULT_STATE_TEXT):
    """A heat map of the top layer's hidden units over the text: the units that follow the position in the line most
    closely first, then the ones that vary most. -> (SVG, status)."""
    c = ui.Clamped()
    choice = c.choice("rnn_arg_model", model, list(MODEL_CHOICES), "shakespeare_lstm")
    lm, problem = ui.load_model(f"rnn_{choice}")
    if lm is None:
        return "", ui.status(c, problem, "error")
    raw = "" if text is None else str(text)
    if len(raw) > MAX_STATE_CHARS:
        c.messages.append(ui.say("rnn_msg_text_trimmed", n=len(raw), max=MAX_STATE_CHARS))
        raw = raw[:MAX_STATE_CHARS]
    enc = rnn.encode(lm.vocab, raw)
    if enc.unknown:
        c.messages.append(ui.say("rnn_msg_unknown_dropped" if enc.dropped else "rnn_msg_unknown_unk", n=enc.unknown,
                                 v=len(lm.vocab)))
    if len(enc.ids) < 2:
        return "", ui.status(c, ui.say("rnn_msg_state_empty"), "warn")
    read = rnn.decode(lm.vocab, enc.ids)
    with ui.intra_op_threads(1):
        states = rnn.hidden_trace(lm, read)  # (T, H)
    tracking = rnn.tracking_units(states, rnn.line_position(read), k=4)
    chosen = [u for u, _ in tracking]
    spread = states.std(0).argsort(descending=True).tolist()
    chosen += [u for u in spread if u not in chosen][: STATE_UNITS - len(chosen)]
    rows = [f"#{u}" for u in chosen]
    svg = ui.svg.heatmap_svg(states[:, chosen].T.numpy(), rows, [_show(ch) for ch in read], ui.say("rnn_plot_heat"),
                             signed=True, numbers=False, cell=(11, 14))
    units = "; ".join(ui.say("rnn_msg_state_units", unit=u, r=r) for u, r in tracking[:2])
    msg = ui.say("rnn_msg_state", n=len(read), model=_model_name(choice), units=len(chosen), h=lm.hidden)
    return svg, ui.status(c, f"{msg}. {units}")


# ---- 4 · vanishing gradients ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _grad_norms(kind: str, text: str) -> tuple[float, ...]:
    lm = hub.load(f"rnn_shakespeare_{kind}")
    with ui.intra_op_threads(1):
        return tuple(rnn.state_gradient_norms(lm, text).tolist())


def gradient_view(text=DEFAULT_GRAD_TEXT):
    """log10 ||dh_T/ds_t|| against T - t for the three trained Shakespeare cells on the same text -> (SVG, status)."""
    c = ui.Clamped()
    raw = "" if text is None else str(text)
    if len(raw) > MAX_GRAD_CHARS:
        c.messages.append(ui.say("rnn_msg_text_trimmed", n=len(raw), max=MAX_GRAD_CHARS))
        raw = raw[:MAX_GRAD_CHARS]
    series = {}
    for kind in KINDS:
        lm, problem = ui.load_model(f"rnn_shakespeare_{kind}")
        if lm is None:
            return "", ui.status(c, problem, "error")
        enc = rnn.encode(lm.vocab, raw)
        if enc.unknown and kind == KINDS[0]:
            c.messages.append(ui.say("rnn_msg_unknown_dropped", n=enc.unknown, v=len(lm.vocab)))
        if len(enc.ids) < 2:
            return "", ui.status(c, ui.say("rnn_msg_grad_short"), "warn")
        norms = np.array(_grad_norms(kind, rnn.decode(lm.vocab, enc.ids)))
        series[CELL_NAMES[kind]] = np.log10(np.maximum(norms, 1e-30))
    n = len(next(iter(series.values())))
    svg = ui.svg.lines_svg(series, x=np.arange(1, n + 1), title=ui.say("rnn_plot_log"), width=460, height=240)
    values = ", ".join(f"{k} {10 ** v[-1]:.1e}" for k, v in series.items())
    return svg, ui.status(c, ui.say("rnn_msg_grad", n=n + 1, far=n, values=values))


# ---- 5 · the toy RNN -----------------------------------------------------------------------------------------
def toy_view(cell="rnn", steps=150, seed=0):
    """Train the course's toy next-character model on its four sentences (seconds), then continue each sentence's
    first two characters greedily (two sentences start with 'h') -> (loss SVG, table HTML, status)."""
    c = ui.Clamped()
    cell = c.choice("rnn_arg_cell", cell, list(KINDS), "rnn")
    steps = c.int("rnn_arg_steps", steps, 10, MAX_TOY_STEPS, 150)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    with ui.intra_op_threads(1):
        model, losses = rnn.train_toy(cell, steps=steps, seed=seed)
        rows = []
        for s in rnn.TOY_SENTENCES:
            wrote = s[:2] + rnn.generate(model, s[:2], len(s) - 2, temperature=0.0)  # 'h' alone: hey or have?
            rows.append((s[:2], wrote, s))
    svg = ui.svg.lines_svg({ui.say("rnn_plot_toy"): np.array(losses)}, x=np.arange(1, len(losses) + 1),
                           title=ui.say("rnn_plot_toy"), width=420, height=180)
    head = "".join(f"<th>{html.escape(ui.say(k))}</th>" for k in ("rnn_col_prompt", "rnn_col_wrote", "rnn_col_target"))
    body = "".join(f"<tr><td><code>{html.escape(a)}</code></td><td><code>{html.escape(b)}</code>"
                   f"{' ✓' if b == t else ''}</td><td><code>{html.escape(t)}</code></td></tr>" for a, b, t in rows)
    table = f"<table><tr>{head}</tr>{body}</table>"
    msg = ui.say("rnn_msg_toy", cell=CELL_NAMES[cell], steps=steps, first=losses[0], last=losses[-1])
    return svg, table, ui.status(c, msg)


# ---- 6 · training records -----------------------------------------------------------------------------------------
def records_view():
    """The four models' training records (metrics.json): a table and the validation curves -> (HTML, SVG)."""
    cols = ("rnn_col_model", "rnn_col_val", "rnn_col_ppl", "rnn_col_minutes", "rnn_col_wall", "rnn_col_steps",
            "rnn_col_params")
    rows, curves = [], {}
    for choice in MODEL_CHOICES:
        try:
            m = hub.load_metrics(f"rnn_{choice}")
        except hub.ModelUnavailable:
            m = {}
        f = m.get("final", {})
        if not f:
            rows.append(f"<tr><td>{html.escape(_model_name(choice))}</td><td colspan='6'>—</td></tr>")
            continue
        cpu = f.get("training_cpu_minutes")
        rows.append(f"<tr><td>{html.escape(_model_name(choice))}</td><td>{f['val_nats_per_char']:.3f}</td>"
                    f"<td>{f['val_perplexity']:.2f}</td><td>{'—' if cpu is None else f'{cpu:.1f}'}</td>"
                    f"<td>{f['training_minutes']:.1f}</td><td>{m['steps']}</td>"
                    f"<td>{m['parameters']:,}</td></tr>")
        if choice.startswith("shakespeare") and len(m["val_curve"][0]) == 4:  # rows with their CPU time
            curves[CELL_NAMES[choice.split("_")[1]]] = m["val_curve"][:-1]  # the last row scores the whole split
    head = "".join(f"<th>{html.escape(ui.say(k))}</th>" for k in cols)
    table = (f"<p>{html.escape(ui.say('rnn_msg_records'))}</p><table><tr>{head}</tr>{''.join(rows)}</table>")
    if not curves:
        return table, ""
    n = min(len(v) for v in curves.values())  # evaluations at the same times (the same budget)
    x = np.array([v[1] / 60 for v in next(iter(curves.values()))[:n]])
    svg = ui.svg.lines_svg({k: np.array([p[2] for p in v[:n]]) for k, v in curves.items()}, x=x,
                           title=ui.say("rnn_plot_val"), width=460, height=220)
    return table, svg


def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; models are read on first use, records on page load."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("rnn_sample_h"))
        with gr.Row():
            model = gr.Radio(ui.choices("rnn_model", MODEL_CHOICES), value="shakespeare_lstm", label=ui.t("rnn_model"))
        prompt = gr.Textbox(DEFAULT_PROMPT, label=ui.t("rnn_prompt"), lines=2, max_lines=4, elem_id="rnn-prompt")
        with gr.Row():
            temperature = gr.Slider(T_MIN, T_MAX, value=0.8, step=0.05, label=ui.t("rnn_temperature"))
            top_k = gr.Slider(0, MAX_TOP_K, value=0, step=1, label=ui.t("rnn_top_k"))
        with gr.Row():
            length = gr.Slider(1, MAX_LENGTH, value=300, step=1, label=ui.t("rnn_length"))
            seed = ui.seed_box("rnn_seed")
            button = gr.Button(ui.t("rnn_sample_btn"), variant="primary", elem_id="rnn-sample")
        ui.share_link(TAB_ID, {"model": model, "prompt": prompt, "temperature": temperature, "top_k": top_k,
                               "length": length, "seed": seed}, primary=button)
        text = gr.Textbox(label=ui.t("rnn_text"), lines=10, max_lines=20, interactive=False, elem_id="rnn-text")
        chart = gr.HTML(elem_id="rnn-chart")
        sample_status = ui.status_line(elem_id="rnn-status")

        gr.Markdown(ui.t("rnn_quatrain_h"))
        with gr.Row():
            form = gr.Radio(ui.choices("rnn_form", ["5", "7"]), value="5", label=ui.t("rnn_form"))
            heads = gr.Textbox("", label=ui.t("rnn_heads"), max_lines=1, elem_id="rnn-heads")
        with gr.Row():
            q_temperature = gr.Slider(T_MIN, T_MAX, value=0.8, step=0.05, label=ui.t("rnn_temperature"))
            q_seed = ui.seed_box("rnn_seed")
            simple = gr.Checkbox(False, label=ui.t("rnn_simplified"))
            q_button = gr.Button(ui.t("rnn_quatrain_btn"), variant="primary", elem_id="rnn-write")
        poem = gr.HTML(elem_id="rnn-poem")
        q_status = ui.status_line(elem_id="rnn-quatrain-status")

        gr.Markdown(ui.t("rnn_state_h"))
        with gr.Row():
            s_model = gr.Radio(ui.choices("rnn_model", MODEL_CHOICES), value="shakespeare_lstm", label=ui.t("rnn_model"))
        s_text = gr.Textbox(DEFAULT_STATE_TEXT, label=ui.t("rnn_state_text"), lines=3, max_lines=5)
        s_button = gr.Button(ui.t("rnn_state_btn"), elem_id="rnn-state")
        heat = gr.HTML(elem_id="rnn-heat")
        s_status = ui.status_line(elem_id="rnn-state-status")

        gr.Markdown(ui.t("rnn_grad_h"))
        g_text = gr.Textbox(DEFAULT_GRAD_TEXT, label=ui.t("rnn_grad_text"), lines=2, max_lines=3)
        g_button = gr.Button(ui.t("rnn_grad_btn"), elem_id="rnn-grad")
        g_plot = gr.HTML(elem_id="rnn-grad-plot")
        g_status = ui.status_line(elem_id="rnn-grad-status")

        gr.Markdown(ui.t("rnn_toy_h"))
        with gr.Row():
            toy_cell = gr.Radio(ui.choices("rnn_toy_cell", KINDS), value="rnn", label=ui.t("rnn_toy_cell"))
            toy_steps = gr.Slider(10, MAX_TOY_STEPS, value=150, step=10, label=ui.t("rnn_toy_steps"))
            toy_button = gr.Button(ui.t("rnn_toy_btn"), elem_id="rnn-toy")
        with gr.Row():
            toy_plot = gr.HTML()
            toy_table = gr.HTML(elem_id="rnn-toy-table")
        toy_status = ui.status_line(elem_id="rnn-toy-status")

        gr.Markdown(ui.t("rnn_records_h"))
        with gr.Row():
            records = gr.HTML(elem_id="rnn-records")
            val_plot = gr.HTML()

    button.click(sample_text, [model, prompt, temperature, top_k, length, seed], [text, chart, sample_status],
                 api_name="rnn_sample", **ui.SAMPLER)
    q_button.click(quatrain, [form, heads, q_temperature, q_seed, simple], [poem, q_status], api_name="rnn_quatrain",
                   **ui.SAMPLER)
    s_button.click(state_view, [s_model, s_text], [heat, s_status], api_name="rnn_state", **ui.QUICK_MODEL)
    g_button.click(gradient_view, g_text, [g_plot, g_status], api_name="rnn_gradients", **ui.SAMPLER)
    toy_button.click(toy_view, [toy_cell, toy_steps], [toy_plot, toy_table, toy_status], api_name="rnn_toy",
                     **ui.QUICK_MODEL)
    gr.on(None, records_view, None, [records, val_plot], api_name="rnn_records", show_progress="hidden")
    return note
