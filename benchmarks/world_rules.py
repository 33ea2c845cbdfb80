"""World (a), "rules": a classification world whose truth is known, and the simulated reflector that searches it.

The task: support messages, each labelled alpha, beta or gamma. Every message belongs to one
of 12 hidden rule families (its text carries the family's cue words, e.g. "the amber
lantern", and an id such as `ra-0042` so the world recognises it in any prompt). Family
sizes are unequal (13% of the messages down to 4%); labels go round the three.

The forward model (priced as claude-haiku-5-5) answers a message:
- by its family's rule when the instruction holds it: "A message that mentions the amber
  lantern is alpha." (matched after normalising case, punctuation and spacing; a rule with
  the wrong label is followed too, wrongly);
- only the first 8 rule sentences in the instruction count (capacity); later ones are ignored;
- three pairs of families conflict (1/6, 3/8, 5/10, each pair with different labels): when
  both rules count, the earlier one wins for both families, so the later family goes wrong;
- without a rule it answers the message's base-rate label (fixed per message, going round
  the three labels within a family): right a third of the time.
No rules: about 0.33. Best reachable (8 rules, one side of each conflict, the smallest
family left out): about 0.85.

The reflector (the strong model's role, priced as claude-opus-5-5), shown failing examples:
- adds the rule of each failing family that has none, with the expected label when the
  prompt shows it, else a guess among the labels other than the one answered;
- corrects a rule whose label is wrong;
- moves a rule the model ignored (past the capacity) to the front;
- fixes a conflict (the rule is there but an earlier conflicting one wins) by dropping the
  winning rule or by moving the losing one before it, half and half.
Seeded noise when it writes (P_FORGET, P_DROP, P_WRONG below): it forgets a rule it meant to
add, drops another existing rule when it fixes a conflict or moves a rule, adds a wrong one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs
from world_prompts import Asked, found_in_order

import promptgraph as pg

P_FORGET = 0.2  # each rule it meant to add is left out
P_DROP = 0.3  # when it removed or moved a rule, it also drops another existing one
P_WRONG = 0.15  # it adds a rule for a random family with a wrong label
GENERAL = "T-general"  # world_pipeline's topic for a message the extractor could not place


@attrs.frozen
class Rule:
    module: str  # the step whose instruction holds it
    family: int
    value: str  # a label, or a topic (world_pipeline's extractor)


@attrs.frozen
class WorldExample:
    id: str
    text: str
    family: int
    label: str
    default: str  # the base-rate answer when no rule applies


@attrs.frozen
class Observed:
    """An example as a reflector saw it: whether it failed, and what the prompt told it."""

    example: WorldExample
    failed: bool
    gold: str | None  # the expected label, when the prompt shows it
    answered: str | None
    topic: str | None = None  # the topic the step saw or wrote (world_pipeline)


OPENERS = ("Hello, I have a question about", "Please help with", "Something is odd with", "I need advice on")
CLOSERS = ("since yesterday.", "on my account.", "again today.", "and I am stuck.")
CUES = (
    "amber lantern", "basalt key", "cobalt kettle", "dune compass", "ember loom", "fjord whistle",
    "granite quill", "harbor prism", "ivory spindle", "juniper anvil", "kelp sextant", "lumen trowel",
)  # fmt: skip


def make_examples(prefix: str, weights: Sequence[int], labels: Sequence[str], count: int) -> list[WorldExample]:
    """`count` messages, family f making weights[f] / sum(weights) of them; fixed, whatever the seed."""
    rng = random.Random(f"{prefix}-examples")
    total = sum(weights)
    # Within a family the base-rate answers go round the labels, so each family is right a third of
    # the time without its rule (drawn at random, a family's luck would decide which rules matter).
    families = [(f, turn) for f, weight in enumerate(weights) for turn in range(round(count * weight / total))]
    rng.shuffle(families)
    return [
        WorldExample(
            id=f"{prefix}-{number:04d}",
            text=f"{rng.choice(OPENERS)} the {CUES[family]} {rng.choice(CLOSERS)} (case {prefix}-{number:04d})",
            family=family,
            label=labels[family % len(labels)],
            default=labels[turn % len(labels)],
        )
        for number, (family, turn) in enumerate(families)
    ]


@attrs.define
class RulesWorld:
    """World (a); world_pipeline.PipelineWorld changes the modules, the rules and the forward model."""

    name: str = "rules"
    prefix: str = "ra"  # of the example ids
    labels: tuple[str, ...] = ("alpha", "beta", "gamma")
    weights: tuple[int, ...] = (13, 12, 11, 10, 10, 9, 8, 7, 6, 6, 4, 4)
    conflicts: dict[int, int] = attrs.field(factory=lambda: {1: 6, 6: 1, 3: 8, 8: 3, 5: 10, 10: 5})
    capacity: int = 8
    base: dict[str, str] = attrs.field(
        factory=lambda: {"classify": "Classify the support message as alpha, beta or gamma."}
    )
    examples: list[WorldExample] = attrs.field(init=False)
    by_id: dict[str, WorldExample] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.examples = make_examples(self.prefix, self.weights, self.labels, 600)
        self.by_id = {example.id: example for example in self.examples}

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(self.base)

    # --- rules as text ---

    def sentence(self, rule: Rule) -> str:
        return f"A message that mentions the {CUES[rule.family]} is {rule.value}."

    def all_rules(self, module: str) -> list[Rule]:
        return [Rule(module, family, label) for family in range(len(self.weights)) for label in self.labels]

    def rules(self, module: str, text: str) -> list[Rule]:
        """The rule sentences of `module` in `text`, in order, each once."""
        return found_in_order(text, {self.sentence(rule): rule for rule in self.all_rules(module)})

    def render(self, module: str, rules: Sequence[Rule]) -> str:
        return "\n".join([self.base[module], *(self.sentence(rule) for rule in rules)])

    # --- the forward model ---

    def forward(self, asked: Asked) -> dict[str, str]:
        example = self.by_id.get(asked.example_id or "")
        if example is None:
            return {"label": self.labels[0]}
        return {"label": self.label(self.rules("classify", asked.instruction), example)}

    def effective(self, rules: Sequence[Rule]) -> dict[int, tuple[int, Rule]]:
        """family -> (position, rule) of the rules the model follows: the first `capacity`, the first per family."""
        followed: dict[int, tuple[int, Rule]] = {}
        for position, rule in enumerate(rules[: self.capacity]):
            followed.setdefault(rule.family, (position, rule))
        return followed

    def label(self, rules: Sequence[Rule], example: WorldExample) -> str:
        followed = self.effective(rules)
        own = followed.get(example.family)
        if own is None:
            return example.default
        partner = followed.get(self.conflicts.get(example.family, -1))
        if partner is not None and partner[0] < own[0]:
            return partner[1].value  # the earlier of two conflicting rules wins for both families
        return own[1].value

    # --- the reflector ---

    def fix(self, module: str, seen: Observed, rng: random.Random) -> Rule | None:
        """The rule a reflector editing `module` writes for a failing example."""
        return Rule(module, seen.example.family, seen.gold or self.guess(seen, rng))

    def guess(self, seen: Observed, rng: random.Random) -> str:
        return rng.choice([label for label in self.labels if label != seen.answered])

    def capacity_of(self, module: str) -> int:
        return self.capacity

    def reflect(self, module: str, current: Sequence[Rule], observed: Sequence[Observed], rng) -> list[Rule]:
        """The rules a reflector proposes for `module`'s instruction after seeing `observed` (no noise yet)."""
        new = list(current)
        done: set[int] = set()
        for seen in observed:
            family = seen.example.family
            if not seen.failed or family in done:
                continue
            done.add(family)
            rule = self.fix(module, seen, rng)
            if rule is not None:
                new = self._mend(new, rule, rng)
        return new

    def _mend(self, rules: list[Rule], rule: Rule, rng: random.Random) -> list[Rule]:
        at = next((index for index, known in enumerate(rules) if known.family == rule.family), None)
        if at is None:
            return [*rules, rule]
        if rules[at] != rule:
            return [*rules[:at], rule, *rules[at + 1 :]]
        if at >= self.capacity_of(rule.module):  # there but ignored: moved to the front
            return [rule, *rules[:at], *rules[at + 1 :]]
        partner = next(
            (index for index, known in enumerate(rules) if known.family == self.conflicts.get(rule.family)), None
        )
        if partner is None or partner > at:
            return rules
        rest = [known for index, known in enumerate(rules) if index not in (at, partner)]
        if rng.random() < 0.5:  # drop the rule that wins the conflict
            return [known for index, known in enumerate(rules) if index != partner]
        return [*rest[:partner], rule, rules[partner], *rest[partner:]]  # the losing rule first

    def noisy(self, module: str, current: Sequence[Rule], proposed: Sequence[Rule], rng) -> list[Rule]:
        """What the reflector actually writes: it forgets, drops and invents rules now and then."""
        written = [rule for rule in proposed if rule in current or rng.random() >= P_FORGET]
        kept = [rule for rule in current if rule in written]
        shuffled = kept != [rule for rule in written if rule in current]
        if (len(kept) < len(current) or shuffled) and kept and rng.random() < P_DROP:
            written.remove(rng.choice(kept))
        if rng.random() < P_WRONG:
            wrong = self.wrong_rule(module, written, rng)
            if wrong is not None:
                written.append(wrong)
        return written

    def wrong_rule(self, module: str, rules: Sequence[Rule], rng: random.Random) -> Rule | None:
        present = {rule.family for rule in rules}
        free = [family for family in range(len(self.weights)) if family not in present]
        if not free:
            return None
        family = rng.choice(free)
        gold = self.labels[family % len(self.labels)]
        return Rule(module, family, rng.choice([label for label in self.labels if label != gold]))

    def diagnose(self, module: str, current, observed: Sequence[Observed], rng) -> tuple[list[Observed], dict]:
        """(the examples a critic of `module` fixes in it, feedback on its inputs): one module, nothing upstream."""
        return list(observed), {}

    def module_of(self, observed: Sequence[Observed], instruction: str) -> str:
        """Which module a GEPA reflection is about."""
        return "classify"

    def variant(self, names: Sequence[str], tried: Sequence[dict[str, str]], examples: Sequence[Observed], rng) -> dict:
        """One OPRO proposal: the best texts tried (last), with rules added for every example shown whose
        family has none, one dropped or moved up, or the second best's rules added; the reflector's noise on top."""
        best, second = tried[-1], tried[-2] if len(tried) > 1 else tried[-1]
        module = rng.choice([name.split(".", 1)[0] for name in names if name.split(".", 1)[0] in self.modules])
        name = f"{module}.system"
        rules = self.rules(module, best.get(name, ""))
        kind = rng.choice(("add", "add", "drop", "front", "combine"))
        proposed = list(rules)
        if kind == "combine":
            proposed += [rule for rule in self.rules(module, second.get(name, "")) if rule not in rules]
        elif kind in ("drop", "front") and len(rules) > 1:
            moved = proposed.pop(rng.randrange(len(proposed)))
            proposed = [moved, *proposed] if kind == "front" else proposed
        if proposed == rules:  # nothing to drop, move or combine: a proposal always tries something
            missing = [seen for seen in examples if all(rule.family != seen.example.family for rule in rules)]
            proposed = self.reflect(module, rules, [attrs.evolve(seen, failed=True) for seen in missing], rng)
        return {name: self.render(module, self.noisy(module, rules, proposed, rng))}

    # --- the programs and the truth ---

    def program(self) -> pg.Program:
        return pg.Program.of(pg.Classify(self.labels, system=self.base["classify"]), name="classify")

    def split(self, seed: int) -> tuple[list[WorldExample], list[WorldExample], list[WorldExample]]:
        """(train, validation, test) for one seed: 300, 60 and 240 of the 600 messages."""
        shuffled = random.Random(f"{self.name}-split-{seed}").sample(self.examples, len(self.examples))
        return shuffled[:300], shuffled[300:360], shuffled[360:]

    def score(self, instructions: dict[str, str], examples: Sequence[WorldExample]) -> float:
        """Accuracy of the program whose modules' instructions are these, by the world's rules (no calls)."""
        rules = self.rules("classify", instructions.get("classify", ""))
        return sum(self.label(rules, example) == example.label for example in examples) / len(examples)

    def best_instructions(self) -> dict[str, str]:
        """The best rule set: the largest families that fit, one side of each conflict."""
        order = sorted(range(len(self.weights)), key=lambda family: -self.weights[family])
        chosen: list[int] = []
        for family in order:
            if self.conflicts.get(family) not in chosen and len(chosen) < self.capacity:
                chosen.append(family)
        rules = [Rule("classify", family, self.labels[family % len(self.labels)]) for family in chosen]
        return {"classify": self.render("classify", rules)}
