"""A program saved before signatures and formats loads, and asks the model exactly what it asked before.

tests/data/program_before_signatures.json was written by main at 5a4ad90 (a Generate, a
ChainOfThought, a Prompt with a format text, and a Classify with a trained format and a
demo); the .requests.json beside it holds what each node rendered then.
"""

import json
from pathlib import Path

import promptgraph as pg
from promptgraph.formats import LabelTag

DATA = Path(__file__).parent / "data"
INPUTS = {"question": "Why are all cats lazy?", "premises": "cats are lazy", "verdict": ""}


def test_an_old_program_renders_byte_for_byte_what_it_rendered_before():
    program = pg.load(DATA / "program_before_signatures.json")
    before = json.loads((DATA / "program_before_signatures.requests.json").read_text())
    for name, module in program.nodes.items():
        request = module.render(INPUTS)
        now = {
            "system": request.system,
            "messages": [[message.role, message.content] for message in request.messages],
            "max_tokens": request.max_tokens,
        }
        assert now == before[name], name
        assert request.effort is None and request.thinking is None and request.temperature is None, name


def test_an_old_classifier_keeps_its_format_in_its_prompts_and_the_rewriter_keeps_it_there():
    classify = pg.load(DATA / "program_before_signatures.json").nodes["classify"]
    assert classify.answer_format == LabelTag(stated=False)
    assert classify.check({"system": "Decide."})  # a rewrite that drops the format is refused, as before


def test_an_old_program_saved_again_loads_as_the_same_program(tmp_path):
    program = pg.load(DATA / "program_before_signatures.json")
    program.save(tmp_path / "again.json")
    again = pg.load(tmp_path / "again.json")
    for name, module in program.nodes.items():
        assert again.nodes[name].render(INPUTS) == module.render(INPUTS), name
