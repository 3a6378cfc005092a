"""Number phrases for the Transformer's translation tasks: English number words and Chinese numerals, 0 to 999,999.

For each language there are three pieces, and they are written independently of one another:

- a *generator* that writes a number as a phrase in one of several accepted forms;
- a *parser* that decides whether a phrase is in the language and, if it is, which number it names, and otherwise
  says in one sentence what is wrong ("'thousand' needs a number before it");
- the *shape* of a number: which of its digits are zero (and, in English, whether a tens digit is 1, since the
  teens are single words). Training and held-out sets are stratified by shape, so a shape that uniform sampling of
  0-999,999 almost never draws (exact thousands, "one hundred thousand and thirteen", 三十万零五) is seen as often as
  any other.

The parser is an oracle for tests and a gate for the tab (it refuses what is not a number phrase); the model still
does the translation.

English forms. British English puts "and" before the last part below a hundred ("three hundred and twelve
thousand and five"); American English leaves it out ("three hundred twelve thousand five"). Both are accepted,
and so is any mix of the two, since people type both. "a hundred" / "a thousand" are accepted at the start of a
phrase in place of "one hundred" / "one thousand" ("a hundred and twenty thousand" = 120000). Not accepted:
"twelve hundred" (1200), "zero" inside a longer phrase, "and" after "thousand" before hundreds.

Chinese forms. The standard reading (一千零一, 三十万零五, 一万零一十五): one 零 for any run of zeros between two
non-zero digits, none at the end; 两 or 二 for a 2 directly before 百, 千 or 万 (两百 = 二百 = 200, 两万 = 20000);
十五 or 一十五 when a number (or its count of 万) starts with a ten, but 一十 after 百, 千, 万 or 零 (一百一十,
一万零一十五). Not accepted: the spoken shorthand 一万五 (15000) or 三千五 (3500), 两 anywhere else (两十), and
numbers of a million or more.
"""
from __future__ import annotations

import numpy as np

# ---- English ---------------------------------------------------------------------------------------------------
UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORDS = tuple(sorted(set(UNITS) | set(TENS[2:]) | {"hundred", "thousand", "and", "a"}))  # the source vocabulary
FORMS = ("british", "american", "mixed")  # where "and" goes: every slot, no slot, a coin per slot


def _group_words(n: int, ands: list[bool]) -> list[str]:
    """Words for 1 <= n <= 999; `ands` is consumed (one entry) when "hundred" is followed by more words."""
    words = []
    if n >= 100:
        words += [UNITS[n // 100], "hundred"]
        n %= 100
        if n and ands.pop(0):
            words.append("and")
    if n >= 20:
        words.append(TENS[n // 10])
        if n % 10:
            words.append(UNITS[n % 10])
    elif n:
        words.append(UNITS[n])
    return words


def and_slots(n: int) -> int:
    """How many places may take "and" in the phrase for n (0, 1 or 2)."""
    t, r = divmod(n, 1000)
    slots = int(t >= 100 and t % 100 != 0)
    if t == 0:
        return slots + int(r >= 100 and r % 100 != 0)
    return slots + int(r != 0 and (r < 100 or r % 100 != 0))


def number_to_words(n: int, ands: list[bool] | None = None, a: bool = False) -> str:
    """English words for 0 <= n < 10^6. `ands`: for each "and" slot (see and_slots), whether it gets "and"
    (default: all of them, the British form). `a`: start with "a" instead of "one" before hundred/thousand.

    312045 -> 'three hundred and twelve thousand and forty five'; with ands=[False, False]:
    'three hundred twelve thousand forty five'; 100013 with a=True: 'a hundred thousand and thirteen'."""
    if not 0 <= n < 1_000_000:
        raise ValueError("numbers from 0 to 999999")
    if n == 0:
        return "zero"
    ands = [True] * and_slots(n) if ands is None else list(ands)
    if len(ands) != and_slots(n):
        raise ValueError(f"{n} has {and_slots(n)} 'and' slots, got {len(ands)} flags")
    t, r = divmod(n, 1000)
    words = []
    if t:
        words = _group_words(t, ands) + ["thousand"]
        if r and r < 100 and ands.pop(0):
            words.append("and")
    if r:
        words += _group_words(r, ands)
    if a:
        if not starts_with_one(n):
            raise ValueError(f"{n} does not start with 'one hundred' or 'one thousand'")
        words[0] = "a"
    return " ".join(words)


def starts_with_one(n: int) -> bool:
    """Whether the phrase for n starts 'one hundred ...' or 'one thousand ...' (so 'a' may replace 'one')."""
    t, r = divmod(n, 1000)
    lead = t if t else r
    return lead == 1 and t > 0 or 100 <= lead < 200


def tokenize_words(text: str) -> list[str]:
    return str(text).strip().lower().replace("-", " ").replace(",", " ").split()


class NotANumber(ValueError):
    """The input is not a phrase of the language; the message says why."""


_UNIT_VALUE = {w: i for i, w in enumerate(UNITS)}
_TENS_VALUE = {w: 10 * i for i, w in enumerate(TENS) if w}


def _below_hundred(tokens: list[str], pos: int) -> tuple[int, int]:
    """1-99 at tokens[pos]: 'seven', 'thirteen', 'forty', 'forty five'. Returns (value, next position)."""
    t = tokens[pos]
    if t in _TENS_VALUE:
        value, pos = _TENS_VALUE[t], pos + 1
        if pos < len(tokens) and tokens[pos] in _UNIT_VALUE and 1 <= _UNIT_VALUE[tokens[pos]] <= 9:
            value, pos = value + _UNIT_VALUE[tokens[pos]], pos + 1
        return value, pos
    return _UNIT_VALUE[t], pos + 1


def _group(tokens: list[str], pos: int) -> tuple[int, int]:
    """1-999 at tokens[pos] ('a' only at the very start). Returns (value, next position)."""
    t = tokens[pos]
    nxt = tokens[pos + 1] if pos + 1 < len(tokens) else None
    if t in ("hundred", "thousand"):
        raise NotANumber(f"'{t}' needs a number before it")
    if t == "and":
        raise NotANumber("'and' joins two parts of a number; it cannot come first" if pos == 0 else
                         f"'and' cannot follow '{tokens[pos - 1]}'")
    if t == "zero":
        raise NotANumber("'zero' is a number on its own; it cannot be part of a longer phrase")
    if t == "a":
        if pos != 0:
            raise NotANumber("'a' can only start the phrase ('a hundred', 'a thousand')")
        if nxt == "thousand":
            return 1, pos + 1
        if nxt != "hundred":
            raise NotANumber("'a' must be followed by 'hundred' or 'thousand'")
        hundreds = 1
    elif nxt == "hundred":
        if not 1 <= _UNIT_VALUE.get(t, 0) <= 9:
            raise NotANumber(f"'hundred' takes one to nine before it, not '{t}'")
        hundreds = _UNIT_VALUE[t]
    else:
        return _below_hundred(tokens, pos)
    pos += 2  # past "<digit> hundred"
    if pos < len(tokens) and tokens[pos] == "and":
        pos += 1
        if pos == len(tokens):
            raise NotANumber("the phrase ends after 'and'")
        if tokens[pos] not in _UNIT_VALUE and tokens[pos] not in _TENS_VALUE or tokens[pos] == "zero":
            raise NotANumber(f"'and' after 'hundred' must be followed by a number below a hundred, not '{tokens[pos]}'")
        rest, pos = _below_hundred(tokens, pos)
        return 100 * hundreds + rest, pos
    if pos < len(tokens) and tokens[pos] != "zero" and (tokens[pos] in _UNIT_VALUE or tokens[pos] in _TENS_VALUE):
        rest, pos = _below_hundred(tokens, pos)
        return 100 * hundreds + rest, pos
    return 100 * hundreds, pos


def _trailing(tokens: list[str], pos: int) -> NotANumber:
    t, prev = tokens[pos], tokens[pos - 1]
    if t == "hundred":
        return NotANumber(f"'hundred' takes one to nine before it; '{prev} hundred' is not in this grammar")
    if t == "thousand":
        return NotANumber("'thousand' can appear only once (this model reads numbers below a million)")
    if t == "zero":
        return NotANumber("'zero' is a number on its own; it cannot be part of a longer phrase")
    if t == "a":
        return NotANumber("'a' can only start the phrase ('a hundred', 'a thousand')")
    return NotANumber(f"'{t}' cannot follow '{prev}'")


def parse_words(text: str) -> int:
    """The number an English phrase names; NotANumber with the reason when it is not a number phrase."""
    tokens = tokenize_words(text)
    if not tokens:
        raise NotANumber("the input is empty")
    unknown = sorted({t for t in tokens if t not in WORDS})
    if unknown:
        raise NotANumber("unknown word" + ("s " if len(unknown) > 1 else " ") + ", ".join(repr(t) for t in unknown[:5]))
    if tokens == ["zero"]:
        return 0
    value, pos = _group(tokens, 0)
    if pos < len(tokens) and tokens[pos] == "thousand":
        thousands, pos = value, pos + 1
        if pos == len(tokens):
            return 1000 * thousands
        joined = tokens[pos] == "and"
        pos += joined
        if pos == len(tokens):
            raise NotANumber("the phrase ends after 'and'")
        if tokens[pos] in ("a", "thousand", "zero"):
            raise _trailing(tokens, pos)
        rest, pos = _group(tokens, pos)
        if joined and rest >= 100:
            raise NotANumber("after 'thousand', 'and' comes only before a number below a hundred")
        value = 1000 * thousands + rest
    if pos < len(tokens):
        raise _trailing(tokens, pos)
    return value


# ---- Chinese ---------------------------------------------------------------------------------------------------
ZH_DIGITS = "零一二三四五六七八九"
ZH_CHARS = tuple("零一二两三四五六七八九十百千万")  # the source vocabulary
_ZH_PLACE = {"千": 1000, "百": 100, "十": 10}


def _zh_section(n: int, liang: bool, yi_shi: bool, leading: bool) -> str:
    """1 <= n <= 9999 in the standard reading. leading: the section starts the number (十五 may drop its 一)."""
    out, zero = [], False
    for place, char in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // place % 10
        if d == 0:
            zero = zero or bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        if place == 10 and d == 1 and not out and leading and not yi_shi:
            out.append("十")
            continue
        out.append(("两" if liang and d == 2 and place >= 100 else ZH_DIGITS[d]) + char)
    return "".join(out)


def number_to_chinese(n: int, liang: bool = False, yi_shi: bool = False) -> str:
    """Chinese numerals for 0 <= n < 10^6. liang: 两 for a 2 right before 百, 千 or 万; yi_shi: 一十 at the start.

    300005 -> '三十万零五'; 1001 -> '一千零一'; 15 -> '十五' (yi_shi: '一十五'); 200 -> '二百' (liang: '两百')."""
    if not 0 <= n < 1_000_000:
        raise ValueError("numbers from 0 to 999999")
    if n == 0:
        return "零"
    w, r = divmod(n, 10_000)
    if not w:
        return _zh_section(r, liang, yi_shi, leading=True)
    head = ("两" if liang and w == 2 else _zh_section(w, liang, yi_shi, leading=True)) + "万"
    if not r:
        return head
    return head + ("" if r >= 1000 else "零") + _zh_section(r, liang, yi_shi, leading=False)


def tokenize_chinese(text: str) -> list[str]:
    return [c for c in str(text) if not c.isspace() and c not in ",，、"]


def _zh_parse_section(s: list[str], leading: bool) -> int:
    """1-9999 written with 千百十 and 零 (leading: the section starts the number, so 十五 may drop its 一)."""
    value, last_place, pending_zero, prev, pos = 0, 10_000, False, "", 0
    while pos < len(s):
        c = s[pos]
        if c == "零":
            if not prev:
                raise NotANumber("'零' cannot start a number (except 零 on its own)")
            if pending_zero:
                raise NotANumber("two '零' in a row: one 零 stands for any run of zeros")
            pending_zero, pos = True, pos + 1
            continue
        if c in ("百", "千"):
            raise NotANumber(f"'{c}' needs a digit before it")
        if c == "十":
            if prev or not leading:
                raise NotANumber("'十' needs a digit before it here: write 一十")
            digit, place, token, pos = 1, 10, c, pos + 1
        elif c in ZH_DIGITS or c == "两":
            digit = 2 if c == "两" else ZH_DIGITS.index(c)
            nxt = s[pos + 1] if pos + 1 < len(s) else ""
            place, token, pos = (_ZH_PLACE[nxt], c + nxt, pos + 2) if nxt in _ZH_PLACE else (1, c, pos + 1)
            if c == "两" and place < 100:
                raise NotANumber("'两' is used only right before 百, 千 or 万; write 二 here")
        else:
            raise NotANumber(f"'{c}' cannot come here")
        if place >= last_place:
            raise NotANumber(f"'{token}' cannot follow '{prev}': the places must go down (千, 百, 十, then the units)")
        gap = bool(prev) and last_place // place > 10
        if gap and not pending_zero:
            raise NotANumber(f"a zero place is skipped before '{token}': write 零 there (一千零五), or add the place "
                             "(一千五百); spoken shorthand like 一千五 is not accepted")
        if pending_zero and not gap:
            raise NotANumber(f"'零' stands for a skipped place; there is none between '{prev}' and '{token}'")
        value, last_place, pending_zero, prev = value + digit * place, place, False, token
    if pending_zero:
        raise NotANumber("'零' cannot end a number")
    if not prev:
        raise NotANumber("the input is empty")
    return value


def parse_chinese(text: str) -> int:
    """The number a Chinese numeral names; NotANumber with the reason when it is not one."""
    chars = tokenize_chinese(text)
    if not chars:
        raise NotANumber("the input is empty")
    unknown = sorted({c for c in chars if c not in ZH_CHARS})
    if unknown:
        raise NotANumber("unknown character" + ("s " if len(unknown) > 1 else " ") + ", ".join(repr(c) for c in unknown[:5]))
    if chars == ["零"]:
        return 0
    if chars.count("万") > 1:
        raise NotANumber("'万' can appear only once (this model reads numbers below 一百万)")
    if "万" not in chars:
        return _zh_parse_section(chars, leading=True)
    k = chars.index("万")
    left, right = chars[:k], chars[k + 1:]
    if not left:
        raise NotANumber("'万' needs a number before it")
    w = 2 if left == ["两"] else _zh_parse_section(left, leading=True)
    if w >= 100:
        raise NotANumber("this model reads numbers below 一百万: at most 九十九万 before 万")
    if not right:
        return 10_000 * w
    if right[0] == "零":
        if len(right) == 1:
            raise NotANumber("'零' cannot end a number")
        if right[1] == "零":
            raise NotANumber("two '零' in a row: one 零 stands for any run of zeros")
        r = _zh_parse_section(right[1:], leading=False)
        if r >= 1000:
            raise NotANumber("after 万, 零 comes only before a number below 一千")
        return 10_000 * w + r
    r = _zh_parse_section(right, leading=False)
    if r < 1000:
        raise NotANumber("after 万, a number below 一千 needs 零 first (一万零五), or is spoken shorthand "
                         "(一万五 = 一万五千) that this model does not accept")
    return 10_000 * w + r


# ---- shapes and stratified sampling ------------------------------------------------------------------------------
def _en_group_shape(g: int) -> str:
    """A 3-digit group as hundreds/tens/units: '0' zero, 'x' non-zero, '1' a tens digit of 1 (a teen word, any unit)."""
    h, t, u = g // 100, g // 10 % 10, g % 10
    return ("x" if h else "0") + ("1?" if t == 1 else ("x" if t else "0") + ("x" if u else "0"))


EN_GROUPS = ("000", "00x", "01?", "0x0", "0xx", "x00", "x0x", "x1?", "xx0", "xxx")
EN_ROWS = ("—",) + EN_GROUPS[1:]  # the thousands group: none (n < 1000) or one of the 9 non-zero shapes
ZH_ROWS = ("—", "0x", "x0", "xx")  # the count of 万 (0-99): none, or which of its two digits are zero
ZH_COLS = tuple(f"{m:04b}".replace("1", "x") for m in range(16))  # the last four digits, 0000 ... xxxx


def shape(task: str, n: int) -> tuple[str, str]:
    """(row, column) of n in the task's shape table."""
    if task == "numbers":
        t, r = divmod(n, 1000)
        return ("—" if t == 0 else _en_group_shape(t)), _en_group_shape(r)
    w, r = divmod(n, 10_000)
    row = "—" if w == 0 else ("x" if w // 10 else "0") + ("x" if w % 10 else "0")
    return row, "".join("x" if c != "0" else "0" for c in f"{r:04d}")


def shapes(task: str) -> list[tuple[str, str]]:
    """Every shape of the task (100 for English, 64 for Chinese)."""
    if task == "numbers":
        return [(a, b) for a in EN_ROWS for b in EN_GROUPS]
    return [(a, b) for a in ZH_ROWS for b in ZH_COLS]


def _digit_for(rng: np.random.Generator, code: str) -> int:
    return 0 if code == "0" else int(rng.integers(1, 10))


def _en_group(rng: np.random.Generator, s: str) -> int:
    h = _digit_for(rng, s[0])
    if s[1] == "1":
        return 100 * h + 10 + int(rng.integers(0, 10))
    tens = 0 if s[1] == "0" else int(rng.integers(2, 10))  # 2-9: a tens digit of 1 is the shape '1?'
    return 100 * h + 10 * tens + _digit_for(rng, s[2])


def sample_of_shape(task: str, s: tuple[str, str], rng: np.random.Generator) -> int:
    """A uniformly random number of shape s."""
    row, col = s
    if task == "numbers":
        return (0 if row == "—" else 1000 * _en_group(rng, row)) + _en_group(rng, col)
    w = 0 if row == "—" else 10 * _digit_for(rng, row[0]) + _digit_for(rng, row[1])
    return 10_000 * w + sum(10 ** (3 - i) * _digit_for(rng, c) for i, c in enumerate(col))


def _split(group: str) -> list[str]:
    """'x1?' -> ['x', '1?'], 'xx0' -> ['x', 'tx', '0']: the digit codes of an English group shape (a non-zero
    tens digit other than 1, 'tx', has 8 values)."""
    return [group[0], "1?"] if group[1] == "1" else [group[0], "t" + group[1] if group[1] == "x" else "0", group[2]]


def shape_size(task: str, s: tuple[str, str]) -> int:
    """How many numbers have shape s."""
    count = {"0": 1, "x": 9, "tx": 8, "1?": 10}
    row, col = s
    codes = ([] if row == "—" else _split(row) if task == "numbers" else list(row))
    codes += _split(col) if task == "numbers" else list(col)
    return int(np.prod([count[c] for c in codes]))


def phrase(task: str, n: int, rng: np.random.Generator) -> str:
    """n written in a random accepted form: English "and" placement (British / American / mixed) and "a" for a
    leading "one" (half the time where possible); Chinese 两 or 二 and 十 or 一十 (half the time each)."""
    if task == "numbers":
        form = FORMS[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]
        k = and_slots(n)
        ands = [form == "british" or form == "mixed" and bool(rng.integers(2)) for _ in range(k)]
        return number_to_words(n, ands, a=starts_with_one(n) and bool(rng.integers(2)))
    return number_to_chinese(n, liang=bool(rng.integers(2)), yi_shi=bool(rng.integers(2)))


def parse(task: str, text: str) -> int:
    return parse_words(text) if task == "numbers" else parse_chinese(text)


def stratified_numbers(task: str, n: int, rng: np.random.Generator, uniform: float = 0.0) -> list[int]:
    """n numbers: a fraction `uniform` uniform over the digit count 1-6 (as the old task drew them), the rest with
    the shape uniform over shapes(task), so that rare shapes are drawn as often as common ones."""
    table = shapes(task)
    out = []
    for _ in range(n):
        if rng.random() < uniform:
            digits = int(rng.integers(1, 7))
            out.append(int(rng.integers(0 if digits == 1 else 10 ** (digits - 1), 10**digits)))
        else:
            out.append(sample_of_shape(task, table[int(rng.integers(len(table)))], rng))
    return out


_INDEX: dict[str, dict[tuple[str, str], np.ndarray]] = {}


def shape_index(task: str) -> dict[tuple[str, str], np.ndarray]:
    """shape -> every number 0-999,999 of that shape (computed once per task, about a second)."""
    if task not in _INDEX:
        groups: dict[tuple[str, str], list[int]] = {s: [] for s in shapes(task)}
        for n in range(1_000_000):
            groups[shape(task, n)].append(n)
        _INDEX[task] = {s: np.array(v) for s, v in groups.items()}
    return _INDEX[task]


def heldout_quota(task: str, n: int) -> dict[tuple[str, str], int]:
    """How many held-out numbers each shape gets: an equal share, except that a shape with fewer numbers than its
    share gives all it has and the rest is shared among the larger shapes."""
    order = sorted(shapes(task), key=lambda s: shape_size(task, s))
    quota, left = {}, n
    for i, s in enumerate(order):
        quota[s] = min(shape_size(task, s), left // (len(order) - i))
        left -= quota[s]
    return quota


def held_out_for_real(task: str, s: tuple[str, str], n: int) -> bool:
    """Whether a shape's held-out numbers are kept out of training: only when the held-out share is at most a quarter
    of the shape, so that training still sees three numbers in four of it. Smaller shapes (all of 1-9, 100000,
    200000, ...) are too small to hold anything out; their held-out numbers are also training numbers."""
    return heldout_quota(task, n)[s] * 4 <= shape_size(task, s)


def heldout_numbers(task: str, n: int, rng: np.random.Generator) -> list[int]:
    """n distinct numbers, stratified by shape (heldout_quota), in a fixed order."""
    index, out = shape_index(task), []
    for s, q in heldout_quota(task, n).items():
        out += [int(v) for v in rng.choice(index[s], size=q, replace=False)]
    return sorted(out, key=lambda v: (shapes(task).index(shape(task, v)), v))
