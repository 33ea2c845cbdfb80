"""A filter for wrong answers, trained with no data: describe the classes, synthesize, compile.

    python examples/answer_checker.py               # with Claude: needs ANTHROPIC_API_KEY (or --base-url)
    python examples/answer_checker.py --scripted    # offline, with scripted stand-ins for the models

Step 1 compiles from the two descriptions alone. Step 2 adds three real examples, which
the writer of the synthetic data imitates, and compiles again. Both are tested on the
real question-and-answer pairs in examples/data/answers.jsonl that were not used.

The same through the CLI:
    promptgraph compile --classes classes.json --examples three.jsonl --per-class 40 --out runs/answers
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import promptgraph as pg
from promptgraph import prompts

HERE = Path(__file__).resolve().parent
REAL = HERE / "data" / "answers.jsonl"
DESCRIPTIONS = {
    "correct": "A question followed by an answer that is right, e.g. 'Q: What is 2+2? A: The answer is 4.'",
    "incorrect": "A question followed by an answer that is wrong, e.g. 'Q: What is 2+2? A: The answer is 3.'",
}
FORMAT = "End with Label: <label>correct</label> or Label: <label>incorrect</label>."
THREE = ("a9", "a10", "a1")  # the real examples step 2 adds: two about capitals, one sum


def checker() -> pg.Program:
    classify = pg.Classify(["correct", "incorrect"], system=FORMAT, description="decides whether an answer is right")
    return pg.Program.of(classify, name="check")


def run(
    classes: pg.Classes, real_test: list[pg.Example], forward: pg.LM, strong: pg.LM, per_class: int
) -> tuple[float, float]:
    """(validation accuracy on synthetic data, accuracy on the real test set) after synthesize + compile."""
    data = pg.synthesize(classes, lm=strong, per_class=per_class, avoid=[e.inputs["text"] for e in real_test])
    real_train = [pg.Example({"text": t}, name) for name, texts in classes.examples.items() for t in texts]
    result = pg.compile(
        checker(), trainset=[*data.examples, *real_train], lm=forward, optimizer=pg.TextualGradientDescent(lm=strong),
        iterations=3, samples_per_label=10, val_per_label=10, progress=False,
    )  # fmt: skip
    tested = pg.evaluate(result.program.run(real_test, lm=forward, progress=False), labels=["correct", "incorrect"])
    return result.best.val.accuracy, tested.accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scripted", action="store_true", help="scripted stand-ins instead of Claude (no key, no network)"
    )
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--base-url", default=None)
    arguments = parser.parse_args(argv)
    if arguments.scripted:
        forward, strong = scripted_models()
    else:
        forward = pg.with_cache(pg.AnthropicLM(model=pg.FORWARD_MODEL, base_url=arguments.base_url))
        strong = pg.with_cache(pg.AnthropicLM(model=pg.OPTIMIZER_MODEL, base_url=arguments.base_url))
    real = pg.load_examples(REAL, inputs=("text",), label="label", id="id")
    three = [example for example in real if example.id in THREE]
    test = [example for example in real if example.id not in THREE]

    described = pg.Classes(descriptions=dict(DESCRIPTIONS))
    val, accuracy = run(described, test, forward, strong, arguments.per_class)
    print(
        f"from descriptions only:         synthetic validation {val:.3f}, real test {accuracy:.3f} ({len(test)} pairs)"
    )
    with_three = pg.Classes(descriptions=dict(DESCRIPTIONS))
    for example in three:
        with_three.add_examples(example.label, [example.inputs["text"]])
    val, accuracy = run(with_three, test, forward, strong, arguments.per_class)
    print(
        f"with three real examples added: synthetic validation {val:.3f}, real test {accuracy:.3f} ({len(test)} pairs)"
    )
    return 0


# -- scripted stand-ins: they show the mechanics offline; they know nothing of the world ----

ARITHMETIC = "Work out any sum yourself: an answer whose number differs from the sum is incorrect."
CAPITALS = "Check capital cities: an answer naming another city than the capital is incorrect."
KNOWN_CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Canada": "Ottawa", "Italy": "Rome", "Australia": "Canberra",
                  "Spain": "Madrid", "Germany": "Berlin", "Egypt": "Cairo", "Brazil": "Brasilia", "Peru": "Lima",
                  "Kenya": "Nairobi", "Norway": "Oslo"}  # fmt: skip


def judge(system: str, text: str) -> str:
    """What the scripted classifier says: it checks only the kinds of answer its prompt tells it to."""
    total = re.search(r"What is (\d+)\+(\d+)\?.*?A:\D*(\d+)", text)
    if total and ARITHMETIC in system:
        return "correct" if int(total[1]) + int(total[2]) == int(total[3]) else "incorrect"
    capital = re.search(r"capital of (\w+)\? A: (.*)", text)
    if capital and CAPITALS in system:
        return "correct" if KNOWN_CAPITALS.get(capital[1], "?") in capital[2] else "incorrect"
    return "correct"


def write_data(request: pg.Request) -> str:
    """The scripted writer: sums from the descriptions, and capitals once a real example shows them."""
    prompt = request.messages[-1].content
    shown = prompts.read(prompt)
    name, number = shown.class_name, request.seed
    if request.tag == "synthesize expand":
        examples = []
        for index, summary in enumerate(shown.summaries):
            a, b = 3 + number * 7 + index, 11 + index * 3 + number
            if summary.startswith("capital"):
                country = sorted(KNOWN_CAPITALS)[(number + index) % len(KNOWN_CAPITALS)]
                city = KNOWN_CAPITALS[country] if name == "correct" else "Springfield"
                examples.append(f"Q: What is the capital of {country}? A: {city}.")
            else:
                examples.append(
                    f"Q: What is {a}+{b}? A: It is {a + b if name == 'correct' else a + b + 1 + index % 3}."
                )
        return json.dumps({"examples": examples})
    count = 10  # the most one call asks for; synthesize keeps as many as it asked for
    kinds = ["sum"] + (["capital"] if "capital of" in prompt else [])
    return json.dumps({"summaries": [f"{kinds[k % len(kinds)]} question {number}-{k}" for k in range(count)]})


def critique(request: pg.Request) -> str:
    shown = prompts.read(request.messages[0].content)
    name = next(name for name in shown.values if name.endswith("system"))
    wrong = "".join(example.text for example in shown.examples if not example.correct)
    advice = [rule for rule, sign in ((ARITHMETIC, "+"), (CAPITALS, "capital of")) if sign in wrong]
    return json.dumps({"critique": " ".join(advice) or "fine", "parameters": {name: " ".join(advice)}, "inputs": {}})


def rewrite(request: pg.Request) -> str:
    prompt = request.messages[0].content
    name, value = next((n, v) for n, v in prompts.read(prompt).values.items() if n.endswith("system"))
    added = [rule for rule in (ARITHMETIC, CAPITALS) if rule in prompt and rule not in value]  # asked for
    return json.dumps({"reasoning": "add the checks the critic asked for", "values": {name: " ".join([*added, value])}})


def scripted_models() -> tuple[pg.LM, pg.LM]:
    def forward(request: pg.Request) -> str:
        return f"Label: <label>{judge(request.system, request.messages[-1].content)}</label>"

    def strong(request: pg.Request) -> str:
        if request.tag.startswith("synthesize"):
            return write_data(request)
        return critique(request) if request.tag == "critic" else rewrite(request)

    return pg.ScriptedLM(respond=forward, model="claude-haiku-5-5"), pg.ScriptedLM(
        respond=strong, model="claude-opus-5-5"
    )


if __name__ == "__main__":
    raise SystemExit(main())
