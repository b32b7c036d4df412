"""Instruction diversity: the leading verb of each instruction and its direct object.

The Self-Instruct paper (Wang et al., 2023, Figure 2) parses every instruction with the Berkeley
Neural Parser and plots the verb closest to the root with its first direct-noun object. No parser
model can be downloaded here, so this module uses a light, offline heuristic instead:

1. take the first paragraph of the first user turn, lowercased; drop a leading label
   ("Definition:", as Natural Instructions prompts start, "### Instruction:", "Task:");
2. in each of its first four sentences, drop polite or framing prefixes ("please", "can you",
   "i want you to", ...); the first sentence whose first word is in `VERBS`, a lexicon of
   imperative verbs seen in instruction datasets, gives the *verb*; a sentence with "your task
   is to VERB", "you need to VERB", "you should VERB" gives that VERB (descriptive instructions
   such as "In this task, you are given ... Your job is to classify ..."). Instructions with
   none are counted under `(no leading verb)`, so questions like "What is ..." do not pass;
3. the *object* is the first word after the verb that is not a determiner, pronoun, number or
   common adjective (`SKIP`), cut at the first preposition or punctuation.

It misses verbs outside the lexicon and objects that a parser would attach differently
("write me a poem" gives "poem"; "explain how to ..." gives no object). The card says so.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

NO_VERB = "(no leading verb)"

_VERBS_TEXT = """
act add adapt analyze analyse answer apply arrange assess assign brainstorm build calculate
categorize categorise change check choose cite clarify classify combine compare compile
complete compose compute condense construct continue convert correct count create critique
debug decide decode define delete describe design detect determine develop devise diagnose
discuss distinguish divide draft draw edit elaborate eliminate encode enumerate estimate
evaluate examine expand explain express extract fill find finish fix format formulate generate
give group guess highlight identify illustrate imagine implement improve indicate infer insert
interpret invent judge justify label list locate make map match measure mention modify name
note order organize organise outline paraphrase perform pick plan point predict prepare present
produce propose provide put rank rate read recommend reconstruct rearrange rephrase print
recite replace report return output offer represent respond restate restructure reverse review
revise rewrite rank say score select separate share show simplify solve sort specify spell
split state suggest summarize summarise supply tag take teach tell think transform translate
turn type underline use verify view write remove reply ask subtract multiply round flag mark
swap
"""
VERBS = frozenset(_VERBS_TEXT.split())

PREFIXES = (
    "please",
    "kindly",
    "now",
    "can you",
    "could you",
    "would you",
    "will you",
    "you should",
    "you need to",
    "you are asked to",
    "you have to",
    "i want you to",
    "i need you to",
    "i would like you to",
    "help me",
    "let's",
    "let us",
)

_SKIP_TEXT = """
a an the this that these those some any each every all both few several many more most me us
you him her them it my our your his its their one two three four five six seven eight nine ten
1 2 3 4 5 6 7 8 9 10 another other new short brief simple detailed creative good given
following appropriate possible different suitable correct best main key unique interesting
funny random important famous common popular major single complete concise new clear few only
original catchy
"""
SKIP = frozenset(_SKIP_TEXT.split())

_STOP_AT_TEXT = """
of for to in on about with from into by as at if whether how what why when where which who that
and or but than so then is are be
"""
STOP_AT = frozenset(_STOP_AT_TEXT.split())

# "Definition: ..." (Natural Instructions), "### Instruction: ...", "Task: ...": the text after.
_LABEL = re.compile(r"^\s*(?:#+\s*)?(?:definition|instructions?|task|prompt|human|user)\s*:\s*")
# "Your task is to VERB ...", "you need to VERB ...": descriptive instructions (Natural
# Instructions definitions) name the action after such a phrase.
_TASK_PHRASE = re.compile(
    r"\b(?:(?:your|the) (?:job|task|goal) is to|you (?:need|have|are asked|are required"
    r"|will need|are expected|are supposed) to|you (?:must|should|will|can)|asked to)"
    r" ([a-z]+)"
)
_FRAMING = re.compile(r"\btask\b|\byou(?: are|'re| will be) given\b|^\s*given\b")
_WORD = re.compile(r"[a-z][a-z'\-]*|\d+")


def instruction_text(messages: list[dict[str, str]], max_chars: int = 600) -> str:
    """The instruction of a conversation: the first paragraph of its first user turn."""
    for message in messages:
        if message["role"] == "user":
            return message["content"].strip().split("\n\n", 1)[0][:max_chars]
    return ""


_PREFIX_WORDS = [tuple(prefix.split()) for prefix in PREFIXES]
_PREFIX_STARTS = frozenset(words[0] for words in _PREFIX_WORDS)


def _strip_prefixes(words: list[str]) -> list[str]:
    while words and words[0] in _PREFIX_STARTS:
        for prefix in _PREFIX_WORDS:
            if tuple(words[: len(prefix)]) == prefix:
                words = words[len(prefix) :]
                break
        else:
            break
    return words


def _object(words: list[str]) -> str | None:
    for word in words:
        if word in STOP_AT:
            return None
        if word not in SKIP and not word.isdigit():
            return word
    return None


def verb_object(instruction: str, max_sentences: int = 4) -> tuple[str, str | None]:
    """The main verb of an instruction (or `NO_VERB`) and its object word (or None).

    The verb is the first word of the first of its sentences that starts with a known verb,
    or the verb after "your task is to" / "you need to" and the like. Sentences after the
    first count only when the first frames a task ("In this task, you are given ...").

    >>> verb_object("Please write a short poem about the sea.")
    ('write', 'poem')
    >>> verb_object("In this task, you are given a review. Your job is to classify its tone.")
    ('classify', 'tone')
    >>> verb_object("What is the capital of France?")
    ('(no leading verb)', None)
    """
    sentences = re.split(r"[.!?:;\n]", _LABEL.sub("", instruction.lower()))
    # Later sentences only when the first one frames a task ("In this task, you are given
    # ..."): otherwise they are the input (a passage placed first) and their verbs are noise.
    if not _FRAMING.search(sentences[0]):
        max_sentences = 1
    for sentence in sentences[:max_sentences]:
        # "Given a story, answer ...": the first two clauses may each start with the verb
        for clause in sentence.split(",")[:2]:
            words = _strip_prefixes(_WORD.findall(clause))
            if words and words[0] in VERBS:
                return words[0], _object(words[1:])
        text = " ".join(_WORD.findall(sentence))
        for match in _TASK_PHRASE.finditer(text):
            if match.group(1) in VERBS:
                return match.group(1), _object(text[match.end() :].split())
    return NO_VERB, None


def verb_object_counts(
    instructions: list[str], top_verbs: int = 20, top_objects: int = 4
) -> dict[str, Any]:
    """The most frequent leading verbs, each with its most frequent objects, and coverage.

    Returns {"rows", "with_verb", "coverage", "distinct_verbs", "verbs": [{"verb", "rows",
    "share", "objects": [{"object", "rows"}]}]}, verbs most frequent first.
    """
    pairs = [verb_object(text) for text in instructions]
    verbs = Counter(verb for verb, _ in pairs if verb != NO_VERB)
    objects: dict[str, Counter] = {}
    for verb, obj in pairs:
        if verb != NO_VERB and obj is not None:
            objects.setdefault(verb, Counter())[obj] += 1
    with_verb = sum(verbs.values())
    rows = len(instructions)
    ranked = sorted(verbs.items(), key=lambda item: (-item[1], item[0]))[:top_verbs]
    return {
        "rows": rows,
        "with_verb": with_verb,
        "coverage": with_verb / rows if rows else 0.0,
        "distinct_verbs": len(verbs),
        "verbs": [
            {
                "verb": verb,
                "rows": count,
                "share": count / rows if rows else 0.0,
                "objects": [
                    {"object": obj, "rows": n}
                    for obj, n in sorted(
                        objects.get(verb, Counter()).items(), key=lambda item: (-item[1], item[0])
                    )[:top_objects]
                ],
            }
            for verb, count in ranked
        ],
    }
