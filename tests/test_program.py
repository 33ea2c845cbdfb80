import threading

import pytest

from promptgraph import Classify, Example, Generate, GraphError, LMError, Program, Prompt, ScriptedLM
from promptgraph.trace import FAILED, OK


def upper_reply(request):
    return request.messages[-1].content.upper()


def two_step() -> Program:
    program = Program(inputs=("question",))
    program.add("draft", Prompt(inputs=("question",), outputs=("draft",)))
    program.add("polish", Prompt(inputs=("draft",), outputs=("answer",)), draft="draft.draft")
    return program


def test_parameters_are_named_by_node_and_path():
    assert list(two_step().values()) == [
        f"{node}.{part}" for node in ("draft", "polish") for part in ("system", "prefix", "suffix")
    ]


def test_values_flow_along_the_edges():
    traces = two_step().run(
        [Example({"question": "hi"})], lm=ScriptedLM(respond=lambda r: r.messages[-1].content + "!"), progress=False
    )
    assert traces[0].prediction == "hi!!"
    assert list(traces[0].nodes) == ["draft", "polish"]


def test_an_unknown_source_is_refused_naming_it():
    program = Program(inputs=("question",))
    with pytest.raises(GraphError, match="no node 'missing' yet"):
        program.add("b", Prompt(inputs=("x",)), x="missing.text")


def test_an_unknown_output_is_refused_naming_the_outputs():
    program = two_step()
    with pytest.raises(GraphError, match="its outputs are draft"):
        program.add("c", Prompt(inputs=("x",)), x="draft.nothing")


def test_a_cycle_is_refused_and_named():
    program = Program(inputs=("text",))
    program.add("a", Prompt(inputs=("text",)))
    program.add("b", Prompt(inputs=("text",)), text="a.text")
    with pytest.raises(GraphError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        program.connect("b.text", "a.text")
    assert program.wiring("a") == {"text": "text"}  # the refused wiring changed nothing


def test_rewiring_without_a_cycle_is_accepted():
    program = Program(inputs=("text",))
    program.add("a", Prompt(inputs=("text",)))
    program.add("b", Prompt(inputs=("text",)))
    program.connect("a.text", "b.text")
    assert program.generations() == [["a"], ["b"]]


def test_a_node_whose_input_failed_fails_without_calling_the_model():
    lm = ScriptedLM(replies=[])  # the first call fails: no replies
    traces = two_step().run([Example({"question": "hi"})], lm=lm, progress=False)
    assert traces[0].nodes["draft"].status == FAILED
    assert traces[0].nodes["polish"].status == FAILED
    assert "no 'draft' from 'draft'" in traces[0].nodes["polish"].outcome.error
    assert len(lm.requests) == 1


def test_independent_nodes_of_a_generation_run_concurrently():
    program = Program(inputs=("text",))
    for name in ("a", "b", "c", "d"):
        program.add(name, Prompt(inputs=("text",)))
    barrier = threading.Barrier(4, timeout=5)

    def respond(request):
        barrier.wait()  # only returns if all four calls are in flight together
        return "ok"

    traces = program.run([Example({"text": "x"})], lm=ScriptedLM(respond=respond), progress=False)
    assert all(node.status == OK for node in traces[0].nodes.values())


def test_an_example_missing_a_program_input_is_refused_before_any_call():
    lm = ScriptedLM(respond=upper_reply)
    with pytest.raises(GraphError, match="has no input question"):
        two_step().run([Example({"text": "hi"}, id="7")], lm=lm, progress=False)
    assert lm.requests == []


def test_calling_a_program_returns_its_answer():
    program = Program.of(Classify(["yes", "no"]), name="c")
    assert program("is it?", lm=ScriptedLM(replies=["<label>no</label>"])).value == "no"


def test_a_program_is_a_module_inside_a_bigger_program():
    inner = Program.of(Prompt(inputs=("text",), outputs=("shout",)), name="shout")
    outer = Program(inputs=("text",)).add("stage", inner).add("echo", Prompt(inputs=("text",)), text="stage.shout")
    assert "stage.shout.system" in outer.values()
    assert outer("hey", lm=ScriptedLM(respond=upper_reply)).value == "HEY"


def test_program_from_config_points_to_the_loader_that_checks_module_names():
    # program.py sits below saving.py and the registry, so it cannot resolve a saved graph's names itself.
    with pytest.raises(TypeError, match=r"saving\.program_from_dict"):
        Program.from_config({"graph": Program.of(Classify(["a", "b"]), name="c").to_dict()})


def test_a_small_program_repr_names_its_inputs_its_nodes_in_order_and_its_output():
    assert repr(two_step()) == "Program(inputs=['question'], nodes=draft -> polish, output=polish.answer)"


def test_a_program_repr_joins_nodes_that_run_together_with_commas():
    program = Program().add("b", Prompt()).add("a", Prompt())
    program.add("both", Prompt(inputs=("x", "y")), x="a.text", y="b.text")
    assert repr(program) == "Program(inputs=['text'], nodes=a, b -> both, output=both.text)"


def test_a_large_program_repr_counts_its_nodes_instead_of_naming_them():
    program = Program()
    for index in range(30):
        program.add(f"step_with_a_long_name_{index}", Prompt())
    program.output = "step_with_a_long_name_0.text"
    assert repr(program) == "Program(inputs=['text'], nodes=30 in 1 step, output=step_with_a_long_name_0.text)"


def test_an_empty_program_repr_says_it_has_no_nodes_yet():
    assert repr(Program(inputs=("question",))) == "Program(inputs=['question'], nodes=none yet)"


def test_the_old_batch_keyword_still_runs_through_batches_with_a_deprecation_warning():
    from promptgraph.lm import AnthropicLM, Batching
    from promptgraph.testing import MessagesServer

    with MessagesServer(upper_reply, batch_seconds=0.02) as server:
        lm = AnthropicLM(base_url=server.base_url, api_key="test", max_retries=0, layer_retries=0)
        with pytest.warns(DeprecationWarning, match="executor=BatchExecutor"):
            traces = two_step().run(
                [Example({"question": "hi"})], lm=lm, progress=False, batch=Batching(poll_seconds=0.02, progress=False)
            )
        assert len(server.batches) == 2
    assert traces[0].status == OK


def test_parameter_names_are_full_paths_after_a_program_is_nested_in_another():
    inner = two_step()
    outer = Program(inputs=("question",)).add("stage", inner)
    paths = {id(parameter): path for path, parameter in outer.named_parameters()}
    assert paths[id(inner.nodes["draft"].system)] == "stage.draft.system"
    assert [path for path, _ in inner.named_parameters()][0] == "draft.system"  # the inner program's own view


def test_a_module_added_as_two_nodes_has_its_parameters_named_once():
    shared = Prompt(inputs=("question",), outputs=("draft",))
    program = Program(inputs=("question",)).add("first", shared).add("second", shared)
    assert list(program.values()) == ["first.system", "first.prefix", "first.suffix"]


def test_adding_a_module_to_a_program_writes_nothing_into_its_parameters():
    module = Prompt(inputs=("question",))
    Program(inputs=("question",)).add("node", module)
    assert repr(module.system) == "Parameter(value='', trainable=True)"


def test_reading_a_parameter_name_is_deprecated_and_gives_the_label_it_was_made_with():
    from promptgraph.parameter import Parameter

    with pytest.warns(DeprecationWarning, match="named_parameters"):
        assert Parameter("v", name="mine").name == "mine"


def test_to_dict_is_plain_data_that_changing_leaves_the_program_as_it_was():
    import json

    program = two_step()
    program.meta = {"owner": {"team": "data"}}
    data = program.to_dict()
    assert json.loads(json.dumps(data)) == data  # only JSON's own types: no objects, no tuples
    data["meta"]["owner"]["team"] = "changed"
    data["nodes"][0]["parameters"]["system"]["history"].append("changed")
    assert program.meta == {"owner": {"team": "data"}} and program.nodes["draft"].system.history == []


def test_programs_run_together_send_each_generation_to_the_executor_once_and_answer_as_alone():
    from promptgraph.executors import ThreadExecutor
    from promptgraph.program import run_together

    handed: list[int] = []

    class Counting(ThreadExecutor):
        def run(self, tasks, **options):
            handed.append(len(tasks))
            return super().run(tasks, **options)

    first, second = two_step(), two_step()
    second.nodes["polish"].system.value = "Polish it."
    lm = ScriptedLM(respond=lambda r: (r.system or "") + r.messages[-1].content + "!")
    examples = [Example({"question": "hi"}), Example({"question": "yo"})]
    together = run_together([(first, examples), (second, examples[:1])], lm=lm, executor=Counting(), progress=False)
    alone = [first.run(examples, lm=lm, progress=False), second.run(examples[:1], lm=lm, progress=False)]
    assert handed == [3, 3]  # two generations, each with every program's calls
    assert [[trace.prediction for trace in traces] for traces in together] == [
        [trace.prediction for trace in traces] for traces in alone
    ]
    assert together[1][0].prediction.startswith("Polish it.")


def refusing_the_first_step(request):
    if "<note>" in request.messages[-1].content:
        raise LMError("the API answered 401: check ANTHROPIC_API_KEY")
    return "<summary>s</summary>"


def two_steps() -> Program:
    program = Program(inputs=("text",))
    program.add("note", Generate("text -> note"))
    program.add("summarise", Generate("note -> summary"), note="note.note")
    return program


def test_a_node_that_failed_for_want_of_an_input_carries_the_upstream_error_as_its_cause():
    trace = two_steps().run([Example({"text": "q"})], lm=ScriptedLM(respond=refusing_the_first_step))[0]
    assert trace.final.outcome.error == "no 'note' from 'note', which ended failed"
    assert trace.final.outcome.root_error.startswith("'note' failed: the API answered 401")


def test_a_nested_stage_hands_the_root_cause_on_to_the_nodes_after_it():
    bigger = Program(inputs=("text",))
    bigger.add("stage", two_steps())
    bigger.add("after", Generate("summary -> verdict"), summary="stage.summary")
    trace = bigger.run([Example({"text": "q"})], lm=ScriptedLM(respond=refusing_the_first_step))[0]
    assert trace.final.outcome.root_error.startswith("'note' failed: the API answered 401")
