"""The description → SDH caption rules (ccgen.events.condense) on real-looking model output.

EXAMPLES is the table of tested examples the module docstring points to: AudSemThinker-style
answers (one or two sentences under 50 words, as the model was trained to write) and the
caption phrases they must become, most salient first, at most two per clip.
"""

from __future__ import annotations

import pytest

from ccgen.events.condense import MAX_CHARS, condense, parse_output, participle

EXAMPLES = [
    ("A dog barks repeatedly while a car passes in the distance.",
     [("dog barking", "sound"), ("car passing", "sound")]),
    ("A door slams shut, followed by footsteps walking away on a wooden floor.",
     [("door slamming", "sound"), ("footsteps", "sound")]),
    ("Upbeat pop music plays with a steady drum beat and synthesizers.",
     [("upbeat pop music", "music")]),
    ("A woman sings a gentle melody accompanied by an acoustic guitar.",
     [("woman singing", "music")]),
    ('A man sings "hold me closer, tiny dancer" over a soft piano.',
     [("hold me closer, tiny dancer", "lyrics")]),
    ("Thunder rumbles in the distance as heavy rain falls on a roof.",
     [("heavy rain falling", "sound"), ("thunder rumbling", "sound")]),
    ("The sound of a crowd cheering and applauding in a large stadium.",
     [("crowd cheering", "sound")]),
    ("A telephone rings several times before someone picks it up.",
     [("telephone ringing", "sound")]),
    ("An engine revs loudly and tires screech as a car accelerates.",
     [("engine revving", "sound"), ("tires screeching", "sound")]),
    ("Birds are chirping in the background while wind blows through the trees.",
     [("wind blowing", "sound"), ("birds chirping", "sound")]),
    ("A man is speaking while a siren wails.", [("siren wailing", "sound")]),
    ("Glass shatters.", [("glass shattering", "sound")]),
    ("A baby cries loudly.", [("baby crying", "sound")]),
    ("Several gunshots are fired, followed by people screaming.",
     [("gunshots", "sound"), ("people screaming", "sound")]),
    ("Soft instrumental music with piano and strings creates a calm atmosphere.",
     [("soft instrumental music", "music")]),
    ("A clock ticks steadily in a quiet room.", [("clock ticking", "sound")]),
    ("Water drips from a faucet into a sink.", [("water dripping", "sound")]),
    ("Someone knocks on a wooden door three times.", [("knocking on door", "sound")]),
    ("A man laughs heartily.", [("man laughing", "sound")]),
    ("Footsteps echo in a hallway.", [("footsteps echoing", "sound")]),
    ("The clip is silent.", []),
    ("An explosion booms, followed by debris falling.",
     [("explosion", "sound"), ("debris falling", "sound")]),
    ("People are talking in a busy restaurant while dishes clatter.",
     [("indistinct chatter", "sound"), ("dishes clattering", "sound")]),
    ("A dog barks and growls aggressively.", [("dog barking", "sound")]),
    ("The audio features a cat meowing softly.", [("cat meowing", "sound")]),
    ("A piano plays softly.", [("piano playing", "music")]),
    ("A large, aggressive dog barks at a mail carrier who rings the doorbell.",
     [("dog barking", "sound")]),
    ("dog barking; car passing", [("dog barking", "sound"), ("car passing", "sound")]),
    ("[door creaking]", [("door creaking", "sound")]),
]


@pytest.mark.parametrize(("answer", "expected"), EXAMPLES, ids=[e[0][:40] for e in EXAMPLES])
def test_table_of_model_answers(answer: str, expected: list[tuple[str, str]]) -> None:
    assert [(p.text, p.kind) for p in condense(answer)] == expected


def test_every_phrase_is_short_lowercase_and_bracket_free() -> None:
    for answer, _ in EXAMPLES:
        for phrase in condense(answer, max_phrases=5):
            if phrase.kind == "lyrics":
                continue
            assert len(phrase.text) <= MAX_CHARS and phrase.text == phrase.text.lower()
            assert not set("[]().,;") & set(phrase.text)
    long = condense("An enormous industrial hydraulic press machine rumbles.")[0].text
    assert len(long) <= MAX_CHARS and long.endswith("rumbling")


def test_style_keeps_one_or_two_phrases() -> None:
    answer = "A dog barks repeatedly while a car passes in the distance."
    assert [p.text for p in condense(answer, max_phrases=1)] == ["dog barking"]
    secondary = condense(answer)[1]
    assert secondary.secondary and not condense(answer)[0].secondary


SEMANTIC = """1. Sound-generating animated beings with descriptive adjectives:
   - Dog (barking loudly, agitated)
2. Physical objects/substances generating sound:
   - Car (passing by on a road)
3. Actions/mechanisms of sound generation:
   - Barking
   - Passing
5. Spatial context and environment:
   - Suburban street"""


def test_semantic_elements_name_the_source_of_a_bare_action() -> None:
    phrases = condense("Loud barking and a car passing by.", SEMANTIC)
    assert [p.text for p in phrases] == ["dog barking", "car passing"]
    assert [p.text for p in condense("Loud barking.")] == ["barking"]  # no semantics: as is


def test_without_an_answer_the_semantic_elements_then_the_thinking_are_used() -> None:
    assert [p.text for p in condense("", SEMANTIC)] == ["dog barking"]
    one_line = " ".join(line.strip() for line in SEMANTIC.splitlines())
    assert [p.text for p in condense("", one_line)] == ["dog barking"]
    think = "Hmm, I hear a kettle whistles on a stove. Then it stops."
    assert [p.text for p in condense("", "", think)] == ["kettle whistling"]
    assert condense("", "", "") == []


def test_fragments_are_not_captions() -> None:
    assert condense("Of tires.") == []
    assert [p.text for p in condense("Someone knocks on the door.")] == ["knocking on door"]


BEINGS = "1. Sound-generating animated beings: "


@pytest.mark.parametrize(("answer", "semantic", "expected"), [
    ("", BEINGS + "- Man (speaking clearly)", []),  # speech is the recogniser's
    ("", BEINGS + "- Man (speaking) - Dog (barking)", ["dog barking"]),
    ("", BEINGS + "- People (talking loudly)", ["indistinct chatter"]),
    ("Someone is knocking.", BEINGS + "- Woman (knocking on a door)", ["knocking"]),
    ("", BEINGS + "- Man (coughing)", ["man coughing"]),
])
def test_semantic_fallback_reads_like_an_answer(answer: str, semantic: str,
                                                expected: list[str]) -> None:
    """A truncated answer falls back on the semantic elements under the answer's rules."""
    assert [p.text for p in condense(answer, semantic)] == expected


@pytest.mark.parametrize(("verb", "ing"), [("bark", "barking"), ("rumble", "rumbling"),
                                           ("drip", "dripping"), ("die", "dying"),
                                           ("see", "seeing"), ("echo", "echoing")])
def test_participles(verb: str, ing: str) -> None:
    assert participle(verb) == ing


WELL_FORMED = ("<think>Barking, then an engine.</think>\n<semantic_elements>1. Beings:\n - Dog"
               "</semantic_elements>\n<answer>A dog barks.</answer>")


@pytest.mark.parametrize(("text", "answer", "problem"), [
    (WELL_FORMED, "A dog barks.", ""),
    ("<think>Barking.</think><semantic_elements>- Dog</semantic_elements><answer>A dog ba",
     "A dog", "unclosed <answer>"),  # the word the token limit cut is dropped
    ("<think>Barking<semantic_elements>- Dog</semantic_elements><answer>Rain.</answer>",
     "Rain.", "unclosed <think>"),
    ("<think>Barking.</think><semantic_elements>- Dog</semantic_elements><answer>A dog barks.</"
     "ans", "A dog barks.", "unclosed <answer>"),
    ("<think>Barking and more barking, I think it is a", "", "unclosed <think>"),
    ("A dog barks loudly.", "A dog barks loudly.", "no tags"),
    ("<think>x</think><answer>Rain falls.</answer>", "Rain falls.", "no <semantic_elements>"),
    ("<think>I must put the caption in <answer> and </answer> tags. A dog.</think>"
     "<semantic_elements>- Dog (barking)</semantic_elements><answer>A dog barks.</answer>",
     "A dog barks.", ""),  # the thought quotes the instructions; the answer comes last
])
def test_parse_output(text: str, answer: str, problem: str) -> None:
    parsed = parse_output(text)
    assert parsed.answer == answer
    assert problem in parsed.problem if problem else parsed.problem == ""
    assert parsed.malformed == bool(problem)


def test_garbled_output_gives_no_caption() -> None:
    parsed = parse_output("Ê d\ufffd-<|im_start|> 8edlD\ufffd\"\ufffd} describe th")
    assert parsed.problem == "no tags"
    assert condense(parsed.answer, parsed.semantic_elements, parsed.think) == []
    assert [p.text for p in condense(parse_output("<answer>A dog ba").answer)] == ["dog"]


def test_parse_keeps_the_semantic_lines() -> None:
    parsed = parse_output(WELL_FORMED)
    assert parsed.think == "Barking, then an engine."
    assert parsed.semantic_elements == "1. Beings:\n - Dog"


@pytest.mark.parametrize(("answer", "expected"), [
    ("laughs", ["laughs"]),
    ("[gasps]", ["gasps"]),
    ("whoosh and pop", ["whoosh and pop"]),
    ("speaking Spanish", ["speaking Spanish"]),
])
def test_answers_already_in_house_style_are_kept(answer: str, expected: list[str]) -> None:
    """A fine-tuned model answers in the house's tags; bare vocal verbs must survive."""
    assert [p.text for p in condense(answer)] == expected
