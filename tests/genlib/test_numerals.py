"""genlib.numerals: the phrase generators and the parsers agree on every number 0-999,999 (each written
independently of the other), the parsers refuse what is not a number phrase with a reason, and the shape
stratification covers every shape."""
from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from genlib import data
from genlib import numerals as N


# ---- English ------------------------------------------------------------------------------------------------
def _english_forms(n: int) -> set[str]:
    out = set()
    for ands in itertools.product([True, False], repeat=N.and_slots(n)):
        out.add(N.number_to_words(n, list(ands)))
        if N.starts_with_one(n):
            out.add(N.number_to_words(n, list(ands), a=True))
    return out


def test_english_round_trip_every_number():
    for n in range(1_000_000):
        k = N.and_slots(n)
        assert N.parse_words(N.number_to_words(n)) == n  # British: every "and"
        if k:
            assert N.parse_words(N.number_to_words(n, [False] * k)) == n  # American: none
        if N.starts_with_one(n):
            assert N.parse_words(N.number_to_words(n, a=True)) == n
    for n in range(0, 1_000_000, 7):  # every mix of "and" and "a"
        for phrase in _english_forms(n):
            assert N.parse_words(phrase) == n, phrase


@pytest.mark.parametrize("n,phrase", [
    (0, "zero"), (13, "thirteen"), (101, "one hundred and one"), (1005, "one thousand and five"),
    (2300, "two thousand three hundred"), (312045, "three hundred and twelve thousand and forty five"),
    (120000, "one hundred and twenty thousand"), (100013, "one hundred thousand and thirteen"),
    (300030, "three hundred thousand and thirty"), (999999, "nine hundred and ninety nine thousand nine hundred and ninety nine"),
])
def test_english_examples(n, phrase):
    assert N.number_to_words(n) == phrase and N.parse_words(phrase) == n


@pytest.mark.parametrize("phrase,n", [
    ("a hundred", 100), ("a thousand", 1000), ("a hundred and twenty thousand", 120000), ("A thousand and one", 1001),
    ("one hundred twenty thousand", 120000), ("three hundred twelve thousand forty-five", 312045),
    ("one hundred and five thousand two hundred six", 105206), ("twenty-one thousand, four hundred and fifty", 21450),
])
def test_english_accepted_forms(phrase, n):
    assert N.parse_words(phrase) == n


@pytest.mark.parametrize("phrase,reason", [
    ("thousand", "'thousand' needs a number before it"), ("hundred", "'hundred' needs a number before it"),
    ("and", "'and' joins two parts of a number; it cannot come first"), ("", "the input is empty"),
    ("thousand and five", "'thousand' needs a number before it"),
    ("twelve hundred", "'hundred' takes one to nine before it, not 'twelve'"),
    ("five thousand thousand", "'thousand' can appear only once"), ("five five", "'five' cannot follow 'five'"),
    ("one hundred and", "the phrase ends after 'and'"), ("zero five", "'zero' is a number on its own"),
    ("five zero", "'zero' is a number on its own"), ("a five", "'a' must be followed by 'hundred' or 'thousand'"),
    ("five thousand a hundred", "'a' can only start the phrase"),
    ("one thousand and two hundred", "after 'thousand', 'and' comes only before a number below a hundred"),
    ("twenty hundred", "'hundred' takes one to nine before it"), ("one hundred and thousand", "must be followed by a number below a hundred"),
    ("a dozen", "unknown word 'dozen'"), ("forty twenty", "'twenty' cannot follow 'forty'"),
])
def test_english_refusals(phrase, reason):
    with pytest.raises(N.NotANumber, match=reason.replace("(", r"\(").replace(")", r"\)")):
        N.parse_words(phrase)


def test_english_parser_accepts_only_generated_forms():
    """Random and mutated word strings: whatever the parser accepts is one of the generator's forms of its value."""
    rng, words = random.Random(0), sorted(N.WORDS)
    accepted = 0
    for _ in range(40_000):
        if rng.random() < 0.5:
            tokens = [rng.choice(words) for _ in range(rng.randint(1, 6))]
        else:
            tokens = rng.choice(sorted(_english_forms(rng.randrange(1_000_000)))).split()
            j = rng.randrange(len(tokens))
            [tokens.pop, lambda j: tokens.insert(j, rng.choice(words)), lambda j: tokens.__setitem__(j, rng.choice(words))][rng.randrange(3)](j)
        phrase = " ".join(tokens)
        try:
            n = N.parse_words(phrase)
        except N.NotANumber:
            continue
        accepted += 1
        assert phrase in _english_forms(n)
    assert accepted > 1000


# ---- Chinese ------------------------------------------------------------------------------------------------
def _chinese_forms(n: int) -> set[str]:
    return {N.number_to_chinese(n, liang, yi_shi) for liang in (False, True) for yi_shi in (False, True)}


def test_chinese_round_trip_every_number():
    for n in range(1_000_000):
        assert N.parse_chinese(N.number_to_chinese(n)) == n
        assert N.parse_chinese(N.number_to_chinese(n, liang=True, yi_shi=True)) == n
    for n in range(0, 1_000_000, 7):
        for phrase in _chinese_forms(n):
            assert N.parse_chinese(phrase) == n, phrase


@pytest.mark.parametrize("n,plain,other", [
    (0, "零", "零"), (15, "十五", "一十五"), (200, "二百", "两百"), (1001, "一千零一", "一千零一"),
    (110, "一百一十", "一百一十"), (1010, "一千零一十", "一千零一十"), (10015, "一万零一十五", "一万零一十五"),
    (300005, "三十万零五", "三十万零五"), (20000, "二万", "两万"), (150000, "十五万", "一十五万"),
    (222222, "二十二万二千二百二十二", "二十二万两千两百二十二"), (100100, "十万零一百", "一十万零一百"),
    (999999, "九十九万九千九百九十九", "九十九万九千九百九十九"), (105000, "十万五千", "一十万五千"),
])
def test_chinese_examples(n, plain, other):
    assert N.number_to_chinese(n) == plain and N.number_to_chinese(n, liang=True, yi_shi=True) == other
    assert N.parse_chinese(plain) == N.parse_chinese(other) == n


@pytest.mark.parametrize("phrase,reason", [
    ("万", "'万' needs a number before it"), ("一万五", "a number below 一千 needs 零 first"),
    ("一千五", "spoken shorthand"), ("两十", "'两' is used only right before 百, 千 or 万"), ("两", "'两' is used only"),
    ("零五", "'零' cannot start a number"), ("五零", "'零' cannot end a number"), ("一百十", "write 一十"),
    ("一万零十五", "write 一十"), ("一百万", "below 一百万"), ("一千零零五", "two '零' in a row"),
    ("一千零五十零", "'零' cannot end"), ("一百零二十", None), ("三万五百", "needs 零 first"), ("一万零一千", "below 一千"),
    ("百", "'百' needs a digit before it"), ("五五", "'五' cannot follow '五'"), ("一百一千", "places must go down"),
    ("一万一万", "'万' can appear only once"), ("三十万零", "'零' cannot end"), ("七", None), ("abc", "unknown character"),
])
def test_chinese_refusals(phrase, reason):
    if reason is None:  # accepted after all: 一百零二十 is not a form, but 七 is
        if phrase == "七":
            assert N.parse_chinese(phrase) == 7
        else:
            with pytest.raises(N.NotANumber, match="there is none"):
                N.parse_chinese(phrase)
        return
    with pytest.raises(N.NotANumber, match=reason):
        N.parse_chinese(phrase)


def test_chinese_parser_accepts_only_generated_forms():
    rng, chars = random.Random(1), list(N.ZH_CHARS)
    accepted = 0
    for _ in range(40_000):
        if rng.random() < 0.5:
            s = [rng.choice(chars) for _ in range(rng.randint(1, 8))]
        else:
            s = list(rng.choice(sorted(_chinese_forms(rng.randrange(1_000_000)))))
            j = rng.randrange(len(s))
            [s.pop, lambda j: s.insert(j, rng.choice(chars)), lambda j: s.__setitem__(j, rng.choice(chars))][rng.randrange(3)](j)
        phrase = "".join(s)
        try:
            n = N.parse_chinese(phrase)
        except N.NotANumber:
            continue
        accepted += 1
        # 两 may stand for any 2 right before 百/千/万, independently of the others
        assert phrase.replace("两", "二") in {f.replace("两", "二") for f in _chinese_forms(n)}
    assert accepted > 1000


# ---- shapes ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task,count", [("numbers", 100), ("zh_numbers", 64)])
def test_shapes_partition_the_numbers(task, count):
    index = N.shape_index(task)
    assert len(N.shapes(task)) == count == len(index)
    assert sum(len(v) for v in index.values()) == 1_000_000
    for s in N.shapes(task):
        assert len(index[s]) == N.shape_size(task, s)


@pytest.mark.parametrize("task", ["numbers", "zh_numbers"])
def test_stratification_covers_every_shape(task):
    rng = np.random.default_rng(0)
    for s in N.shapes(task):
        assert all(N.shape(task, N.sample_of_shape(task, s, rng)) == s for _ in range(30))
    drawn = {N.shape(task, v) for v in N.stratified_numbers(task, 30 * len(N.shapes(task)), rng, uniform=0.25)}
    assert drawn == set(N.shapes(task))
    held = N.heldout_numbers(task, 10_000, np.random.default_rng(1))
    assert len(held) == len(set(held)) == 10_000
    counts = {s: 0 for s in N.shapes(task)}
    for v in held:
        counts[N.shape(task, v)] += 1
    assert counts == N.heldout_quota(task, 10_000) and min(counts.values()) >= 1


def test_english_shapes_of_the_reported_failures():
    assert N.shape("numbers", 120000) == ("xx0", "000") and N.shape("numbers", 100013) == ("x00", "01?")
    assert N.shape("numbers", 300030) == ("x00", "0x0") and N.shape("numbers", 113013) == ("x1?", "01?")
    assert N.shape("numbers", 7) == ("—", "00x") and N.shape("zh_numbers", 300005) == ("x0", "000x")


@pytest.mark.parametrize("task", ["numbers", "zh_numbers"])
def test_training_set_skips_held_out_numbers_and_mixes_forms(task):
    test = data.seq_dataset(task, 10_000, seed=12345, heldout=True)
    skip = data.heldout_exclusion(task, test)
    train = data.seq_dataset(task, 5000, seed=0, exclude=skip)
    assert skip and not skip & {t for _, t in train}
    assert all(data.SEQ_TASKS[task].parse(s) == int(t) for s, t in train + test)
    sources = " ".join(s for s, _ in train)
    if task == "numbers":
        assert any(s.startswith("a ") for s, _ in train) and " and " in sources
        assert any(N.and_slots(int(t)) and " and " not in s for s, t in train)  # American forms
    else:
        assert "两" in sources and any(s.startswith("一十") for s, _ in train) and any(s.startswith("十") for s, _ in train)


# ---- the note's reading of the trained models' attention (notes/<lang>/transformer.md, section 11) -------------
def _last_layer_reading(task: str, text: str) -> tuple[str, list[list[str]]]:
    """The greedy output and, for each digit written, the source token each head of the last decoder-encoder
    attention layer weights most."""
    import torch

    from genlib import hub
    from genlib.transformer import greedy_decode, padding_mask, target_mask

    spec, model = data.SEQ_TASKS[task], hub.load(f"transformer_{task}")
    src = torch.tensor([spec.encode_src(text)])
    mask = padding_mask(src, data.PAD)
    out = greedy_decode(model, src, mask, spec.max_tgt + 2, data.BOS, data.EOS)
    with torch.no_grad():
        tgt = torch.tensor([[data.BOS] + out.tokens])
        model(src, tgt, mask, target_mask(tgt, data.PAD))
    w = model.attention_maps()["dec_src"][-1][0]  # (h, T, S): row i is the query that writes output token i
    tokens = spec.tokenize(text) + ["<eos>"]
    digits = spec.decode_tgt(out.tokens)
    return digits, [[tokens[int(w[h, i].argmax())] for h in range(w.shape[0])] for i in range(len(digits))]


def test_the_notes_attention_readings():
    digits, looks = _last_layer_reading("zh_numbers", "三十一万二千零四十五")
    assert digits == "312045" and looks == [[c] * 4 for c in "三一二零四五"]
    digits, looks = _last_layer_reading("zh_numbers", "三十万零五")
    assert digits == "300005" and looks[1] == ["十"] * 4 and looks[2] == ["零"] * 4 and looks[5] == ["五"] * 4
    digits, looks = _last_layer_reading("numbers", "three hundred and twelve thousand and forty five")
    assert digits == "312045"
    assert looks[0] == ["three"] * 4 and looks[2] == ["twelve"] * 4 and set(looks[1]) == {"twelve", "hundred"}
    assert looks[3].count("thousand") == 3 and looks[4] == ["forty"] * 4 and looks[5] == ["five"] * 4
    digits, looks = _last_layer_reading("numbers", "one hundred thousand and thirteen")
    assert digits == "100013" and looks[1] == ["hundred"] * 4
    assert all(sum(t in ("hundred", "thousand") for t in looks[i]) >= 3 for i in (2, 3))
    assert looks[5] == ["thirteen"] * 4 and looks[4].count("thirteen") == 2
