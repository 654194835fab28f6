"""Answer parsers that accept what people really type on a phone.

Decisions, so that prompts and parsers agree:
- "?" alone asks for help; it is never "don't know" (a confused respondent
  should get an explanation, not a recorded answer).
- "0" is an ordinary number: it is a valid scale value only when the scale
  starts at 0. Don't know is said in words ("vet ikke", "dont know", "dk").
- Digits from any script count: "٥", "۵", "５", "5️⃣" and Ethiopic "፭" all
  mean 5 (Ethiopic numerals have no zero and are not positional: "፲" is 10
  on its own, which only counts as a single digit's value here).
- Arabic-script letters are folded to one form (أ/إ/آ -> ا, ی/ى -> ي,
  ک -> ك, ة -> ه, no tashkeel or tatweel), so Persian and Arabic keyboards
  and careless spelling match the same words.
"""
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from flows import words
from flows.model import DONT_KNOW
from flows.model import AnswerValue
from flows.model import Question
from flows.model import QuestionType

MAX_TEXT = 1000

# Keycap emoji are a digit followed by these marks: "5\ufe0f\u20e3".
_KEYCAP_MARKS = {"\ufe0f": "", "\u20e3": ""}
# Arabic-script separators that NFKC leaves alone.
_ARABIC_PUNCTUATION = {"\u066b": ".", "\u066c": "", "\u060c": ",", "\u061b": ";"}
_APOSTROPHES = "'\u2018\u2019\u02bc`\u00b4"
# Letter variants of the Arabic script that people type interchangeably.
_ARABIC_LETTERS = str.maketrans({
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",
    "\u06cc": "\u064a", "\u0649": "\u064a", "\u06a9": "\u0643", "\u0629": "\u0647", "\u06c0": "\u0647",
    "\u0640": None,
})
_TASHKEEL = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
# Modifiers that ride on an emoji: variation selectors and skin tones.
_EMOJI_MODIFIERS = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")
_INTEGER = re.compile(r"[^\w+-]*([+-]?\d{1,9})[^\w]*")
_NUMBER = re.compile(r"[^\w+-]*([+-]?\d{1,9}(?:[.,]\d{1,9})?)[^\w]*")
_MIN_PREFIX = 2  # one letter is too easy to type by accident


@dataclass(frozen=True)
class Parsed:
    """Either a value (ok) or the key of a hint explaining what we expected."""

    ok: bool
    value: AnswerValue = None
    hint: str | None = None


def ok(value: AnswerValue) -> Parsed:
    """A valid answer."""
    return Parsed(True, value)


def invalid(hint: str) -> Parsed:
    """An answer we could not read; `hint` names the explanation to show."""
    return Parsed(False, None, hint)


def ascii_digits(text: str) -> str:
    """NFKC-normalise and turn every decimal digit, in any script, into 0-9."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        ch = _KEYCAP_MARKS.get(ch, _ARABIC_PUNCTUATION.get(ch, ch))
        digit = _digit(ch) if ch else None
        out.append(str(digit) if digit is not None else ch)
    return "".join(out)


def _digit(ch: str) -> int | None:
    # digit() also covers Ethiopic ፩-፱, which are digits but not decimals.
    value = unicodedata.decimal(ch, None)
    return value if value is not None else unicodedata.digit(ch, None)


def fold(text: str) -> str:
    """Lower-case words with punctuation gone, for matching against words.py."""
    text = ascii_digits(text).casefold()
    text = _TASHKEEL.sub("", text.translate(_ARABIC_LETTERS))
    text = "".join("" if ch in _APOSTROPHES else ch for ch in text)
    text = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text)
    return " ".join(text.split())


def plain(text: str) -> str:
    """fold() without accents, so "Tigrinja" matches "tigrínja"."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=None)
def vocabulary(table_name: str, language: str | None = None) -> frozenset:
    """The folded words of one words.py table: of `language` only, or of every language."""
    table = getattr(words, table_name)
    listed = table.get(language, ()) if language else words.everywhere(table)
    return frozenset(fold(w) for w in listed)


def is_stop(text: str) -> bool:
    """The whole message is an opt-out word, in any language."""
    return fold(text) in vocabulary("STOP")


def is_help(text: str) -> bool:
    """The whole message asks for help: a help word or question marks alone."""
    stripped = unicodedata.normalize("NFKC", text).strip()
    if stripped and set(stripped) <= {"?", "\u061f"}:
        return True
    return fold(text) in vocabulary("HELP")


def is_language_keyword(text: str) -> bool:
    """The whole message asks for the language menu: SPRÅK, LANGUAGE, /language, ..."""
    folded = fold(text.split("@")[0])  # Telegram adds the bot's name in groups: /language@SvarBot
    return folded in vocabulary("LANGUAGE")


def is_skip(text: str, language: str) -> bool:
    """The message skips an optional question: a skip word or a lone dash."""
    stripped = unicodedata.normalize("NFKC", text).strip()
    if stripped and set(stripped) <= set("-\u2010\u2011\u2012\u2013\u2014\u2212"):
        return True
    return fold(text) in vocabulary("SKIP")


def is_dont_know(text: str, language: str) -> bool:
    """The message says "don't know" in some language."""
    return fold(text) in vocabulary("DONT_KNOW")


def emoji_only(text: str) -> bool:
    """The message holds symbols (emoji) and nothing a parser could read."""
    stripped = "".join(text.split())
    return bool(stripped) and not fold(text) and any(unicodedata.category(ch) == "So" for ch in stripped)


def allows_dont_know(question: Question) -> bool:
    """Scales carry their own don't-know switch; other questions carry it themselves."""
    if question.type == QuestionType.SCALE and question.scale is not None:
        return question.scale.dont_know
    return question.dont_know


def parse(question: Question, text: str, language: str) -> Parsed:
    """Read `text` as an answer to `question` in `language`."""
    if question.optional and is_skip(text, language):
        return ok(None)
    if allows_dont_know(question) and is_dont_know(text, language):
        return ok(DONT_KNOW)
    return _PARSERS[question.type](question, text, language)


def parse_integer(text: str) -> int | None:
    """An integer with stray punctuation around it ("5.", "5!", "(5)"), else None."""
    match = _INTEGER.fullmatch(ascii_digits(text))
    return int(match.group(1)) if match else None


def parse_number(text: str) -> int | float | None:
    """A number with a decimal comma or point ("3,5"), else None."""
    match = _NUMBER.fullmatch(ascii_digits(text))
    if not match:
        return None
    literal = match.group(1).replace(",", ".")
    return float(literal) if "." in literal else int(literal)


def _scale(question: Question, text: str, language: str) -> Parsed:
    value = parse_integer(text)
    scale = question.scale
    if value is None or not scale.min <= value <= scale.max:
        return invalid("scale")
    return ok(value)


def _choice(question: Question, text: str, language: str) -> Parsed:
    choice_id = _one_choice(question, text, language)
    return ok(choice_id) if choice_id else invalid("choice")


def _one_choice(question: Question, text: str, language: str) -> str | None:
    number = parse_integer(text)
    if number is not None:
        return question.choices[number - 1].id if 1 <= number <= len(question.choices) else None
    typed = plain(text)
    if not typed:
        return None
    labels = [(c.id, plain(c.label.get(language, ""))) for c in question.choices]
    exact = [cid for cid, label in labels if label == typed]
    if exact:
        return exact[0]
    prefixed = [cid for cid, label in labels if label.startswith(typed)]
    return prefixed[0] if len(prefixed) == 1 and len(typed) >= _MIN_PREFIX else None


def _multi(question: Question, text: str, language: str) -> Parsed:
    joiners = vocabulary("AND")
    tokens = [t for t in fold(text).split() if t not in joiners]
    picked = set()
    for token in tokens:
        if not token.isdigit() or not 1 <= int(token) <= len(question.choices):
            # Maybe one choice typed as its label, which may contain spaces.
            single = _one_choice(question, text, language)
            return ok([single]) if single else invalid("multi")
        picked.add(question.choices[int(token) - 1].id)
    if not picked:
        return invalid("multi")
    # Store in the survey's order so equal answers compare equal.
    return ok([c.id for c in question.choices if c.id in picked])


def _yesno(question: Question, text: str, language: str) -> Parsed:
    folded = fold(text)
    # The respondent's own language decides first: one language's yes may be another's no.
    for scope in (language, None):
        if folded in vocabulary("YES", scope):
            return ok("yes")
        if folded in vocabulary("NO", scope):
            return ok("no")
    bare = _EMOJI_MODIFIERS.sub("", "".join(text.split()))
    if bare and bare in words.EMOJI_YES:
        return ok("yes")
    if bare and bare in words.EMOJI_NO:
        return ok("no")
    return invalid("yesno")


def _number(question: Question, text: str, language: str) -> Parsed:
    value = parse_number(text)
    if value is None:
        return invalid("number")
    low = question.min if question.min is not None else float("-inf")
    high = question.max if question.max is not None else float("inf")
    return ok(value) if low <= value <= high else invalid("number")


def _text(question: Question, text: str, language: str) -> Parsed:
    trimmed = text.strip()
    # Long comments are cut, not refused: a respondent should never be trapped.
    return ok(trimmed[:MAX_TEXT]) if trimmed else invalid("text")


_PARSERS = {
    QuestionType.SCALE: _scale,
    QuestionType.CHOICE: _choice,
    QuestionType.MULTI: _multi,
    QuestionType.YESNO: _yesno,
    QuestionType.NUMBER: _number,
    QuestionType.TEXT: _text,
}
