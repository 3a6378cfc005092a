"""The Transformer tab: decode an input of the copy or the number-words task greedily, by beam search or by sampling,
with per-step token probabilities and the attention maps of every layer and head; and plots of the pieces:
the subsequent mask, positional encodings, the Noam schedule and label smoothing.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio.
The model code is in genlib.transformer.
"""
from __future__ import annotations

import html
import math
import re
import threading

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import data
from genlib.transformer import (LabelSmoothing, beam_search, greedy_decode, padding_mask, positional_encoding, rate,
                                sample_decode, subsequent_mask, target_mask)

TAB_ID = "transformer"
TITLE = "transformer_title"
MODELS = ("transformer_numbers", "transformer_zh_numbers", "transformer_copy")  # registry names this tab loads, on first use
TASKS = list(data.SEQ_TASKS)
TASK_CHOICES = ["numbers", "zh_numbers", "copy"]  # radio order; labels are the UI strings transformer_task_<task>
METHODS = ["greedy", "beam", "sample"]
MAX_CHARS = 300  # longer inputs are refused before any work
MAX_BEAM = 8
KINDS = ["enc_self", "dec_self", "dec_src"]  # labels: the UI strings transformer_kind_<kind>
EXAMPLES = {"numbers": ["three hundred and twelve", "fourteen thousand and seven", "nine hundred and ninety nine thousand",
                        "twenty one thousand four hundred and fifty", "seventeen", "one hundred thousand and thirteen",
                        "a hundred and twenty thousand", "three hundred thousand thirty"],
            "zh_numbers": ["三十万零五", "一千零一", "两百", "十五", "一万零一十五", "九十九万九千九百九十九"],
            "copy": ["3 1 4 1 5 9 2 6", "7 7 7 0 1", "9 8 7 6 5 4 3 2 1 0"]}

ui.add_strings(
    en={
        "transformer_title": "Transformer",
        "transformer_run_h": "### Decode an input",
        "transformer_task": "Task",
        "transformer_task_numbers": "English number words → digits",
        "transformer_task_zh_numbers": "Chinese numerals → digits",
        "transformer_task_copy": "copy digits",
        "transformer_method_greedy": "greedy",
        "transformer_method_beam": "beam search",
        "transformer_method_sample": "sampling",
        "transformer_kind_enc_self": "encoder self-attention",
        "transformer_kind_dec_self": "decoder self-attention (masked)",
        "transformer_kind_dec_src": "decoder–encoder attention",
        "transformer_input": "Input",
        "transformer_method": "Decoding",
        "transformer_beam": "Beam width",
        "transformer_temperature": "Temperature",
        "transformer_seed": "Seed",
        "transformer_run": "Decode",
        "transformer_examples": "Examples",
        "transformer_output": "Output",
        "transformer_steps": "Per-step token probabilities",
        "transformer_attn_h": "### Attention maps (every layer and head)",
        "transformer_kind": "Attention",
        "transformer_parts_h": "### The parts, plotted",
        "transformer_mask_size": "Subsequent mask: sequence length",
        "transformer_pe_dims": "Positional encoding: dimensions (comma-separated)",
        "transformer_pe_d": "d_model",
        "transformer_noam_d": "Noam: d_model",
        "transformer_noam_warmup": "Noam: warm-up steps",
        "transformer_ls_eps": "Label smoothing ε",
        "transformer_ls_v": "Vocabulary size V",
        "transformer_arg_task": "task", "transformer_arg_decoding": "decoding", "transformer_arg_beam": "beam width",
        "transformer_arg_temperature": "temperature", "transformer_arg_attention": "attention",
        "transformer_arg_length": "length", "transformer_arg_warmup": "warm-up", "transformer_arg_factor": "factor",
        "transformer_arg_epsilon": "epsilon", "transformer_arg_vocab": "vocabulary size",
        "transformer_msg_step": "step", "transformer_msg_token": "token", "transformer_msg_top3": "top 3",
        "transformer_msg_head": "layer {layer}, head {head}",
        "transformer_msg_too_long": "The input has {n} characters; this demo reads at most {max}.",
        "transformer_msg_unreadable": "Cannot read this input: {reason}.",
        "transformer_msg_not_phrase": "Not a number phrase: {reason}.",
        "transformer_msg_how_greedy": "greedy", "transformer_msg_how_beam": "beam search, width {beam}",
        "transformer_msg_how_sample": "sampling, T = {T:g}, seed {seed}",
        "transformer_msg_matches": " ✓ matches the grammar's reading",
        "transformer_msg_differs": " ✗ the grammar reads {value}",
        "transformer_msg_decoded": "{how}: log-probability {score:.3f}{truth}",
        "transformer_msg_empty": "(empty)",
        "transformer_msg_mask_title": "subsequent_mask({n}): row i may attend to columns j ≤ i",
        "transformer_msg_mask": "{allowed} of {cells} entries are allowed: n (n + 1) / 2 = {count}",
        "transformer_msg_bad_dim": "dimension {part} is not an integer; skipped",
        "transformer_msg_dims_shown": "showing up to 6 dimensions in [0, {top}]",
        "transformer_msg_pe_series": "dim {k} ({fn}, wavelength {wavelength:.0f})",
        "transformer_msg_pe_title": "PE(pos, dim), d_model = {d}, positions 0–99",
        "transformer_msg_pe": "Even dimensions are sines, odd ones cosines; the wavelength grows geometrically from 2π to "
                              "10000·2π.",
        "transformer_msg_noam_title": "Noam: d_model = {d}, warm-up = {w}, factor = {f:g}",
        "transformer_msg_noam": "Peak learning rate {peak:.3g} at step {w} = factor · d_model^-0.5 · warmup^-0.5",
        "transformer_msg_target": "q: {hit:.3g} on the true token (3), {each:.3g} on each other, 0 on padding (0)",
        "transformer_msg_loss_title": "loss against p(true token)", "transformer_msg_target_label": "target distribution",
        "transformer_msg_smoothing": "The loss is smallest at p(true) ≈ {best:.3f} = 1 − ε, not at 1: the model is "
                                     "penalised for over-confidence.",        "transformer_why_needs_number": "'{t}' needs a number before it",
        "transformer_why_and_first": "'and' joins two parts of a number; it cannot come first",
        "transformer_why_zero_alone": "'zero' is a number on its own; it cannot be part of a longer phrase",
        "transformer_why_a_start": "'a' can only start the phrase ('a hundred', 'a thousand')",
        "transformer_why_a_next": "'a' must be followed by 'hundred' or 'thousand'",
        "transformer_why_hundred_unit": "'hundred' takes one to nine before it, not '{t}'",
        "transformer_why_ends_after_and": "the phrase ends after 'and'",
        "transformer_why_and_after_hundred": "'and' after 'hundred' must be followed by a number below a hundred, not '{t}'",
        "transformer_why_hundred_grammar": "'hundred' takes one to nine before it; '{prev} hundred' is not in this grammar",
        "transformer_why_thousand_once": "'thousand' can appear only once (this model reads numbers below a million)",
        "transformer_why_and_after_thousand": "after 'thousand', 'and' comes only before a number below a hundred",
        "transformer_why_places_down": "'{t}' cannot follow '{prev}': the places must go down (千, 百, 十, then the units)",
        "transformer_why_cannot_follow": "'{t}' cannot follow '{prev}'",
        "transformer_why_empty": "the input is empty",
        "transformer_why_unknown_words": "unknown word{s} {words}",
        "transformer_why_unknown_chars": "unknown character{s} {chars}",
        "transformer_why_unknown_tokens": "unknown token{s} {shown}; the vocabulary is {vocab}",
        "transformer_why_too_many_tokens": "{n} tokens; this model reads at most {max}",
        "transformer_why_zero_start": "'零' cannot start a number (except 零 on its own)",
        "transformer_why_two_zeros": "two '零' in a row: one 零 stands for any run of zeros",
        "transformer_why_needs_digit_here": "'十' needs a digit before it here: write 一十",
        "transformer_why_needs_digit": "'{t}' needs a digit before it",
        "transformer_why_liang": "'两' is used only right before 百, 千 or 万; write 二 here",
        "transformer_why_cannot_come": "'{t}' cannot come here",
        "transformer_why_skipped_place": "a zero place is skipped before '{t}': write 零 there (一千零五), or add the place (一千五百); spoken shorthand like 一千五 is not accepted",
        "transformer_why_zero_no_gap": "'零' stands for a skipped place; there is none between '{prev}' and '{t}'",
        "transformer_why_zero_end": "'零' cannot end a number",
        "transformer_why_wan_once": "'万' can appear only once (this model reads numbers below 一百万)",
        "transformer_why_below_million": "this model reads numbers below 一百万: at most 九十九万 before 万",
        "transformer_why_wan_zero": "after 万, 零 comes only before a number below 一千",
        "transformer_why_wan_shorthand": "after 万, a number below 一千 needs 零 first (一万零五), or is spoken shorthand (一万五 = 一万五千) that this model does not accept",
    },
    zh={
        "transformer_title": "Transformer",
        "transformer_run_h": "### 解码一个输入",
        "transformer_task": "任务",
        "transformer_task_numbers": "英文数词 → 阿拉伯数字",
        "transformer_task_zh_numbers": "中文数字 → 阿拉伯数字",
        "transformer_task_copy": "复制数字",
        "transformer_method_greedy": "贪心解码",
        "transformer_method_beam": "束搜索",
        "transformer_method_sample": "采样",
        "transformer_kind_enc_self": "编码器自注意力",
        "transformer_kind_dec_self": "解码器自注意力（带掩码）",
        "transformer_kind_dec_src": "解码器–编码器注意力",
        "transformer_input": "输入",
        "transformer_method": "解码方式",
        "transformer_beam": "束宽",
        "transformer_temperature": "温度",
        "transformer_seed": "随机种子",
        "transformer_run": "解码",
        "transformer_examples": "示例",
        "transformer_output": "输出",
        "transformer_steps": "每一步的词元概率",
        "transformer_attn_h": "### 注意力图（每一层、每一个头）",
        "transformer_kind": "注意力",
        "transformer_parts_h": "### 各个部件的图示",
        "transformer_mask_size": "后续位置掩码：序列长度",
        "transformer_pe_dims": "位置编码：维度（用逗号分隔）",
        "transformer_pe_d": "d_model",
        "transformer_noam_d": "Noam：d_model",
        "transformer_noam_warmup": "Noam：预热步数",
        "transformer_ls_eps": "标签平滑 ε",
        "transformer_ls_v": "词表大小 V",
        "transformer_arg_task": "任务", "transformer_arg_decoding": "解码方式", "transformer_arg_beam": "束宽",
        "transformer_arg_temperature": "温度", "transformer_arg_attention": "注意力",
        "transformer_arg_length": "长度", "transformer_arg_warmup": "预热步数", "transformer_arg_factor": "系数",
        "transformer_arg_epsilon": "ε", "transformer_arg_vocab": "词表大小",
        "transformer_msg_step": "步", "transformer_msg_token": "词元", "transformer_msg_top3": "前 3 名",
        "transformer_msg_head": "第 {layer} 层，第 {head} 个头",
        "transformer_msg_too_long": "输入有 {n} 个字符；这个演示最多读取 {max} 个。",
        "transformer_msg_unreadable": "无法读取这个输入：{reason}。",
        "transformer_msg_not_phrase": "不是数词短语：{reason}。",
        "transformer_msg_how_greedy": "贪心解码", "transformer_msg_how_beam": "束搜索，束宽 {beam}",
        "transformer_msg_how_sample": "采样，T = {T:g}，随机种子 {seed}",
        "transformer_msg_matches": " ✓ 与语法解析的结果一致",
        "transformer_msg_differs": " ✗ 语法解析的结果是 {value}",
        "transformer_msg_decoded": "{how}：对数概率 {score:.3f}{truth}",
        "transformer_msg_empty": "（空）",
        "transformer_msg_mask_title": "subsequent_mask({n})：第 i 行可以关注第 j ≤ i 列",
        "transformer_msg_mask": "{cells} 个位置中有 {allowed} 个允许关注：n (n + 1) / 2 = {count}",
        "transformer_msg_bad_dim": "维度 {part} 不是整数；已跳过",
        "transformer_msg_dims_shown": "最多显示 [0, {top}] 中的 6 个维度",
        "transformer_msg_pe_series": "第 {k} 维（{fn}，波长 {wavelength:.0f}）",
        "transformer_msg_pe_title": "PE(pos, dim)，d_model = {d}，位置 0–99",
        "transformer_msg_pe": "偶数维是正弦，奇数维是余弦；波长从 2π 到 10000·2π 按几何级数增长。",
        "transformer_msg_noam_title": "Noam：d_model = {d}，预热 = {w}，系数 = {f:g}",
        "transformer_msg_noam": "学习率峰值 {peak:.3g} 出现在第 {w} 步 = 系数 · d_model^-0.5 · 预热步数^-0.5",
        "transformer_msg_target": "q：真实词元 (3) 上 {hit:.3g}，其余每个 {each:.3g}，填充 (0) 上为 0",
        "transformer_msg_loss_title": "损失随 p(真实词元) 的变化", "transformer_msg_target_label": "目标分布",
        "transformer_msg_smoothing": "损失在 p(真实) ≈ {best:.3f} = 1 − ε 处最小，而不是在 1 处：模型会因过度自信而受罚。",        "transformer_why_needs_number": "`{t}` 前面需要一个数",
        "transformer_why_and_first": "`and` 连接一个数的两部分，不能出现在开头",
        "transformer_why_zero_alone": "`zero` 本身就是一个数，不能作为更长短语的一部分",
        "transformer_why_a_start": "`a` 只能出现在短语开头（`a hundred`、`a thousand`）",
        "transformer_why_a_next": "`a` 后面必须是 `hundred` 或 `thousand`",
        "transformer_why_hundred_unit": "`hundred` 前面只能是 `one` 到 `nine`，而不是 `{t}`",
        "transformer_why_ends_after_and": "短语在 `and` 之后就结束了",
        "transformer_why_and_after_hundred": "`hundred` 之后的 `and` 后面必须是小于一百的数，而不是 `{t}`",
        "transformer_why_hundred_grammar": "`hundred` 前面只能是 `one` 到 `nine`；`{prev} hundred` 不在这套语法里",
        "transformer_why_thousand_once": "`thousand` 只能出现一次（这个模型只读一百万以下的数）",
        "transformer_why_and_after_thousand": "`thousand` 之后，`and` 只能放在小于一百的数前面",
        "transformer_why_places_down": "`{t}` 不能跟在 `{prev}` 后面：数位必须依次降低（千、百、十、个位）",
        "transformer_why_cannot_follow": "`{t}` 不能跟在 `{prev}` 后面",
        "transformer_why_empty": "输入是空的",
        "transformer_why_unknown_words": "未知的词：`{words}`",
        "transformer_why_unknown_chars": "未知的字符：`{chars}`",
        "transformer_why_unknown_tokens": "未知的词元：`{shown}`；词表是 `{vocab}`",
        "transformer_why_too_many_tokens": "输入有 {n} 个词元；这个模型最多读 {max} 个",
        "transformer_why_zero_start": "“零”不能出现在数的开头（单独一个“零”除外）",
        "transformer_why_two_zeros": "不能连着两个“零”：一个“零”就代表任意多个连续的零",
        "transformer_why_needs_digit_here": "这里的“十”前面需要一个数字：写成“一十”",
        "transformer_why_needs_digit": "`{t}` 前面需要一个数字",
        "transformer_why_liang": "“两”只用在百、千、万的前面；这里要写“二”",
        "transformer_why_cannot_come": "`{t}` 不能出现在这里",
        "transformer_why_skipped_place": "`{t}` 之前跳过了一个数位：要在那里写“零”（一千零五），或者补上数位（一千五百）；不接受“一千五”这样的口语简称",
        "transformer_why_zero_no_gap": "“零”代表被跳过的数位；`{prev}` 和 `{t}` 之间没有跳过的数位",
        "transformer_why_zero_end": "“零”不能出现在数的末尾",
        "transformer_why_wan_once": "“万”只能出现一次（这个模型只读一百万以下的数）",
        "transformer_why_below_million": "这个模型只读一百万以下的数：“万”前面最多是九十九",
        "transformer_why_wan_zero": "“万”之后，“零”只能放在小于一千的数前面",
        "transformer_why_wan_shorthand": "“万”之后，小于一千的数前面要先写“零”（一万零五）；否则就是口语简称（一万五 = 一万五千），这个模型不接受",
    },
)


# The reasons genlib's parsers (genlib.numerals, SeqTask.encode_src) give for refusing an input, as UI strings: the
# pattern reads genlib's English text, the key says the same in the request's language. Order matters (first match).
_WHY = [
    (r"'(?P<t>[^']*)' needs a number before it", "transformer_why_needs_number"),
    (r"'and' joins two parts of a number; it cannot come first", "transformer_why_and_first"),
    (r"'zero' is a number on its own; it cannot be part of a longer phrase", "transformer_why_zero_alone"),
    (r"'a' can only start the phrase \('a hundred', 'a thousand'\)", "transformer_why_a_start"),
    (r"'a' must be followed by 'hundred' or 'thousand'", "transformer_why_a_next"),
    (r"'hundred' takes one to nine before it, not '(?P<t>[^']*)'", "transformer_why_hundred_unit"),
    (r"the phrase ends after 'and'", "transformer_why_ends_after_and"),
    (r"'and' after 'hundred' must be followed by a number below a hundred, not '(?P<t>[^']*)'", "transformer_why_and_after_hundred"),
    (r"'hundred' takes one to nine before it; '(?P<prev>[^']*) hundred' is not in this grammar", "transformer_why_hundred_grammar"),
    (r"'thousand' can appear only once \(this model reads numbers below a million\)", "transformer_why_thousand_once"),
    (r"after 'thousand', 'and' comes only before a number below a hundred", "transformer_why_and_after_thousand"),
    (r"'(?P<t>[^']*)' cannot follow '(?P<prev>[^']*)': the places must go down \(千, 百, 十, then the units\)", "transformer_why_places_down"),
    (r"'(?P<t>[^']*)' cannot follow '(?P<prev>[^']*)'", "transformer_why_cannot_follow"),
    (r"the input is empty", "transformer_why_empty"),
    (r"unknown word(?P<s>s?) (?P<words>.*)", "transformer_why_unknown_words"),
    (r"unknown character(?P<s>s?) (?P<chars>.*)", "transformer_why_unknown_chars"),
    (r"unknown token(?P<s>s?) (?P<shown>.*?); the vocabulary is (?P<vocab>.*)", "transformer_why_unknown_tokens"),
    (r"(?P<n>\d+) tokens; this model reads at most (?P<max>\d+)", "transformer_why_too_many_tokens"),
    (r"'零' cannot start a number \(except 零 on its own\)", "transformer_why_zero_start"),
    (r"two '零' in a row: one 零 stands for any run of zeros", "transformer_why_two_zeros"),
    (r"'十' needs a digit before it here: write 一十", "transformer_why_needs_digit_here"),
    (r"'(?P<t>[^']*)' needs a digit before it", "transformer_why_needs_digit"),
    (r"'两' is used only right before 百, 千 or 万; write 二 here", "transformer_why_liang"),
    (r"'(?P<t>[^']*)' cannot come here", "transformer_why_cannot_come"),
    (r"a zero place is skipped before '(?P<t>[^']*)': write 零 there \(一千零五\), or add the place \(一千五百\); spoken shorthand like 一千五 is not accepted", "transformer_why_skipped_place"),
    (r"'零' stands for a skipped place; there is none between '(?P<prev>[^']*)' and '(?P<t>[^']*)'", "transformer_why_zero_no_gap"),
    (r"'零' cannot end a number", "transformer_why_zero_end"),
    (r"'万' can appear only once \(this model reads numbers below 一百万\)", "transformer_why_wan_once"),
    (r"this model reads numbers below 一百万: at most 九十九万 before 万", "transformer_why_below_million"),
    (r"after 万, 零 comes only before a number below 一千", "transformer_why_wan_zero"),
    (r"after 万, a number below 一千 needs 零 first \(一万零五\), or is spoken shorthand \(一万五 = 一万五千\) that this model does not accept", "transformer_why_wan_shorthand"),
]


def _why(err: Exception) -> str:
    """A parser's reason in the request's language (its own English text when no pattern knows it)."""
    for pattern, key in _WHY:
        if m := re.fullmatch(pattern, str(err)):
            return ui.say(key, **m.groupdict())
    return str(err)


# ---- decoding ---------------------------------------------------------------------------------------------
def _model(task: str):
    return ui.load_model(f"transformer_{task}")


def _tgt_token(spec, i: int) -> str:
    return spec.tgt_vocab[i] if i >= 3 else spec.tgt_vocab[i].replace("<", "‹").replace(">", "›")


def steps_table(spec, decoded) -> str:
    """An HTML table: step, chosen token and its probability, and the three most likely tokens."""
    rows = []
    for k, (tok, lp) in enumerate(zip(decoded.tokens, decoded.step_log_probs), start=1):
        p = lp.exp()
        top = p.topk(3)
        alts = ", ".join(f"{html.escape(_tgt_token(spec, int(i)))} {float(v):.3f}" for v, i in zip(top.values, top.indices))
        rows.append(f"<tr><td>{k}</td><td><b>{html.escape(_tgt_token(spec, tok))}</b></td><td>{float(p[tok]):.4f}</td>"
                    f"<td>{alts}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in (ui.say("transformer_msg_step"), ui.say("transformer_msg_token"), "p",
                                               ui.say("transformer_msg_top3")))
    return f'<div class="stats"><table><tr>{head}</tr>' + "".join(rows) + "</table></div>"


def attention_html(maps: dict, kind: str, src_tokens: list[str], tgt_tokens: list[str]) -> str:
    """All layers x heads of one kind of attention, as a grid of labelled heatmaps."""
    rows_lab, cols_lab = {"enc_self": (src_tokens, src_tokens), "dec_self": (tgt_tokens, tgt_tokens),
                          "dec_src": (tgt_tokens, src_tokens)}[kind]
    out = []
    for layer, w in enumerate(maps[kind]):
        heads = "".join(ui.svg.heatmap_svg(w[0, h].numpy(), rows_lab, cols_lab,
                                            ui.say("transformer_msg_head", layer=layer + 1, head=h + 1),
                                            numbers=False, cell=(14, 14))
                        for h in range(w.shape[1]))
        out.append(f'<div style="display:flex;flex-wrap:wrap;gap:10px">{heads}</div>')
    return "".join(out)


def _example_task(example: str) -> str:
    return next(task for task, items in EXAMPLES.items() if example in items)


_MODEL_LOCK = threading.Lock()  # decodes share one model per task, and the maps live on it


def decode(task="numbers", text="three hundred and twelve", method="greedy", beam=4, temperature=1.0, seed=0,
           kind="dec_src"):
    """Decode `text` -> (output markdown, per-step table html, attention html, status)."""
    c = ui.Clamped()
    task = c.choice("transformer_arg_task", task, TASKS, "numbers")
    method = c.choice("transformer_arg_decoding", method, METHODS, "greedy")
    beam = c.int("transformer_arg_beam", beam, 1, MAX_BEAM, 4)
    temperature = c.float("transformer_arg_temperature", temperature, 0.05, 5.0, 1.0)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    kind = c.choice("transformer_arg_attention", kind, KINDS, "dec_src")
    spec = data.SEQ_TASKS[task]
    text = "" if text is None else str(text)
    if len(text) > MAX_CHARS:
        return "", "", "", ui.status(c, ui.say("transformer_msg_too_long", n=len(text), max=MAX_CHARS), "warn")
    try:
        src_ids = spec.encode_src(text)
    except ValueError as err:
        return "", "", "", ui.status(c, ui.say("transformer_msg_unreadable", reason=_why(err)), "warn")
    try:  # the grammar decides whether the input is a number phrase at all; the model does the translation
        value = spec.parse(text)
    except ValueError as err:
        return "", "", "", ui.status(c, ui.say("transformer_msg_not_phrase", reason=_why(err)), "warn")
    model, msg = _model(task)
    if model is None:
        return "", "", "", ui.message(msg, "error")
    src = torch.tensor([src_ids])
    src_mask = padding_mask(src, data.PAD)
    max_len = spec.max_tgt + 2
    # One decode at a time (the model keeps the attention weights of its last pass), on one intra-op thread (tiny
    # ops: 12 ms with one thread, 467 ms with two while the other core is busy; median of 15, same run).
    with _MODEL_LOCK, ui.intra_op_threads(1):
        if method == "greedy":
            out = greedy_decode(model, src, src_mask, max_len, data.BOS, data.EOS)
        elif method == "beam":
            out = beam_search(model, src, src_mask, max_len, data.BOS, data.EOS, width=beam)
        else:
            out = sample_decode(model, src, src_mask, max_len, data.BOS, data.EOS, temperature=temperature, seed=seed)
        # one teacher-forced pass over the decoded output fills every layer's attention weights
        tgt = torch.tensor([[data.BOS] + out.tokens])
        with torch.no_grad():
            model(src, tgt, src_mask, target_mask(tgt, data.PAD))
        maps = model.attention_maps()  # read under the lock: the next pass replaces them
    result = spec.decode_tgt(out.tokens)
    src_tokens = spec.tokenize(text) + ["‹eos›"]
    tgt_tokens = ["‹bos›"] + [_tgt_token(spec, t) for t in out.tokens]
    how = ui.say(f"transformer_msg_how_{method}", beam=beam, T=temperature, seed=seed)
    truth = ""
    if value is not None:
        truth = (ui.say("transformer_msg_matches") if result == str(value)
                 else ui.say("transformer_msg_differs", value=value))
    status = ui.status(c, ui.say("transformer_msg_decoded", how=how, score=out.score, truth=truth))
    return (f"**{html.escape(result) or ui.say('transformer_msg_empty')}**", steps_table(spec, out),
            attention_html(maps, kind, src_tokens, tgt_tokens), status)


# ---- the parts, plotted --------------------------------------------------------------------------------------
def mask_view(size=8):
    c = ui.Clamped()
    n = c.int("transformer_arg_length", size, 1, 32, 8)
    m = subsequent_mask(n)[0].float().numpy()
    labels = [str(i) for i in range(n)]
    svg = ui.svg.heatmap_svg(m, labels, labels, ui.say("transformer_msg_mask_title", n=n), numbers=False, cell=(14, 14))
    return svg, ui.status(c, ui.say("transformer_msg_mask", allowed=int(m.sum()), cells=n * n, count=n * (n + 1) // 2))


def _parse_dims(dims, d_model: int, c: ui.Clamped) -> list[int]:
    out = []
    for part in str(dims or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            c.messages.append(ui.say("transformer_msg_bad_dim", part=repr(part)))
    kept = [d for d in out if 0 <= d < d_model][:6]
    if len(kept) < len([d for d in out if 0 <= d < d_model]) or len(kept) < len(out):
        c.messages.append(ui.say("transformer_msg_dims_shown", top=d_model - 1))
    return kept or [d for d in (4, 5, 8, 9) if d < d_model] or list(range(min(4, d_model)))  # the default, when it fits


def posenc_view(dims="4, 5, 8, 9", d_model=64):
    c = ui.Clamped()
    d = c.int("d_model", d_model, 4, 512, 64)
    d -= d % 2
    chosen = _parse_dims(dims, d, c)
    pe = positional_encoding(100, d).numpy()
    series = {ui.say("transformer_msg_pe_series", k=k, fn="sin" if k % 2 == 0 else "cos",
                     wavelength=2 * math.pi * 10000 ** ((k - k % 2) / d)): pe[:, k] for k in chosen}
    return (ui.svg.lines_svg(series, np.arange(100), ui.say("transformer_msg_pe_title", d=d)),
            ui.status(c, ui.say("transformer_msg_pe")))


def noam_view(d_model=512, warmup=4000, factor=1.0):
    c = ui.Clamped()
    d = c.int("d_model", d_model, 8, 4096, 512)
    w = c.int("transformer_arg_warmup", warmup, 1, 100_000, 4000)
    f = c.float("transformer_arg_factor", factor, 0.01, 10.0, 1.0)
    steps = np.arange(1, max(4 * w, 2000) + 1)
    lr = np.array([rate(int(s), d, f, w) for s in steps])
    peak = rate(w, d, f, w)
    return (ui.svg.lines_svg({"lr": lr}, steps, ui.say("transformer_msg_noam_title", d=d, w=w, f=f), marker=w - 1),
            ui.status(c, ui.say("transformer_msg_noam", peak=peak, w=w)))


def smoothing_view(eps=0.1, vocab=13):
    """The target distribution for one token, and the loss KL(q || p) against the probability p of the true
    token when the rest of p is spread evenly."""
    c = ui.Clamped()
    e = c.float("transformer_arg_epsilon", eps, 0.0, 0.99, 0.1)
    V = c.int("transformer_arg_vocab", vocab, 3, 100, 13)
    q = LabelSmoothing(V, padding_idx=0, smoothing=e).target_distribution(torch.tensor([3]))[0].numpy()
    bars = "".join(f'<rect x="{10 + i * 300 / V:.1f}" y="{130 - 110 * v:.1f}" width="{300 / V - 2:.1f}" height="{110 * v:.1f}" '
                   f'fill="{"#2563eb" if i == 3 else "#93c5fd"}"><title>token {i}: {v:.4f}</title></rect>' for i, v in enumerate(q))
    bar_svg = (f'<svg viewBox="0 0 320 150" width="100%" style="max-width:320px" role="img" aria-label="{ui.say("transformer_msg_target_label")}">'
               f'<text x="10" y="12" font-size="11">{ui.say("transformer_msg_target", hit=1 - e, each=e / (V - 2))}</text>'
               f'{bars}<line x1="8" y1="130" x2="312" y2="130" stroke="#111827"/></svg>')
    p_true = np.linspace(0.01, 0.999, 200)
    others = (1 - p_true) / (V - 2)  # the rest spread over the V - 2 non-padding tokens

    def kl(p, rest):
        out = np.where(q[3] > 0, q[3] * (np.log(np.maximum(q[3], 1e-30)) - np.log(p)), 0.0)
        if e > 0:
            out = out + (V - 2) * (e / (V - 2)) * (np.log(e / (V - 2)) - np.log(rest))
        return out

    curve = ui.svg.lines_svg({f"KL(q || p), ε = {e:g}": kl(p_true, others)}, p_true, ui.say("transformer_msg_loss_title"))
    best = p_true[np.argmin(kl(p_true, others))]
    return bar_svg + curve, ui.status(c, ui.say("transformer_msg_smoothing", best=best))


# ---- layout ---------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("transformer_run_h"))
        with gr.Row():
            task = gr.Radio(ui.choices("transformer_task", TASK_CHOICES), value="numbers", label=ui.t("transformer_task"))
            method = gr.Radio(ui.choices("transformer_method", METHODS), value="greedy", label=ui.t("transformer_method"))
        text = gr.Textbox(EXAMPLES["numbers"][0], label=ui.t("transformer_input"), max_lines=2, elem_id="transformer-input")
        example = gr.Dropdown(EXAMPLES["numbers"] + EXAMPLES["zh_numbers"] + EXAMPLES["copy"], label=ui.t("transformer_examples"), value=None)
        with gr.Row():
            beam = gr.Slider(1, MAX_BEAM, value=4, step=1, label=ui.t("transformer_beam"))
            temperature = gr.Slider(0.05, 5.0, value=1.0, step=0.05, label=ui.t("transformer_temperature"))
            seed = gr.Number(0, precision=0, label=ui.t("transformer_seed"))
        run = gr.Button(ui.t("transformer_run"), variant="primary", elem_id="transformer-run")
        ui.share_link(TAB_ID, {"task": task, "text": text, "method": method, "beam": beam, "temperature": temperature,
                               "seed": seed}, primary=run)
        output = gr.Markdown(elem_id="transformer-output")
        status = gr.Markdown()
        steps = gr.HTML(elem_id="transformer-steps")
        gr.Markdown(ui.t("transformer_attn_h"))
        kind = gr.Radio(ui.choices("transformer_kind", KINDS), value="dec_src", label=ui.t("transformer_kind"))
        attn = gr.HTML(elem_id="transformer-attn")

        gr.Markdown(ui.t("transformer_parts_h"))
        size = gr.Slider(1, 32, value=8, step=1, label=ui.t("transformer_mask_size"))
        mask_html, mask_status = gr.HTML(), gr.Markdown()
        with gr.Row():
            dims = gr.Textbox("4, 5, 8, 9", label=ui.t("transformer_pe_dims"))
            pe_d = gr.Slider(4, 512, value=64, step=2, label=ui.t("transformer_pe_d"))
        pe_html, pe_status = gr.HTML(), gr.Markdown()
        with gr.Row():
            noam_d = gr.Slider(8, 4096, value=512, step=8, label=ui.t("transformer_noam_d"))
            noam_w = gr.Slider(1, 20000, value=4000, step=1, label=ui.t("transformer_noam_warmup"))
        noam_html, noam_status = gr.HTML(), gr.Markdown()
        with gr.Row():
            ls_eps = gr.Slider(0.0, 0.9, value=0.1, step=0.01, label=ui.t("transformer_ls_eps"))
            ls_v = gr.Slider(3, 100, value=13, step=1, label=ui.t("transformer_ls_v"))
        ls_html, ls_status = gr.HTML(), gr.Markdown()

    inputs = [task, text, method, beam, temperature, seed, kind]
    outputs = [output, steps, attn, status]
    run.click(decode, inputs, outputs, api_name="transformer_decode", **ui.QUICK_MODEL)
    text.submit(decode, inputs, outputs, api_visibility="private", **ui.QUICK_MODEL)
    kind.change(decode, inputs, outputs, api_visibility="private", show_progress="hidden")
    example.change(lambda e: (e, _example_task(e)) if e else (gr.skip(), gr.skip()),
                   example, [text, task], api_visibility="private").then(decode, inputs, outputs, api_visibility="private")
    # the plots: drawn on page load and whenever one of their controls changes
    gr.on(None, mask_view, size, [mask_html, mask_status], api_name="transformer_mask", show_progress="hidden",
          trigger_mode="always_last")
    gr.on(None, posenc_view, [dims, pe_d], [pe_html, pe_status], api_name="transformer_posenc", show_progress="hidden",
          trigger_mode="always_last")
    gr.on(None, noam_view, [noam_d, noam_w], [noam_html, noam_status], api_name="transformer_noam",
          show_progress="hidden", trigger_mode="always_last")
    gr.on(None, smoothing_view, [ls_eps, ls_v], [ls_html, ls_status], api_name="transformer_smoothing",
          show_progress="hidden", trigger_mode="always_last")
    return note
