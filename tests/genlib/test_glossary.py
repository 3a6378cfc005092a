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
                 "AUC", "ROC", "Fashion", "Friedman", "Nemenyi", "McNemar", "Hub"}


def _prose(text: str) -> str:
    """Text outside code blocks, inline code, math, HTML comments and link targets."""
    pattern = r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\\\(.*?\\\)|<!--.*?-->|\]\([^)]*\)"
    return re.sub(pattern, " ", text, flags=re.DOTALL)


def _without_code_and_fields(text: str) -> str:
    """A UI string without `code` spans and {field} placeholders (filled with numbers, names or the caller's input)."""
    return re.sub(r"`[^`]*`|\{[A-Za-z_][A-Za-z0-9_]*(?:[:!][^{}]*)?\}", " ", text)


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
            for value in zh:
                for key, text in ast.literal_eval(value).items():
                    out[(path.relative_to(ROOT).as_posix(), key)] = text
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
