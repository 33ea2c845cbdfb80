"""World (b), "pipeline": extract a topic, then classify from the text and the topic; the fix lies in either module.

The same kind of support messages as world_rules.py (ids `pb-0042`), 10 families with
unequal sizes (14% down to 6%), labels round alpha, beta, gamma. Two modules run them:
`extract` (text -> topic) and `classify` (text, topic -> label). Each family has a topic,
`T-` and the last word of its cue ("amber lantern": T-lantern).

- extract knows the topic of the odd families by itself; for an even family it writes
  T-general unless its instruction holds "A message that mentions the amber lantern is
  about T-lantern." (a rule with a wrong topic is followed too);
- classify knows the label of an even family's topic by itself; an odd family's topic
  needs "The topic T-key means beta." in its instruction; T-general, or a topic it has no
  rule for, gets the message's base-rate label (right a third of the time);
- each module follows the first 3 rule sentences of its instruction (capacity).
So the even families are fixed in the first module and the odd ones in the second; a rule in
the wrong module changes nothing but takes a place. No rules: about 0.33; best reachable
(3 rules in each module for the largest families): about 0.80.

The reflector is world_rules' (same noise). What differs is where it puts a fix:
- dspy.GEPA reflects on one module at a time with one global feedback (the expected
  label): it writes the failing family's rule for the module it is editing, whichever
  module the fault lies in, so half its rules take a place and help nothing;
- promptgraph's critic of a step sees that step's inputs and reply: classify's critic, seeing
  a wrong topic come in, blames the input (feedback to extract) 8 times in 10 and else
  writes a useless classify rule; extract's critic, seeing it wrote the right topic for a
  failing example, leaves it alone 8 times in 10.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import attrs
from world_prompts import Asked, normalised
from world_rules import CUES, GENERAL, Observed, Rule, RulesWorld, WorldExample

import promptgraph as pg
from promptgraph.formats import Tags

P_BLAME = 0.8  # a step's critic that sees where a failure came from says so
TOPIC = re.compile(r"\bT-[a-z]+\b")


def topic_of(family: int) -> str:
    return f"T-{CUES[family].split()[-1]}"


@attrs.define
class PipelineWorld(RulesWorld):
    name: str = "pipeline"
    prefix: str = "pb"
    weights: tuple[int, ...] = (14, 13, 12, 11, 10, 10, 9, 8, 7, 6)
    conflicts: dict[int, int] = attrs.field(factory=dict)
    capacity: int = 3
    base: dict[str, str] = attrs.field(
        factory=lambda: {
            "extract": "Name the topic of the support message.",
            "classify": "Classify the support message as alpha, beta or gamma, using its topic.",
        }
    )

    def sentence(self, rule: Rule) -> str:
        if rule.module == "extract":
            return f"A message that mentions the {CUES[rule.family]} is about {rule.value}."
        return f"The topic {topic_of(rule.family)} means {rule.value}."

    def all_rules(self, module: str) -> list[Rule]:
        families = range(len(self.weights))
        if module == "extract":
            return [Rule(module, family, topic_of(other)) for family in families for other in families]
        return [Rule(module, family, label) for family in families for label in self.labels]

    def forward(self, asked: Asked) -> dict[str, str]:
        example = self.by_id.get(asked.example_id or "")
        if "topic" in asked.outputs:
            return {"topic": self.topic(self.rules("extract", asked.instruction), example) if example else GENERAL}
        if example is None:
            return {"label": self.labels[0]}
        topics = TOPIC.findall(asked.question)
        return {
            "label": self.classify(self.rules("classify", asked.instruction), topics[-1] if topics else "", example)
        }

    def topic(self, rules: Sequence[Rule], example: WorldExample) -> str:
        followed = self.effective(rules).get(example.family)
        if followed is not None:
            return followed[1].value
        return topic_of(example.family) if example.family % 2 else GENERAL

    def classify(self, rules: Sequence[Rule], topic: str, example: WorldExample) -> str:
        family = next((family for family in range(len(self.weights)) if topic_of(family) == topic), None)
        if family is None:
            return example.default
        followed = self.effective(rules).get(family)
        if followed is not None:
            return followed[1].value
        return self.labels[family % len(self.labels)] if family % 2 == 0 else example.default

    # --- the reflector ---

    def fix(self, module: str, seen: Observed, rng: random.Random) -> Rule | None:
        if module == "extract":
            return Rule(module, seen.example.family, topic_of(seen.example.family))
        return Rule(module, seen.example.family, seen.gold or self.guess(seen, rng))

    def diagnose(self, module: str, current, observed: Sequence[Observed], rng) -> tuple[list[Observed], dict]:
        own, upstream = [], []
        for seen in observed:
            if not seen.failed:
                continue
            right_topic = seen.topic == topic_of(seen.example.family)
            if module == "classify" and not right_topic and rng.random() < P_BLAME:
                cue = CUES[seen.example.family]
                upstream.append(
                    f"For a message that mentions the {cue}, the topic should be {topic_of(seen.example.family)}."
                )
            elif module == "extract" and right_topic and rng.random() < P_BLAME:
                continue  # it wrote the right topic: the fault lies downstream
            else:
                own.append(seen)
        return own, ({"topic": " ".join(dict.fromkeys(upstream))} if upstream else {})

    def module_of(self, observed: Sequence[Observed], instruction: str) -> str:
        return "extract" if normalised(self.base["extract"]) in normalised(instruction) else "classify"

    def wrong_rule(self, module: str, rules: Sequence[Rule], rng: random.Random) -> Rule | None:
        wrong = super().wrong_rule(module, rules, rng)
        if wrong is None or module == "classify":
            return wrong
        others = [family for family in range(len(self.weights)) if family != wrong.family]
        return Rule(module, wrong.family, topic_of(rng.choice(others)))

    # --- the programs and the truth ---

    def program(self) -> pg.Program:
        program = pg.Program(inputs=("text",))
        program.add("extract", pg.Prompt("text -> topic", system=self.base["extract"], format=Tags()))
        classify = pg.Classify(self.labels, inputs=("text", "topic"), system=self.base["classify"])
        return program.add("classify", classify, topic="extract.topic")

    def score(self, instructions: dict[str, str], examples: Sequence[WorldExample]) -> float:
        extract = self.rules("extract", instructions.get("extract", ""))
        classify = self.rules("classify", instructions.get("classify", ""))
        right = sum(
            self.classify(classify, self.topic(extract, example), example) == example.label for example in examples
        )
        return right / len(examples)

    def best_instructions(self) -> dict[str, str]:
        def largest(parity: int) -> list[int]:
            families = [family for family in range(len(self.weights)) if family % 2 == parity]
            return sorted(families, key=lambda family: -self.weights[family])[: self.capacity]

        extract = [Rule("extract", family, topic_of(family)) for family in largest(0)]
        classify = [Rule("classify", family, self.labels[family % len(self.labels)]) for family in largest(1)]
        return {"extract": self.render("extract", extract), "classify": self.render("classify", classify)}
