"""One Chinese vocabulary across the notes and the UI, one notation table reachable from every note.

notes/glossary.json names one Chinese word per term and the variants to avoid. The zh UI strings are read from
the source of demos/ (every `add_strings(..., zh={...})` call), so this test needs neither Gradio nor a server.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "notes"
GLOSSARY = json.loads((NOTES / "glossary.json").read_text(encoding="utf-8"))["terms"]
TABS = sorted(p.stem for p in (NOTES / "en").glob("*.md") if p.stem != "notation")
ZH_NOTES = sorted((NOTES / "zh").glob("*.md"))
# Names and symbols that stay as they are in the Chinese UI.
ALLOWED_LATIN = {"CFM", "DDIM", "Heun", "DDPM", "EMA", "MNIST", "Noam", "ODE", "SDE", "PixelCNN", "PixelSNAIL", "Transformer",
                 "CondOT", "VP", "softmax", "bits", "dim", "QK", "L_simple", "d_k", "d_v", "d_model", "x_t", "x_0",
                 "AUC", "ROC", "Fashion", "Friedman", "Nemenyi", "McNemar", "Hub",
                 # names, abbreviations and notation in the status lines (issue 19)
                 "RealNVP", "Glow", "FFJORD", "ReLU", "Sobel", "logits", "GD", "SGD", "LDA", "QR", "SVD", "Novikoff",
                 "lstsq", "NaN", "RGB", "TPR", "FPR", "CD", "PE", "pos", "sin", "cos", "log", "ln", "max", "diag", "cost",
                 "VAE", "GAN", "AE", "DCGAN", "LSGAN", "ELBO", "KL", "FID", "IS", "CPU", "nan", "inf", "Wasserstein",
                 "RNN", "GRU", "LSTM"}
ALLOWED_LATIN |= {"SimCLR", "PCA", "NT", "Xent"}  # the SimCLR tab: the method's name and its loss
ALLOWED_LATIN |= {"E_q"}  # the VAE tab: the expectation under q(z | x) in its ELBO terms


def _prose(text: str) -> str:
    """Text outside code blocks, inline code, math, HTML comments and link targets."""
    pattern = r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\\\(.*?\\\)|<!--.*?-->|\]\([^)]*\)"
    return re.sub(pattern, " ", text, flags=re.DOTALL)


def _without_code_and_fields(text: str) -> str:
    """A UI string without `code` spans, {field} placeholders (filled with numbers, names or the caller's input) and
    symbols with a subscript (x_t, S_w, ℓ_rank, F_β) or a capital index (a1…aN): notation, not words."""
    return re.sub(r"`[^`]*`|\w*_(?:\w+|\{[^{}]*\})|\{[A-Za-z_][A-Za-z0-9_]*(?:[:!][^{}]*)?\}|\b[a-z][A-Z]\b", " ", text)


def english_words(text: str) -> set[str]:
    """The English words left in a piece of zh UI text: Latin words outside code, placeholders, symbols and
    ALLOWED_LATIN. For text built at run time also outside HTML tags and entities and outside '...' (a Python repr
    of the caller's input or of an API value, echoed so the caller can see what was refused)."""
    text = re.sub(r"<[^>]*>|&#?\w+;|'[^'\n]*'", " ", text)
    return set(re.findall(r"[A-Za-z][A-Za-z_]+", _without_code_and_fields(text))) - ALLOWED_LATIN


def zh_ui_strings() -> dict[tuple[str, str], str]:
    """{(file, key): zh text} for every add_strings call under demos/."""
    out = {}
    for path in sorted((ROOT / "demos").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name != "add_strings":
                continue
            zh = [kw.value for kw in node.keywords if kw.arg == "zh"] + node.args[1:2]
            for value in zh:  # literal entries; a **{...} built at import time is checked at run time (tests/demos/test_ui.py)
                pairs = zip(value.keys, value.values) if isinstance(value, ast.Dict) else []
                for key, text in pairs:
                    if isinstance(key, ast.Constant) and isinstance(text, ast.Constant):
                        out[(path.relative_to(ROOT).as_posix(), key.value)] = text.value
    return out


def test_glossary_is_well_formed():
    zh = [t["zh"] for t in GLOSSARY]
    assert len(zh) == len(set(zh)), "one Chinese word per term"
    for term in GLOSSARY:
        assert term["en"] and term["zh"] and term["avoid"]
        assert all(variant not in preferred for variant in term["avoid"] for preferred in zh), term  # no self-conflict


@pytest.mark.parametrize("path", ZH_NOTES, ids=lambda p: p.name)
def test_zh_notes_use_the_glossary_terms(path):
    text = _prose(path.read_text(encoding="utf-8"))
    for term in GLOSSARY:
        for variant in term["avoid"]:
            assert variant not in text, f"{path.name}: {variant!r} -> use {term['zh']!r} ({term['en']})"


def test_zh_ui_strings_use_the_glossary_terms():
    strings = zh_ui_strings()
    assert len(strings) > 50  # the scan found the tabs' strings
    for (file, key), text in strings.items():
        for term in GLOSSARY:
            for variant in term["avoid"]:
                assert variant not in text, f"{file} {key}: {variant!r} -> use {term['zh']!r} ({term['en']})"


def test_every_glossary_term_is_used():
    corpus = "".join(p.read_text(encoding="utf-8") for p in ZH_NOTES) + "".join(zh_ui_strings().values())
    unused = [t["zh"] for t in GLOSSARY if t["zh"] not in corpus]
    assert not unused, f"glossary terms used nowhere: {unused}"


@pytest.mark.parametrize("path", ZH_NOTES, ids=lambda p: p.name)
def test_zh_notes_use_chinese_quotes(path):
    text = _prose(path.read_text(encoding="utf-8"))
    assert '"' not in text and "「" not in text and "」" not in text
    assert text.count("“") == text.count("”")


def test_zh_ui_strings_use_chinese_quotes_and_no_english():
    for (file, key), text in zh_ui_strings().items():
        assert '"' not in text and "「" not in text, f"{file} {key}"
        latin = set(re.findall(r"[A-Za-z][A-Za-z_]+", _without_code_and_fields(text)))
        assert latin <= ALLOWED_LATIN, f"{file} {key}: English left in the zh UI: {sorted(latin - ALLOWED_LATIN)}"


# ---- server-built text: every sentence a callback shows comes from ui.say (issue 19) ----------------------------
# Where text reaches the page: (function name, index of the text argument, its keyword). Clamped's int/float/choice/
# flag take the control's name first (a UI string key, or a symbol such as t or d_k); c.messages.append adds a
# clamping message directly.
TEXT_SINKS = {"status": (1, "text"), "message": (0, "text"), "stream": (2, "head"), "Info": (0, "message"),
              "Warning": (0, "message"), "Error": (0, "message"), "int": (0, "name"), "float": (0, "name"),
              "choice": (0, "name"), "flag": (0, "name")}


STRING_METHODS = {"join", "format", "escape", "replace", "strip", "rstrip", "lstrip", "capitalize", "upper", "lower"}


def _literals(node: ast.AST, assigned: dict[str, list[ast.AST]], seen: set[str]):
    """The string literals an expression builds text from: constants and f-string parts, through +, string methods
    (joins, format), conditionals, containers, subscripted tables and local variables; not inside ui.say(...) (a
    registered UI string) nor inside other calls (their result is data: a model name, a key, a loaded message)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.Name) and node.id in assigned and node.id not in seen:
        seen.add(node.id)
        for value in assigned[node.id]:
            yield from _literals(value, assigned, seen)
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in STRING_METHODS:
            for child in [node.func.value, *node.args]:
                yield from _literals(child, assigned, seen)
    elif isinstance(node, ast.Lambda):  # stream(..., where=lambda step: ...)
        yield from _literals(node.body, assigned, seen)
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body, assigned, seen)
        yield from _literals(node.orelse, assigned, seen)
    elif isinstance(node, ast.Subscript):
        yield from _literals(node.value, assigned, seen)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _literals(value, assigned, seen)
    elif isinstance(node, (ast.JoinedStr, ast.FormattedValue, ast.BinOp, ast.BoolOp, ast.List, ast.Tuple, ast.Set,
                           ast.Starred, ast.ListComp, ast.GeneratorExp)):
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.comprehension):
                yield from _literals(child, assigned, seen)


def _sink_arguments(tree: ast.AST):
    """(call, text argument, the enclosing function's local assignments) for every call that puts text on the page.
    A function's name stands for what it returns (stream's where= takes a function)."""
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    returns = {f.name: [r.value for r in ast.walk(f) if isinstance(r, ast.Return) and r.value is not None]
               for f in functions}
    for fn in functions:
        assigned: dict[str, list[ast.AST]] = {name: list(values) for name, values in returns.items()}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                assigned.setdefault(node.target.id, []).append(node.value)
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            is_append = (name == "append" and isinstance(node.func, ast.Attribute)
                         and getattr(node.func.value, "attr", None) == "messages")
            if is_append:
                args = node.args[:1]
            elif name in TEXT_SINKS and (name not in ("int", "float") or isinstance(node.func, ast.Attribute)):
                index, keyword = TEXT_SINKS[name]
                args = node.args[index:index + 1] + [k.value for k in node.keywords if k.arg == keyword]
                if name == "stream":
                    args += [k.value for k in node.keywords if k.arg == "where"]
            else:
                continue
            for arg in args:
                yield node, arg, assigned


def english_text_in_callbacks(path: Path) -> list[str]:
    out = []
    for call, arg, assigned in _sink_arguments(ast.parse(path.read_text(encoding="utf-8"))):
        for lit in _literals(arg, assigned, set()):
            if words := english_words(lit.value):
                out.append(f"{path.relative_to(ROOT).as_posix()}:{lit.lineno}: {lit.value!r} ({sorted(words)})")
    return sorted(set(out))


DEMO_FILES = sorted((ROOT / "demos").rglob("*.py"))


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.relative_to(ROOT / "demos").as_posix())
def test_callbacks_build_their_text_with_ui_say(path):
    """No English sentence is written into a status line, a message, a clamping note or a streamed head: the text
    comes from ui.say (a UI string in both languages). Covers every tab module, new ones included."""
    found = english_text_in_callbacks(path)
    assert not found, "server-built text not from ui.say:\n" + "\n".join(found)


def test_the_scan_finds_english_text_passed_to_the_page(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(c, n):\n"
        "    n = c.int('number of images', n, 1, 5, 2)\n"
        "    text = f'{n} images' + (' done' if n else '')\n"
        "    c.messages.append(f'showing {n} rows')\n"
        "    yield from ui.stream(steps, render, f'seed {n}', c, where=lambda s: f'row {s.t}')\n"
        "    gr.Warning('Nothing drawn')\n"
        "    return ui.status(c, text), ui.message(ui.say('ui_msg_nothing_drawn'), 'warn'), c.int('t', n, 0, 1, 0)\n",
        encoding="utf-8")
    words = " ".join(f"{lit.value!r}" for _, arg, assigned in _sink_arguments(ast.parse(bad.read_text(encoding="utf-8")))
                     for lit in _literals(arg, assigned, set()) if english_words(lit.value))
    for expected in ("number of images", "images", "done", "showing", "seed", "row", "Nothing drawn"):
        assert expected in words, expected
    assert "ui_msg_nothing_drawn" not in words and "'t'" not in words and "warn" not in words


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("tab", TABS)
def test_every_note_links_to_the_notation_table(tab, lang):
    assert "](notation.md)" in (NOTES / lang / f"{tab}.md").read_text(encoding="utf-8")


def test_notation_table_has_the_same_shape_in_both_languages():
    text = {lang: (NOTES / lang / "notation.md").read_text(encoding="utf-8") for lang in ("en", "zh")}
    headings = {lang: re.findall(r"^(#{1,6}) ", t, flags=re.MULTILINE) for lang, t in text.items()}
    rows = {lang: len(re.findall(r"^\|", t, flags=re.MULTILINE)) for lang, t in text.items()}
    assert headings["en"] == headings["zh"] and rows["en"] == rows["zh"]
    assert text["en"].count("\\(") == text["zh"].count("\\(") == text["zh"].count("\\)")
    for symbol in ["\\alpha_t", "\\beta_t", "\\bar\\alpha_t", "\\sigma_t", "\\eta", "\\tilde\\beta_t"]:
        assert symbol in text["en"] and symbol in text["zh"]
    assert "arXiv:" in text["en"][text["en"].rfind("\n## "):]
