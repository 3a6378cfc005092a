"""Every tab has an English and a Chinese note with the same structure, live code and tested equations."""
from __future__ import annotations

import importlib
import re

import pytest

from demos import TABS
from genlib import notes

TAB_IDS = [tab.TAB_ID for tab in TABS]


@pytest.mark.parametrize("tab", TAB_IDS)
def test_both_languages_have_the_same_sections_and_equations(tab):
    assert notes.sections(tab, "en") == notes.sections(tab, "zh")
    assert notes.key_equation_tests(tab, "en") == notes.key_equation_tests(tab, "zh")
    raw = {lang: (notes.NOTES_DIR / lang / f"{tab}.md").read_text() for lang in notes.LANGS}
    assert notes.CODE_MARKER.findall(raw["en"]) == notes.CODE_MARKER.findall(raw["zh"])
    assert raw["en"].count("$$") == raw["zh"].count("$$") and raw["en"].count("\\(") == raw["zh"].count("\\(")


@pytest.mark.parametrize("tab", TAB_IDS)
def test_every_key_equation_has_an_existing_test(tab):
    listed = notes.key_equation_tests(tab, "en")
    assert len(listed) >= 5
    for path, name in listed:
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, name, None)), f"{path}::{name} is named in the note but does not exist"


@pytest.mark.parametrize("tab", TAB_IDS)
@pytest.mark.parametrize("lang", notes.LANGS)
def test_code_is_included_live_and_math_is_safe(tab, lang):
    text = notes.load(tab, lang)
    assert "<!-- code:" not in text
    raw = (notes.NOTES_DIR / lang / f"{tab}.md").read_text(encoding="utf-8")
    for dotted in notes.CODE_MARKER.findall(raw):  # every include shows the object's current source
        assert notes.code_block(dotted) in text
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    prose = re.sub(r"`[^`]*`", "", prose)
    assert not re.search(r"(^|[^$\\])\$[^$ ][^$]*[^$ ]\$([^$]|$)", prose, flags=re.MULTILINE), "single-dollar math"
    assert prose.count("$$") % 2 == 0 and prose.count("\\(") == prose.count("\\)")
    tail = text[text.rfind("\n## "):]
    assert "arXiv:" in tail  # the note ends with its primary sources


def test_code_block_is_the_current_source():
    from genlib.diffusion import GaussianDiffusion
    import inspect

    block = notes.code_block("genlib.diffusion.GaussianDiffusion.q_sample")
    assert inspect.getsource(GaussianDiffusion.q_sample).strip().splitlines()[0].strip() in block
    assert block.startswith("`genlib/diffusion.py`, line ")


@pytest.mark.parametrize("header,lang", [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9", "en"), ("zh-TW", "zh"),
                                         ("fr-FR,zh;q=0.5", "zh"), ("", "en"), (None, "en"), ("de", "en")])
def test_language_choice(header, lang):
    assert notes.language_from_header(header) == lang


@pytest.mark.parametrize("lang", notes.LANGS)
def test_notation_links_point_at_the_pages_notation_panel(lang):
    """Every note links to the notation table; in the app that is the #notation panel, not a file."""
    raw = {tab: (notes.NOTES_DIR / lang / f"{tab}.md").read_text(encoding="utf-8") for tab in TAB_IDS}
    for tab, text in raw.items():
        rendered = notes.load(tab, lang)
        assert "](notation.md" not in rendered
        assert rendered.count("](#notation)") == len(notes.NOTATION_LINK.findall(text)) >= 1, tab
    assert notes.load(notes.NOTATION, lang).startswith("# ")
