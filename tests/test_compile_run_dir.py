"""compile never replaces a run directory's checkpoint unasked: resume it, overwrite it, or choose another."""

import json
import logging

import pytest

import promptgraph as pg
from promptgraph import checkpoint
from promptgraph.compile import ResumeMismatch, RunExists
from promptgraph.formats import LabelTag
from tests.scenario import FORMAT as CHAIN_FORMAT
from tests.scenario import LABELS, chain, chain_forward, graph_optimizer_lm, pipeline_run, questions
from tests.search_world import FORMAT, classifier, forward_lm, optimizer_lm, train
from tests.search_world import questions as world_questions


def checkpointed(run_dir, iterations=2):
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=iterations, run_dir=run_dir)
    return (run_dir / checkpoint.FILE).read_text(encoding="utf-8")


def test_a_new_compile_into_a_run_dir_holding_a_checkpoint_is_refused_before_any_call(tmp_path):
    saved = checkpointed(tmp_path)
    forward, strong = forward_lm(), optimizer_lm()
    with pytest.raises(RunExists):
        train(pg.TextualGradientDescent(lm=strong), iterations=1, run_dir=tmp_path, lm=forward)
    assert forward.requests == [] and strong.requests == []
    assert (tmp_path / checkpoint.FILE).read_text(encoding="utf-8") == saved


def test_the_refusal_names_the_checkpoint_and_says_resume_overwrite_or_another_run_dir(tmp_path):
    checkpointed(tmp_path)
    with pytest.raises(RunExists) as refused:
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    message = str(refused.value)
    assert str(tmp_path / checkpoint.FILE) in message
    assert "after iteration 2" in message
    assert "resume=True" in message and "overwrite=True" in message and "another run_dir" in message


def test_the_refusal_is_a_promptgraph_error_and_a_value_error():
    assert issubclass(RunExists, pg.PromptgraphError) and issubclass(RunExists, ValueError)


def test_overwrite_starts_a_new_run_in_its_place(tmp_path):
    checkpointed(tmp_path, iterations=2)
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path, overwrite=True)
    assert json.loads((tmp_path / checkpoint.FILE).read_text(encoding="utf-8"))["iteration"] == 1


def test_resume_carries_on_from_the_checkpoint_as_before(tmp_path):
    checkpointed(tmp_path, iterations=1)
    result = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=2, run_dir=tmp_path, resume=True)
    assert [record.iteration for record in result.history] == [0, 1, 2]


def test_a_run_dir_without_a_checkpoint_is_used_as_before(tmp_path):
    (tmp_path / "program.json").write_text("kept", encoding="utf-8")  # compile writes no program.json
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    assert (tmp_path / "program.json").read_text(encoding="utf-8") == "kept"
    assert (tmp_path / checkpoint.FILE).exists()


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="resume=True or overwrite=True"):
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path, resume=True, overwrite=True)


def test_a_damaged_checkpoint_is_refused_too(tmp_path):
    (tmp_path / checkpoint.FILE).write_text("{", encoding="utf-8")  # someone's, even if it cannot be read
    with pytest.raises(RunExists, match="resume=True"):
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)


def a_journal_of(calls: int) -> str:
    """The ledger journal a run killed in iteration 0, before its first checkpoint, leaves: `calls` paid calls."""
    line = {"model": "claude-haiku-5-5", "tag": "validate", "usage": {"input_tokens": 100, "output_tokens": 5}}
    return "".join(json.dumps(line) + "\n" for _ in range(calls))


def test_a_new_run_keeps_the_ledger_journal_of_a_run_killed_before_its_first_checkpoint(tmp_path):
    (tmp_path / checkpoint.JOURNAL).write_text(a_journal_of(7), encoding="utf-8")
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    assert pg.Ledger.from_journal(tmp_path / "ledger-journal.1.jsonl").calls == 7


def test_the_new_run_in_such_a_directory_counts_only_its_own_calls(tmp_path):
    fresh = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path / "fresh")
    (tmp_path / "left" / checkpoint.JOURNAL).parent.mkdir()
    (tmp_path / "left" / checkpoint.JOURNAL).write_text(a_journal_of(7), encoding="utf-8")
    again = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path / "left")
    assert (again.ledger.calls, again.ledger.usd) == (fresh.ledger.calls, fresh.ledger.usd)


# A resume carries on the same run: another program, other data under the same ids or another optimizer is
# refused before any call, in one line that says what differs.


def resume_chain(program, run_dir, **options):
    """The chain of tests/scenario.py resumed in `run_dir`, with its forward and optimizer models, which record."""
    forward, strong = pg.ScriptedLM(respond=chain_forward), graph_optimizer_lm()
    options = {"iterations": 2, "samples_per_label": 6, "val_per_label": 5, "progress": False} | options
    pg.compile(program, trainset=questions(40), lm=forward, optimizer=pg.TextualGradientDescent(lm=strong),
               run_dir=run_dir, resume=True, **options)  # fmt: skip
    return forward, strong


def chain_with_a_gist():
    """The scenario's chain, same node names, but `summarise` answers a `gist` that `classify` reads."""
    program = pg.Program(inputs=("text",))
    program.add("note", pg.Generate(inputs=("text",), outputs=("note",)))
    program.add("summarise", pg.Generate(inputs=("note",), outputs=("gist",)), note="note.note")
    program.add(
        "classify",
        pg.Classify(LABELS, input="gist", system=CHAIN_FORMAT, format=LabelTag(stated=False)),
        gist="summarise.gist",
    )
    return program


def test_resuming_with_a_program_of_another_graph_is_refused_naming_the_nodes_that_differ(tmp_path):
    pipeline_run(run_dir=tmp_path)
    saved = (tmp_path / checkpoint.FILE).read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="another program") as refused:
        resume_chain(chain_with_a_gist(), tmp_path)
    message = str(refused.value)
    assert "node 'summarise' signature note -> summary in the checkpoint, note -> gist now" in message
    assert "node 'classify' reads summary=summarise.summary in the checkpoint, gist=summarise.gist now" in message
    assert "\n" not in message and "start a new run directory" in message
    assert (tmp_path / checkpoint.FILE).read_text(encoding="utf-8") == saved


def test_a_refused_resume_sends_nothing(tmp_path):
    pipeline_run(run_dir=tmp_path)
    forward, strong = pg.ScriptedLM(respond=chain_forward), graph_optimizer_lm()
    with pytest.raises(ValueError):
        pg.compile(chain_with_a_gist(), trainset=questions(40), lm=forward, optimizer=pg.TextualGradientDescent(lm=strong),
                   iterations=2, samples_per_label=6, val_per_label=5, progress=False, run_dir=tmp_path, resume=True)  # fmt: skip
    assert forward.requests == [] and strong.requests == []


def test_a_refused_resume_sends_not_even_the_pre_flight_probe(tmp_path):
    from promptgraph.lm import AnthropicLM
    from promptgraph.testing import MessagesServer

    pipeline_run(run_dir=tmp_path)
    with MessagesServer(chain_forward) as server:
        forward = AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, api_key="test", max_retries=0)
        with pytest.raises(ResumeMismatch):
            pg.compile(chain_with_a_gist(), trainset=questions(40), lm=forward,
                       optimizer=pg.TextualGradientDescent(lm=graph_optimizer_lm()), iterations=2, samples_per_label=6,
                       val_per_label=5, progress=False, run_dir=tmp_path, resume=True)  # fmt: skip
    assert server.probes == {} and not server.seen


def test_resuming_with_a_node_of_another_kind_is_refused(tmp_path):
    checkpointed(tmp_path, iterations=1)
    program = pg.Program.of(pg.Generate("text -> label"), name="classify")
    with pytest.raises(ValueError, match="node 'classify' kind Classify in the checkpoint, Generate now"):
        pg.compile(program, trainset=world_questions(200), lm=forward_lm(), optimizer=pg.TextualGradientDescent(lm=optimizer_lm()),
                   iterations=2, samples_per_label=10, val_per_label=20, progress=False, run_dir=tmp_path, resume=True)  # fmt: skip


def test_resuming_the_same_graph_with_other_texts_carries_on_from_the_checkpoints_texts(tmp_path):
    first = pipeline_run(run_dir=tmp_path)
    other = chain()
    other.nodes["note"].system.value = "another text, which the checkpoint replaces"
    resume_chain(other, tmp_path)
    resumed = checkpoint.read(tmp_path)
    assert resumed.iteration == 2
    assert resumed.history[1]["values"] == first.history[1].values


def flipped(examples):
    """The same ids, every label the other one."""
    other = {"sincere": "insincere", "insincere": "sincere"}
    return [pg.Example(inputs=example.inputs, label=other[example.label], id=example.id) for example in examples]


def resume_world(run_dir, *, trainset=None, optimizer=None, **options):
    return pg.compile(
        classifier(FORMAT), trainset=trainset or world_questions(200), lm=forward_lm(),
        optimizer=optimizer or pg.TextualGradientDescent(lm=optimizer_lm()), iterations=2, samples_per_label=10,
        val_per_label=20, progress=False, run_dir=run_dir, resume=True, **options,
    )  # fmt: skip


def test_resuming_with_the_same_ids_but_other_labels_is_refused(tmp_path):
    checkpointed(tmp_path, iterations=1)
    with pytest.raises(ValueError, match="other data under the same ids") as refused:
        resume_world(tmp_path, trainset=flipped(world_questions(200)))
    assert "trainset and valset's texts or labels differ" in str(refused.value)


def test_resuming_with_the_same_ids_but_other_texts_is_refused(tmp_path):
    checkpointed(tmp_path, iterations=1)
    renamed = [
        pg.Example(inputs={"text": f"{e.inputs['text']}!"}, label=e.label, id=e.id) for e in world_questions(200)
    ]
    with pytest.raises(ValueError, match="other data under the same ids"):
        resume_world(tmp_path, trainset=renamed)


def test_resuming_with_another_optimizer_class_is_refused_naming_both(tmp_path):
    checkpointed(tmp_path, iterations=1)
    with pytest.raises(ValueError, match=r"another optimizer \(TextualGradientDescent, not ParetoSearch\)"):
        resume_world(tmp_path, optimizer=pg.ParetoSearch(lm=optimizer_lm()))


def test_the_refusal_is_a_resume_mismatch_a_promptgraph_error_and_a_value_error(tmp_path):
    checkpointed(tmp_path, iterations=1)
    with pytest.raises(ResumeMismatch) as refused:
        resume_world(tmp_path, optimizer=pg.ParetoSearch(lm=optimizer_lm()))
    assert isinstance(refused.value, pg.PromptgraphError) and isinstance(refused.value, ValueError)


def test_a_pareto_run_resumes_with_a_pareto_search(tmp_path):
    train(pg.ParetoSearch(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    result = resume_world(tmp_path, optimizer=pg.ParetoSearch(lm=optimizer_lm()))
    assert [record.iteration for record in result.history] == [0, 1, 2]


def test_a_checkpoint_written_before_data_and_optimizer_were_recorded_resumes_with_one_warning(tmp_path, caplog):
    checkpointed(tmp_path, iterations=1)
    saved = json.loads((tmp_path / checkpoint.FILE).read_text(encoding="utf-8"))
    for key in ("trainset_content", "valset_content", "optimizer"):
        del saved["settings"][key]
    (tmp_path / checkpoint.FILE).write_text(json.dumps(saved), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="promptgraph"):
        result = resume_world(tmp_path)
    assert [record.iteration for record in result.history] == [0, 1, 2]
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "resuming without checking them" in warnings[0].getMessage()


# An interrupted compile says in one log line how to carry on, then lets the interrupt go on.


def interrupt_after(iterations):
    def on_iteration(history, ledger, program):
        if len(history) > iterations:
            raise KeyboardInterrupt

    return on_iteration


class InterruptedBeforeTheRun:
    def before_run(self, *, resume, overwrite):
        raise KeyboardInterrupt

    def __call__(self, history, ledger, program): ...


def interrupted_warnings(caplog, **options):
    with caplog.at_level(logging.WARNING, logger="promptgraph"), pytest.raises(KeyboardInterrupt):
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=3, **options)
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_an_interrupted_compile_with_a_run_dir_says_how_to_resume_it(tmp_path, caplog):
    said = interrupted_warnings(caplog, run_dir=tmp_path, on_iteration=interrupt_after(1))
    assert said == [f"compile interrupted; carry on with: compile(..., run_dir={str(tmp_path)!r}, resume=True)"]


def test_an_interrupt_before_the_first_checkpoint_says_there_is_nothing_to_resume(tmp_path, caplog):
    said = interrupted_warnings(caplog, run_dir=tmp_path, on_iteration=InterruptedBeforeTheRun())
    assert len(said) == 1 and "there is nothing to resume; run the same compile again" in said[0]


def test_an_interrupted_compile_without_a_run_dir_says_a_run_dir_makes_it_resumable(caplog):
    said = interrupted_warnings(caplog, on_iteration=interrupt_after(1))
    assert len(said) == 1 and "pass run_dir=" in said[0] and "resume=True" in said[0]


def test_a_checkpoint_too_old_to_name_its_optimizer_refuses_one_whose_memory_does_not_fit(tmp_path):
    checkpointed(tmp_path, iterations=1)
    saved = json.loads((tmp_path / checkpoint.FILE).read_text(encoding="utf-8"))
    del saved["settings"]["optimizer"]
    (tmp_path / checkpoint.FILE).write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(ResumeMismatch, match="optimizer memory does not fit a ParetoSearch"):
        resume_world(tmp_path, optimizer=pg.ParetoSearch(lm=optimizer_lm()))
