"""Text normaliser applied to both reference and hypothesis before computing WER.

Why: reference transcripts come from many sources (punctuated test expectations, lowercase
audiobook prompts, "ten" vs "10"), and Whisper-style ASR writes digits, capitals and
punctuation freely. Scoring those surface differences as word errors would measure formatting,
not recognition, so both sides go through the same rules, applied in this order:

1. Unicode NFKC; curly apostrophes (’ ‘ ʼ) become ``'``.
2. Lowercase.
3. Thousands separators inside digit groups are dropped ("1,000" → "1000").
4. ``%`` becomes the word "percent" (so "10%" → "ten percent").
5. Ordinals written with digits and a suffix 1st/2nd/3rd/4th…, 0..999999, are spelled out
   ("1st" → "first", "21st" → "twenty first"); ordinals already in words ("twentieth") stay.
6. Decimals are spelled digit by digit after "point" ("3.5" → "three point five").
7. Integers 0..999999 are spelled out without "and" ("105" → "one hundred five",
   "2024" → "two thousand twenty four"); larger numbers are left as digits.
8. Hyphens and dashes (- ‐ ‑ – —) become spaces ("twenty-one" → "twenty one").
9. Every other character that is not a letter, digit, apostrophe or whitespace becomes a space
   (punctuation, brackets, quotes, ♪, underscores).
10. An apostrophe is kept only between two word characters ("don't", "o'clock"); leading or
    trailing apostrophes (quotes, "dogs'") are removed.
11. Whitespace is collapsed to single spaces and trimmed.

Contractions are left as they are ("don't" stays "don't", not "do not"): both the references
used here and Whisper write them contracted, and expanding them is ambiguous ("he'd").

:func:`strip_caption_markup` removes SDH display markup (sound tags, speaker labels, HTML-like
tags) from caption text *before* normalising, so a caption's words can be compared with a plain
transcript.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_text", "number_to_words", "ordinal_to_words", "strip_caption_markup"]

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth",
    "eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}
MAX_SPELLED = 999_999


def _below_thousand(n: int) -> list[str]:
    """Words for 1..999 (no "and", as in US usage and Whisper's training text)."""
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens])
        if ones:
            words.append(_ONES[ones])
    elif rest:
        words.append(_ONES[rest])
    return words


def number_to_words(n: int) -> str:
    """Spell out an integer 0..999999 in words, e.g. 2024 → "two thousand twenty four"."""
    if not 0 <= n <= MAX_SPELLED:
        raise ValueError(f"only 0..{MAX_SPELLED} are spelled out, got {n}")
    if n == 0:
        return "zero"
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += _below_thousand(thousands) + ["thousand"]
    if rest:
        words += _below_thousand(rest)
    return " ".join(words)


def ordinal_to_words(n: int) -> str:
    """Spell out an ordinal 0..999999, e.g. 21 → "twenty first", 100 → "one hundredth"."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_INTEGER = re.compile(r"\b\d+\b")
_DASHES = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014\u2015]")
_OTHER = re.compile(r"[^\w\s']|_")
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_SPACES = re.compile(r"\s+")


def _spell_int(match: re.Match[str]) -> str:
    value = int(match.group(0))
    return f" {number_to_words(value)} " if value <= MAX_SPELLED else match.group(0)


def _spell_ordinal(match: re.Match[str]) -> str:
    value = int(match.group(1))
    return f" {ordinal_to_words(value)} " if value <= MAX_SPELLED else match.group(0)


def _spell_decimal(match: re.Match[str]) -> str:
    whole = int(match.group(1))
    if whole > MAX_SPELLED:
        return match.group(0)
    digits = " ".join(_ONES[int(d)] for d in match.group(2))
    return f" {number_to_words(whole)} point {digits} "


def normalize_text(text: str) -> str:
    """Normalise text for WER by the numbered rules in this module's docstring."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _THOUSANDS.sub("", text)
    text = text.replace("%", " percent ")
    text = _ORDINAL.sub(_spell_ordinal, text)
    text = _DECIMAL.sub(_spell_decimal, text)
    text = _INTEGER.sub(_spell_int, text)
    text = _DASHES.sub(" ", text)
    text = _OTHER.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


_TAG_BLOCKS = re.compile(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>|\{[^}]*\}")
_SPEAKER_LABEL = re.compile(r"^\s*(?:-\s*)?[A-Z][A-Z0-9 .'\u2019-]*:\s+", re.MULTILINE)
_MUSIC_NOTES = re.compile(r"[\u266a\u266b\u266c#]")


def strip_caption_markup(text: str) -> str:
    """Remove SDH display markup from caption text so only spoken words remain.

    Removes bracketed/parenthesised sound tags ("[door slams]", "( thunder rumbles )"),
    HTML-like and ASS override tags ("<i>", "{\\an8}"), upper-case speaker labels at the start of
    a line ("MAN 2: ", "- JOHN: ") and music notes. Dialogue dashes are left for the normaliser
    (rule 8 turns them into spaces).
    """
    text = _TAG_BLOCKS.sub(" ", text)
    text = _SPEAKER_LABEL.sub(" ", text)
    return _MUSIC_NOTES.sub(" ", text)
