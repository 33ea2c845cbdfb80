"""The strong model of a simulated world: it answers every request promptgraph's optimizers and dspy.GEPA send.

What a request is comes from its tag (the `x-promptgraph-tag` header) and what it shows
from promptgraph's markup readers (promptgraph/prompts/markup.py), never from wording:

- critic: the world's reflector reads the step's examples (verdict, expected label, the
  example id in its inputs, the topic it saw or wrote) and writes, as the feedback on the
  step's system prompt, the whole list of rules it wants there; in a pipeline it may blame
  the input an earlier step gave instead (world_pipeline.py);
- rewrite (whole values or edits): writes the rules the feedback lists, with the
  reflector's noise, under the module's base instruction;
- paraphrase: the same rules in another order (order matters: capacity and conflicts);
- opro: variants of the best texts tried (add rules for the examples shown, drop one,
  move one up, combine the two best);
- propose: instructions with rules for a few of the examples shown;
- a request with no promptgraph tag is GEPA's reflection: in dspy.GEPA (dspy 3.4) the
  ProposeInstruction signature through a DSPy adapter (inputs `current_instruction` and
  `examples_with_feedback`, a JSON list of Inputs / Generated Outputs / Feedback; the reply
  is `new_instruction` in the adapter's layout); in the standalone gepa package the
  template with the current instruction in the first ``` block and the examples in the
  second, answered with the new instruction inside a ``` block.
The noise comes from a generator seeded by the world's seed, the request and how many times
the same request was seen, so a run is repeatable.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections import Counter

import attrs
from world_prompts import EXAMPLE_ID, Asked, answer, dspy_inputs, read_forward
from world_rules import Observed, RulesWorld

from promptgraph import prompts
from promptgraph.lm import Request

TOPIC = re.compile(r"\bT-[a-z]+\b")
_REJECTED = re.compile(r'<rejected name="[^"]*">\n.*?\n</rejected>', re.DOTALL)
_VALUE_START = re.compile(r'<value name="([^"]*)">')
_GEPA_EXAMPLE = re.compile(r"^# Example \d+$", re.MULTILINE)
_GEPA_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_GEPA_FIELD = re.compile(r"^### (\w+)\n(.*?)(?=^### |\Z)", re.MULTILINE | re.DOTALL)
_EXPECTED = re.compile(r"expected label is (\w+)")  # search_worlds' GEPA feedback metric says so


@attrs.define
class Reflector:
    world: RulesWorld
    seed: int = 0
    _seen: Counter = attrs.field(factory=Counter, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def respond(self, request: Request) -> str:
        prompt = request.messages[0].content  # a repair round's later turns ask the same again
        rng = self._rng(request.tag, request.system + prompt)
        handlers = {
            "critic": self.critic,
            "paraphrase": self.paraphrase,
            "opro": self.opro,
            "propose": self.propose,
        }
        if request.tag == "rewrite":  # whole values, or find/replace edits when its schema asks for them
            return self.rewrite(prompt, rng, edits="edits" in (request.output_schema or {}).get("properties", {}))
        if request.tag in handlers:
            return handlers[request.tag](prompt, rng)
        asked = read_forward(request)  # an untagged request in a DSPy adapter's layout
        if "new_instruction" in asked.outputs:
            return answer(asked, {"new_instruction": self.gepa_dspy(asked, rng)})
        if "```" in prompt:
            return self.gepa(prompt, rng)
        return "OK"

    def _rng(self, tag: str, text: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}:{tag}:{text}".encode()).hexdigest()
        with self._lock:
            self._seen[digest] += 1
            return random.Random(f"{digest}:{self._seen[digest]}")

    # --- promptgraph ---

    def critic(self, prompt: str, rng: random.Random) -> str:
        shown = prompts.read(prompt)
        module = shown.step
        observed = [self._observed(example) for example in shown.examples]
        observed = [seen for seen in observed if seen is not None]
        current = self.world.rules(module, shown.values.get(f"{module}.system", ""))
        own, upstream = self.world.diagnose(module, current, observed, rng)
        wanted = self.world.reflect(module, current, own, rng)
        feedback = {name: "Keep this text as it is." for name in shown.values}
        if wanted != current:
            sentences = " ".join(self.world.sentence(rule) for rule in wanted)
            feedback[f"{module}.system"] = f"Write exactly these rules, in this order: {sentences}"
        inputs = {field: text for field, text in upstream.items() if field in shown.upstream}
        failed = sum(seen.failed for seen in observed)
        return json.dumps(
            {"critique": f"{failed} of {len(observed)} examples wrong.", "parameters": feedback, "inputs": inputs}
        )

    def _observed(self, shown) -> Observed | None:
        found = EXAMPLE_ID.findall(" ".join(shown.inputs.values()))
        example = self.world.by_id.get(found[-1]) if found else None
        if example is None:
            return None
        topics = TOPIC.findall(shown.text)
        failed = not shown.correct
        return Observed(example, failed, shown.expected, None, topics[-1] if topics else None)

    def rewrite(self, prompt: str, rng: random.Random, *, edits: bool = False) -> str:
        values = prompts.read(prompt).values
        new = {}
        for name, value in values.items():
            module = name.split(".", 1)[0]
            wanted = self.world.rules(module, _REJECTED.sub("", _feedback_of(prompt, name)))
            if not name.endswith(".system") or not wanted:
                continue
            current = self.world.rules(module, value)
            text = self.world.render(module, self.world.noisy(module, current, wanted, rng))
            if text != value:
                new[name] = text
        if edits:
            changes = [{"parameter": name, "find": values[name], "replace": text} for name, text in new.items()]
            return json.dumps({"reasoning": "rules from the feedback", "edits": changes})
        return json.dumps({"reasoning": "rules from the feedback", "values": new})

    def paraphrase(self, prompt: str, rng: random.Random) -> str:
        new = {}
        for name, value in prompts.read(prompt).values.items():
            module = name.split(".", 1)[0]
            if module in self.world.modules and name.endswith(".system"):
                rules = self.world.rules(module, value)
                new[name] = self.world.render(module, rng.sample(rules, len(rules)))
        return json.dumps({"values": new})

    def opro(self, prompt: str, rng: random.Random) -> str:
        shown = prompts.read(prompt)
        tried = [attempt.values for attempt in shown.tried] or [shown.values]
        examples = [seen for seen in map(self._observed, shown.examples) if seen is not None]
        names = [name for name in tried[-1] if name.endswith(".system")]
        proposals = [self.world.variant(names, tried, examples, rng) for _ in range(4)]
        return json.dumps({"proposals": proposals})

    def propose(self, prompt: str, rng: random.Random) -> str:
        shown = prompts.read(prompt)
        examples = [seen for seen in map(self._observed, shown.examples) if seen is not None]
        module = next(iter(shown.values), "classify.system").split(".", 1)[0]
        module = module if module in self.world.modules else self.world.modules[0]
        instructions = []
        for _ in range(4):
            picked = rng.sample(examples, min(len(examples), rng.randint(1, 3)))
            rules = self.world.reflect(module, [], picked, rng)
            instructions.append(self.world.render(module, self.world.noisy(module, [], rules, rng)))
        return json.dumps({"instructions": instructions})

    # --- dspy.GEPA ---

    def gepa(self, prompt: str, rng: random.Random) -> str:
        """gepa's own reflection template: the instruction in the first ``` block, the examples in the second."""
        blocks = prompt.split("```")
        current, side_info = blocks[1], blocks[3] if len(blocks) > 3 else ""
        observed = [self._gepa_block(block) for block in _GEPA_EXAMPLE.split(side_info)]
        return f"```\n{self._reflect_once(current, observed, rng)}\n```"

    def gepa_dspy(self, asked: Asked, rng: random.Random) -> str:
        """dspy.GEPA's ProposeInstruction signature, through a DSPy adapter: the examples as a JSON list."""
        fields = dspy_inputs(asked.question)
        try:
            records = json.loads(fields.get("examples_with_feedback", "[]"))
        except json.JSONDecodeError:
            records = []
        observed = []
        for record in records if isinstance(records, list) else []:
            outputs = record.get("Generated Outputs", {})
            outputs = outputs if isinstance(outputs, dict) else {}
            text = json.dumps(record)
            observed.append(self._gepa_observed(text, outputs.get("label"), str(record.get("Feedback", ""))))
        return self._reflect_once(fields.get("current_instruction", ""), observed, rng)

    def _reflect_once(self, current_text: str, observed: list, rng: random.Random) -> str:
        observed = [seen for seen in observed if seen is not None]
        module = self.world.module_of(observed, current_text)
        current = self.world.rules(module, current_text)
        wanted = self.world.reflect(module, current, observed, rng)  # one global feedback: blames this module
        return self.world.render(module, self.world.noisy(module, current, wanted, rng))

    def _gepa_block(self, block: str) -> Observed | None:
        sections = dict(_sections(block))
        outputs = {name: value.strip() for name, value in _GEPA_FIELD.findall(sections.get("Generated Outputs", ""))}
        return self._gepa_observed(block, outputs.get("label"), sections.get("Feedback", ""))

    def _gepa_observed(self, text: str, answered: str | None, feedback: str) -> Observed | None:
        found = EXAMPLE_ID.findall(text)
        example = self.world.by_id.get(found[0]) if found else None
        if example is None:
            return None
        expected = _EXPECTED.search(feedback)
        failed = not (feedback.strip().startswith("Correct") or "score of 1" in feedback)
        topics = TOPIC.findall(text)
        gold = expected.group(1) if expected else None
        return Observed(example, failed, gold, answered, topics[-1] if topics else None)


def _sections(block: str) -> list[tuple[str, str]]:
    """(heading, body) of each `## heading` section of one example GEPA shows."""
    heads = list(_GEPA_SECTION.finditer(block))
    return [
        (head.group(1).strip(), block[head.end() : nxt.start() if nxt else len(block)])
        for head, nxt in zip(heads, [*heads[1:], None], strict=True)
    ]


def _feedback_of(prompt: str, name: str) -> str:
    """The part of a rewrite prompt about one parameter: from its value to the next parameter's value."""
    starts = [(match.start(), match.group(1)) for match in _VALUE_START.finditer(prompt)]
    for (start, found), (end, _) in zip(starts, [*starts[1:], (len(prompt), "")], strict=True):
        if found == name:
            return prompt[prompt.index("</value>", start) : end]
    return ""
