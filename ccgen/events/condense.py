"""From AudSemThinker's output to SDH sound captions: parse the three parts, then condense.

The model writes ``<think>…</think><semantic_elements>…</semantic_elements><answer>…</answer>``;
:func:`parse_output` (in :mod:`ccgen.events.parse`) splits that and copes with missing,
unclosed or token-limit-truncated tags.
:func:`condense` turns a one-sentence description into caption phrases (text without brackets;
the SDH engine renders ``[…]`` or ``♪ … ♪`` per style). The rules, in order:

1. Lyrics: words quoted in a singing clause become a ``lyrics`` item, verbatim.
2. The answer is cut into clauses at sentence ends, commas, ``while``, ``as``, ``followed by``,
   ``then``, ``before``/``after``, ``accompanied by``, ``over`` and ``and`` + a new subject.
   Fillers ("the sound of", "there is", "can be heard") and determiners go.
3. Music clauses (music, song, melody, an instrument…) become ``[mood] [genre|instrument] music``
   (``upbeat pop music``), singing without quoted words ``<singer> singing``.
4. Other clauses become *source + present participle* (``dog barks`` → ``dog barking``,
   ``birds are chirping`` → ``birds chirping``), a passive or verbless clause a noun phrase
   (``gunshots are fired`` → ``gunshots``). A person doing a non-vocal action loses the subject
   and keeps the object (``someone knocks on a door`` → ``knocking on door``). Speech by one
   person is left to the speech recogniser; many people talking is ``indistinct chatter``.
5. Phrases are lowercase, at most :data:`MAX_CHARS` characters (modifiers go first), and
   deduplicated; clauses marked distant/background/faint rank after the others.
6. A bare action (``barking``) takes its source from the semantic elements (who/what/how):
   ``dog barking``. Without a usable answer the semantic elements, then the thinking, are used.

The tested examples live in tests/test_condense.py (a table of real-looking model answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ccgen.events.parse import Parsed, parse_output  # noqa: F401  (re-exported)

MAX_CHARS = 32

@dataclass(frozen=True)
class Phrase:
    """One caption item: `kind` is sound, music or lyrics; secondary = background/distant."""

    text: str
    kind: str = "sound"
    secondary: bool = False


# --- word lists (small on purpose: a phrase the rules cannot read is dropped, not guessed) ------
_FILLERS = re.compile(
    r"^(?:(?:and|then|also|meanwhile|suddenly|finally|occasionally|hmm+|um+|uh+|okay|ok|"
    r"well|so|alright|oh|now|first|next|maybe|perhaps|probably|clearly|let me think|"
    r"let's see|i think|it seems|it sounds like)\b,?\s*)+"
    r"|^(?:hmm+|um+|uh+|okay|ok|well|so|alright|oh)$"
    r"|\b(?:the |a )?(?:audio|clip|recording)(?: clip)? (?:features|contains|captures|"
    r"presents|begins with|starts with|is of|has)\s+"
    r"|\b(?:the |a )?(?:sounds?|noises?) of\s+|\b(?:there (?:is|are)|we hear|you can hear|"
    r"one can hear|i hear)\s+|\b(?:can be|is|are) (?:heard|audible)\b\s*"
    r"|\b(?:a |the )?(?:series|couple|number|burst|few) of\s+"
    r"|\b(?:in|from) the (?:distance|background)\b|\bfar away\b")
_DETERMINERS = {"a", "an", "the", "some", "several", "multiple", "many", "various", "two", "three",
                "four", "few", "its", "their", "his", "her", "one", "another", "this", "that"}
_DROP_ADJ = {"large", "small", "big", "little", "single", "lone", "young", "old", "adult",
             "male", "female", "nearby", "close", "brief", "short", "long", "sudden", "quick",
             "continuous", "constant", "steady", "repeated", "rhythmic", "clear", "aggressive",
             "excited", "medium-sized", "high-pitched", "low-pitched", "distant", "faint"}
_ADJ = _DROP_ADJ | {"loud", "soft", "sharp", "heavy", "deep", "low", "high", "quiet", "gentle",
                    "rapid", "fast", "slow", "intense", "harsh", "metallic", "muffled",
                    "intermittent", "frantic", "light", "sporadic", "occasional"}
_PREPOSITIONS = {"on", "in", "into", "at", "from", "through", "across", "along", "against",
                 "near", "by", "over", "under", "inside", "outside", "with", "onto", "toward",
                 "towards", "around", "behind", "off", "up", "down", "away"}
_PRONOUNS = {"it", "them", "someone", "somebody", "he", "she", "they", "him", "something"}
_SECONDARY = re.compile(r"\b(?:distance|distant|background|faint(?:ly)?|far away|muffled)\b")
_PERSON = {"someone", "somebody", "person", "man", "woman", "boy", "girl", "child", "people",
           "he", "she", "they", "men", "women", "guy", "speaker", "individual"}
_GROUP = {"people", "crowd", "men", "women", "children", "audience", "group", "they"}
_SPEECH = {"speak", "talk", "say", "whisper", "narrate", "converse", "chat", "announce",
           "explain", "ask", "tell", "discuss", "chatter", "murmur"}
_VOCAL = {"laugh", "cry", "scream", "shout", "yell", "sing", "cough", "sneeze", "sigh", "gasp",
          "whistle", "hum", "giggle", "sob", "groan", "moan", "grunt", "pant", "breathe", "snore",
          "cheer", "clap", "applaud", "shriek", "wail", "chuckle", "hiccup", "sniff"}
_VERBS = _SPEECH | _VOCAL | {
    "bark", "pass", "ring", "slam", "shatter", "rumble", "fall", "chirp", "blow", "tick", "drip",
    "knock", "echo", "boom", "rev", "screech", "play", "buzz", "beep", "honk", "creak", "splash",
    "crackle", "crash", "pour", "flow", "rustle", "tap", "type", "vibrate", "idle", "accelerate",
    "approach", "drive", "fly", "sizzle", "boil", "bubble", "gurgle", "flush", "walk", "stomp",
    "jingle", "chime", "toll", "strike", "strum", "swell", "fade", "open", "close", "shut",
    "slide", "squeal", "grind", "whir", "drone", "pop", "snap", "crunch", "tear", "scrape",
    "scratch", "rub", "shake", "whoosh", "growl", "howl", "meow", "purr", "moo", "crow", "hiss",
    "squeak", "rattle", "clatter", "thud", "bang", "click", "roar", "explode", "patter",
    "hammer", "drill", "whine", "hoot", "quack", "cluck", "neigh", "bleat", "oink", "flap",
    "chop", "stir", "fizz", "zip", "run", "land", "pound", "crack", "squawk", "caw", "tweet",
    "warble", "coo", "yelp", "whimper", "snarl", "bellow", "swish", "sweep", "spray", "bounce",
    "skid", "sputter", "chug", "clank", "clang", "jangle", "beat", "splatter", "trickle"}
_DOUBLE = {"drip", "tap", "stop", "hum", "thud", "rub", "shut", "snap", "slam", "drum", "strum",
           "clap", "flap", "chop", "pop", "sob", "step", "run", "whir", "stir", "zip", "chat",
           "plop", "throb", "rev", "skid", "chug"}
_EVENT_NOUNS = {"explosion", "explosions", "gunshot", "gunshots", "gunfire", "applause",
                "laughter", "static", "music", "chatter"}
_STEPS = {"walk", "step", "run", "stomp"}
_MUSIC = re.compile(r"\b(?:music|song|melody|tune|soundtrack|instrumental|orchestra|symphony|"
                    r"choir|chorus|vocals|singing|sings?|singer|ballad|anthem)\b")
_SINGING = re.compile(r"\b(?:sing|sings|singing|sung|vocals)\b")
_INSTRUMENTS = {"piano", "guitar", "violin", "cello", "drum", "drums", "synthesizer", "organ",
                "trumpet", "saxophone", "flute", "harp", "bass", "strings", "accordion", "banjo",
                "harmonica", "clarinet", "xylophone", "ukulele", "bagpipes", "synth"}
_MOODS = ("upbeat", "gentle", "soft", "calm", "dramatic", "tense", "suspenseful", "eerie",
          "cheerful", "happy", "sad", "melancholic", "somber", "energetic", "intense", "romantic",
          "playful", "ominous", "peaceful", "relaxing", "mellow", "lively", "triumphant", "dark",
          "slow", "fast-paced", "quiet", "loud", "epic", "mysterious", "festive", "jazzy")
_GENRES = ("pop", "rock", "jazz", "classical", "electronic", "hip-hop", "rap", "country", "blues",
           "folk", "techno", "orchestral", "ambient", "reggae", "metal", "dance", "instrumental",
           "latin", "funk", "disco", "gospel", "opera", "christmas")
# Connectors between clauses; the ones in the second group introduce an accompaniment.
_MAIN = r"while|whilst|as|followed by|and then|then|before|after|which|and"
_ACCOMPANY = r"accompanied by|over|amid|against|alongside|along with|together with|with"
_SPLIT = re.compile(rf"[.;!?]+\s+|,\s*(?:({_MAIN}|{_ACCOMPANY})\b)?\s*"
                    rf"|\s+({_MAIN}|{_ACCOMPANY})\s+")
_LYRICS = re.compile(r"\b(?:sing|sings|singing|sung|vocals?|lyrics?)\b[^\"“]{0,40}?"
                     r"(?:[\"“]([^\"”]{3,})[\"”]|'(.{3,}?)'(?![a-z]))", re.I)


def _base(word: str) -> str | None:
    """The verb's base form if `word` is a known verb in base or -s form, else None."""
    candidates = [word]
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s"):
        candidates.append(word[:-1])
    return next((c for c in candidates if c in _VERBS), None)


def _base_of_ing(word: str) -> str | None:
    """The base of a known verb's -ing form: barking→bark, rumbling→rumble, dripping→drip."""
    if not word.endswith("ing") or len(word) < 5:
        return None
    stem = word[:-3]
    for cand in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else "", stem[:-1] + "ie"
                 if stem.endswith("y") else ""):
        if cand in _VERBS:
            return cand
    return None


def participle(verb: str) -> str:
    """Present participle of a base-form verb: bark→barking, rumble→rumbling, drip→dripping."""
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    if verb in _DOUBLE:
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _noun_phrase(words: list[str]) -> list[str]:
    """Drop determiners, adverbs and descriptive adjectives; keep the head and one modifier."""
    kept = [w for w in words if w not in _DETERMINERS and w not in _DROP_ADJ
            and not (w.endswith("ly") and len(w) > 4) and not w.isdigit()]
    return kept[-2:]


def _finish(words: list[str], secondary: bool, kind: str = "sound") -> Phrase | None:
    """Lowercase phrase of at most MAX_CHARS: leading modifiers go before the head is cut."""
    words = [w.strip(".,:;!?()[]\"'") for w in words]
    words = [w for w in words if w]
    if not words:
        return None
    if kind == "sound" and words[-1] == "playing" and words[0] in _INSTRUMENTS:
        kind = "music"
    while len(" ".join(words)) > MAX_CHARS and len(words) > 1:
        words = words[1:]
    if words[0].lower() in _PREPOSITIONS | {"of", "and", "or", "to", "for"}:
        return None  # "of tires": a fragment left by a long clause, not a caption
    text = " ".join(words)[:MAX_CHARS].rstrip()
    if not re.fullmatch(r"[a-z][a-z' -]*[a-z]", text):
        return None  # not words: a garbled or non-English output is not a caption
    return Phrase(text, kind, secondary)


def _music(words: list[str], clause: str, secondary: bool) -> Phrase | None:
    """[mood] [genre|instrument] music, or <singer> singing."""
    if _SINGING.search(clause) and "music" not in words:
        idx = next(i for i, w in enumerate(words) if _SINGING.match(w))
        singer = [w for w in _noun_phrase(words[:idx]) if w not in _ADJ]
        return _finish([*singer[-1:], "singing"], secondary, "music")
    mood = next((w for w in words if w in _MOODS), "")
    style = next((w for w in words if w in _GENRES), "") or next(
        (w for w in words if w in _INSTRUMENTS), "")
    return _finish([w for w in (mood, style, "music") if w], secondary, "music")


def _object(words: list[str]) -> list[str]:
    """A person's action keeps its object: 'on a wooden door' → 'on door'."""
    if words and words[0] in ("on", "at", "against", "into", "to"):
        head = _noun_phrase(words[1:4])[-1:]
        return [words[0], *head] if head else []
    return []


def _action(subject: list[str], base: str, ing: str, rest: list[str],
            secondary: bool) -> Phrase | None:
    """A source doing something: 'dog barks' → dog barking (rules 4)."""
    noun = _noun_phrase(subject)
    if base in _SPEECH:
        group = bool(set(subject) & _GROUP) or bool(noun and noun[-1].endswith("s"))
        return Phrase("indistinct chatter", "sound", secondary) if group else None
    if noun and noun[-1] in _PERSON and base not in _VOCAL:
        return _finish([ing, *_object(rest)], secondary)
    if noun and (noun[-1] in _EVENT_NOUNS or (noun[-1] == "footsteps" and base in _STEPS)):
        return _finish(noun, secondary)  # the action adds nothing: [explosion], [footsteps]
    if all(w in _ADJ for w in noun):
        noun = []  # "loud barking": the source comes from the semantic elements
    return _finish([*noun, ing], secondary)


def _clause_phrase(clause: str, secondary: bool) -> Phrase | None:
    """One clause → one phrase, or None when the rules cannot read it."""
    secondary = secondary or bool(_SECONDARY.search(clause))
    clause = _FILLERS.sub(" ", clause)
    words = [w.strip(".,:;!?()[]\"'“”‘’") for w in clause.split()]
    words = [w for w in words if w]
    if not words or re.search(r"\b(?:silence|silent|no sound)\b", clause):
        return None
    if _MUSIC.search(clause):
        return _music(words, clause, secondary)
    if _base(words[0]) and not words[0].endswith("ing"):
        return None  # "... and growls": a second verb of the same source adds nothing
    for i, word in enumerate(words):
        prev = words[i - 1] if i else ""
        if word in ("is", "are", "was", "were"):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            base = _base_of_ing(nxt)
            if base:
                return _action(words[:i], base, nxt, words[i + 2:], secondary)
            return _finish(_noun_phrase(words[:i]), secondary) if i else None
        base = _base_of_ing(word)
        if base:
            return _action(words[:i], base, word, words[i + 1:], secondary)
        base = _base(word)
        if base and i and prev not in _DETERMINERS and prev not in _ADJ:
            return _action(words[:i], base, participle(base), words[i + 1:], secondary)
    cut = next((i for i, w in enumerate(words) if w in _PREPOSITIONS), len(words))
    phrase = words[:cut]
    if len(phrase) > 4 or set(phrase) & _PRONOUNS:
        return None  # a long verbless clause is commentary, not a sound
    return _finish(_noun_phrase(phrase), secondary)


def _clauses(text: str) -> list[tuple[str, bool]]:
    """(clause, is an accompaniment) pairs; 'and' starts a clause only before a new action."""
    parts = _SPLIT.split(text.lower().replace("[", " ").replace("]", " "))
    clauses: list[list] = []
    connector: str | None = None
    for k in range(0, len(parts), 3):
        piece = (parts[k] or "").strip(" ,.")
        following = next((c for c in parts[k + 1:k + 3] if c), None)
        if piece:
            words = piece.split()
            action = any(_base(w) or _base_of_ing(w) or w in ("is", "are") for w in words[1:5])
            if connector == "and" and clauses and not action:
                clauses[-1][0] += f" and {piece}"  # "piano and strings", "barks and growls"
            else:
                clauses.append([piece, bool(connector and re.fullmatch(_ACCOMPANY, connector))])
        connector = following
    return [(c, a) for c, a in clauses]


def _lyrics(answer: str) -> tuple[Phrase | None, str]:
    """Quoted words in a singing clause (rule 1), and the answer without them."""
    found = _LYRICS.search(answer)
    if not found:
        return None, answer
    words = (found.group(1) or found.group(2)).strip(" ,.!?")
    return Phrase(words, "lyrics"), answer.replace(found.group(0), found.group(0).split()[0])


_SECTIONS = (("being", 1), ("animated", 1), ("object", 2), ("substance", 2), ("action", 3),
             ("mechanism", 3))


def semantic_sources(semantic: str) -> list[tuple[str, str]]:
    """(source, what it does) pairs from the semantic elements' who/what categories (1-2), plus
    ("", action) pairs for the how category (3). Works on numbered or named headers, with the
    bullets on their own lines or run together."""
    text = re.sub(r"\s+(?=\d\.\s)|\s+(?=[-*•]\s)", "\n", semantic)
    pairs: list[tuple[str, str]] = []
    section = 0
    for raw in text.splitlines():
        line = raw.strip()
        header = re.match(r"^(?:\d\.\s*)?([^:()]{3,80}):(.*)$", line)
        if header and not line.startswith(("-", "*", "•")):
            name = header.group(1).lower()
            section = next((n for key, n in _SECTIONS if key in name), 0)
            line = header.group(2).strip()
        item = line.lstrip("-*• ").strip().lower()
        if not item or section == 0:
            continue
        detail = re.search(r"\(([^)]*)\)", item)
        name_words = re.sub(r"\(.*?\)|[:;,.].*", "", item).split()
        if section in (1, 2):
            noun = _noun_phrase([w for w in name_words if w not in _ADJ])
            what = next((w for w in (detail.group(1).split() if detail else [])
                         if _base_of_ing(w) or _base(w)), "")
            if noun:
                pairs.append((" ".join(noun), what))
        elif name_words:
            first = name_words[0]
            pairs.append(("", first if first.endswith("ing") else participle(_base(first)
                                                                             or first)))
    return pairs


def _from_semantics(pairs: list[tuple[str, str]]) -> list[Phrase]:
    """Rule 6 fallback: the first who/what source whose action makes a caption, read by the
    answer's rules (one person speaking is left to the recogniser)."""
    actions = [w for s, w in pairs if not s]
    for source, what in ((s, w) for s, w in pairs if s):
        words = (what or (actions[0] if actions else "")).lower().split()
        ing = next((w for w in words if w.endswith("ing")), "")
        base = _base_of_ing(ing) if ing else (_base(words[0]) if words else None)
        if base:
            phrase = _action(source.lower().split(), base, ing or participle(base), [], False)
        else:
            phrase = _finish([*source.lower().split(), *words[:1]], False)
        if phrase:
            return [phrase]
    return []


def condense(answer: str, semantic_elements: str = "", think: str = "",
             max_phrases: int = 2) -> list[Phrase]:
    """Caption phrases for one description, the most salient first (see the module rules)."""
    pairs = semantic_sources(semantic_elements)
    phrases = _phrases(answer)
    if not phrases:
        phrases = _from_semantics(pairs)
    for sentence in re.split(r"(?<=[.!?])\s", think.strip()) if not phrases else []:
        phrases = _phrases(sentence)[:1]  # the first sound the thinking names
        if phrases:
            break
    if not phrases and (tag := _caption_tag(answer)):
        phrases = [Phrase(tag, "sound", False)]
    fixed: list[Phrase] = []
    for p in phrases:
        if p.kind == "sound" and " " not in p.text and p.text.endswith("ing"):
            owner = next((s for s, w in pairs if s and w == p.text), "") or next(
                (s for s, _ in pairs if s), "")
            person = owner.split()[-1:] and owner.split()[-1] in _PERSON
            if owner and not (person and _base_of_ing(p.text) not in _VOCAL):
                p = _finish([*owner.split()[-1:], p.text], p.secondary) or p
        fixed.append(p)
    ordered = [p for p in fixed if not p.secondary] + [p for p in fixed if p.secondary]
    seen: set[str] = set()
    music_done = False
    kept: list[Phrase] = []
    for p in ordered:
        if p.text in seen or (p.kind in ("music", "lyrics") and music_done):
            continue  # music is a bed: one music or lyrics item per clip
        seen.add(p.text)
        music_done = music_done or p.kind in ("music", "lyrics")
        kept.append(p)
    return kept[:max_phrases]


def _caption_tag(answer: str) -> str | None:
    """An answer that already reads as an SDH tag ("laughs", "gasps", "whoosh and pop",
    "speaking Spanish"): a fine-tuned model answers in the house style, so keep it as it is.
    Only short (≤ 4 words), lowercase-led fragments with no sentence punctuation qualify."""
    text = answer.strip().strip("[]()").strip()
    words = text.split()
    if not words or len(words) > 4 or len(text) > 32 or not words[0][:1].islower():
        return None
    if re.search(r"[.!?;:,\"]", text) or not re.fullmatch(r"[a-zA-Z' -]+", text):
        return None
    if not all(re.search(r"[aeiouy]", w, re.IGNORECASE) for w in words):
        return None  # "xq zz": noise, not a tag
    return text


def _phrases(answer: str) -> list[Phrase]:
    lyrics, rest = _lyrics(answer)
    found = [lyrics] if lyrics else []
    for clause, accompaniment in _clauses(rest):
        phrase = _clause_phrase(clause, accompaniment)
        if phrase is None or (lyrics and phrase.kind == "music"):
            continue
        if accompaniment and found and found[-1].kind in ("music", "lyrics"):
            continue  # "... with a drum beat", "... over a soft piano": part of the music
        found.append(phrase)
    return found
