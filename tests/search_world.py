"""A scripted world where accuracy is a known function of the prompt, for testing the search optimizers.

Four kinds of question, in fixed proportions per 20: 6 generalise about people (insincere,
contain " all " and "people"), 8 ask about all the planets (sincere, contain " all "), 2
are plain (sincere), 4 are rhetorical (insincere, contain "obvious").

The forward model calls a question insincere by the rules its system prompt holds:
- RULE_A: anything with " all " is insincere, unless RULE_B is there too and the question
  is not about people. A alone is harmful (0.40), A and B together fix the groups (0.80).
- RULE_C: rhetorical questions are insincere (0.70 alone).
- HARM: the model stops answering in the label format (0.00).
With no rule the accuracy is 0.50; with A, B and C, 1.00.

The optimizer model's scripts: the rewriter adds the first missing rule in the order
A, B, C, skipping a rule the prompt says was tried and scored worse; the paraphraser says
the same in other words; OPRO's proposer extends the best text so far; APE's proposes a
fixed list of instructions.
"""

from __future__ import annotations

import json

import promptgraph as pg
from promptgraph import Classify, Example, Program, Request, ScriptedLM, prompts
from promptgraph.formats import LabelTag  # these worlds train prompts that carry the format themselves
from tests.scenario import graph_critic

LABELS = ("sincere", "insincere")
FORMAT = "End with Label: <label>sincere</label> or Label: <label>insincere</label>."
RULE_A = "A question that says all of something is insincere."
RULE_B = "But a question about things, not people, is sincere."
RULE_C = "A rhetorical question that asserts something obvious is insincere."
HARM = "Explain your reasoning at length instead of labelling."
RULES = (RULE_A, RULE_B, RULE_C)


def questions(count: int = 200) -> list[Example]:
    kinds = ["group"] * 6 + ["planets"] * 8 + ["plain"] * 2 + ["rhetorical"] * 4
    examples = []
    for index in range(count):
        kind = kinds[index % 20]
        text, label = {
            "group": (f"Why are all group{index} people so lazy?", "insincere"),
            "planets": (f"Do all the planets of star {index} orbit the same way?", "sincere"),
            "plain": (f"How do I bake bread number {index}?", "sincere"),
            "rhetorical": (f"Isn't it obvious that plan {index} is a scam?", "insincere"),
        }[kind]
        examples.append(Example({"text": text}, label, id=f"{kind}{index}"))
    return examples


def accuracy_of(system: str) -> float:
    """What the forward model scores with this system prompt, over the 20 kinds."""
    examples = questions(20)
    if HARM in system:
        return 0.0
    right = sum(judge(system, example.inputs["text"]) == example.label for example in examples)
    return right / len(examples)


def judge(system: str, text: str) -> str:
    if " all " in text:
        excused = RULE_B in system and "people" not in text
        return "insincere" if RULE_A in system and not excused else "sincere"
    if "obvious" in text:
        return "insincere" if RULE_C in system else "sincere"
    return "sincere"


def forward_reply(request: Request) -> str:
    if "<label>" not in request.system or HARM in request.system:
        return "No idea."
    return f"Label: <label>{judge(request.system, request.messages[-1].content)}</label>"


def forward_lm() -> ScriptedLM:
    return ScriptedLM(respond=forward_reply, model="claude-haiku-5-5")


def classifier(system: str = FORMAT) -> Program:
    return Program.of(Classify(LABELS, system=system, format=LabelTag(stated=False)), name="classify")


def next_rule(value: str, rejected: str = "") -> str | None:
    for rule in RULES:
        if rule not in value and rule not in rejected:
            return rule
    return None


def rewriter(request: Request) -> str:
    prompt = request.messages[0].content
    shown = prompts.read(prompt)
    name, value = next(iter(shown.values.items()))
    rejected = "\n".join(shown.rejected.get(name, ()))
    # A rejected text that is the current one plus a rule means that rule was tried.
    tried = " ".join(text.replace(value, "") for text in rejected.split("\n"))
    rule = next_rule(value, tried)
    if "harm please" in prompt:
        rule = HARM
    if rule is None:
        return json.dumps({"reasoning": "nothing to add", "values": {}})
    if '"edits"' in prompt:
        return json.dumps({"reasoning": "add a rule", "edits": [{"parameter": name, "find": "", "replace": rule}]})
    return json.dumps({"reasoning": "add a rule", "values": {name: f"{value} {rule}".strip()}})


def paraphraser(request: Request) -> str:
    values = prompts.read(request.messages[0].content).values
    return json.dumps({"values": {name: f"In other words: {value}" for name, value in values.items()}})


def opro_proposer(request: Request) -> str:
    (name, best), *_ = prompts.read(request.messages[0].content).tried[-1].values.items()  # best last
    proposals = [{name: f"{best} {HARM}"}]
    rule = next_rule(best)
    if rule is not None:
        proposals.append({name: f"{best} {rule}"})
    if RULE_A not in best:
        proposals.append({name: f"{best} {RULE_A} {RULE_B}"})
    return json.dumps({"proposals": proposals})


APE_INSTRUCTIONS = [
    FORMAT,
    f"{HARM} {FORMAT}",
    f"{RULE_C} {FORMAT}",
    f"{RULE_A} {RULE_B} {RULE_C} {FORMAT}",
    "Answer with one word.",  # breaks the label format: refused when read
]


def ape_proposer(request: Request) -> str:
    return json.dumps({"instructions": APE_INSTRUCTIONS})


def optimizer_reply(request: Request) -> str:
    scripts = {"critic": graph_critic, "paraphrase": paraphraser, "opro": opro_proposer, "propose": ape_proposer}
    return scripts.get(request.tag, rewriter)(request)


def optimizer_lm() -> ScriptedLM:
    return ScriptedLM(respond=optimizer_reply, model="claude-opus-5-5")


def train(optimizer, *, iterations: int = 3, seed: int = 0, system: str = FORMAT, **options) -> pg.CompileResult:
    options = {"samples_per_label": 10, "val_per_label": 20, "progress": False, "lm": forward_lm()} | options
    return pg.compile(
        classifier(system),
        trainset=questions(200),
        optimizer=optimizer,
        iterations=iterations,
        seed=seed,
        **options,
    )
