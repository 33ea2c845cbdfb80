from promptgraph.module import Module
from promptgraph.parameter import Parameter
from promptgraph.trace import OK, Outcome


class Inner(Module):
    def __init__(self):
        self.instruction = Parameter("inner")

    def forward(self, inputs, ctx):
        return Outcome(OK)


class Outer(Module):
    def __init__(self):
        self.system = Parameter("s")
        self.steps = [Inner(), Inner()]
        self.helper = Inner()
        self._private = Parameter("hidden")
        self.label_names = ("a", "b")

    def forward(self, inputs, ctx):
        return Outcome(OK)


def test_parameters_are_found_by_walking_attributes_and_named_by_path():
    assert [name for name, _ in Outer().named_parameters()] == [
        "system",
        "steps.0.instruction",
        "steps.1.instruction",
        "helper.instruction",
    ]


def test_a_prefix_names_parameters_under_a_node():
    assert [name for name, _ in Inner().named_parameters("node")] == ["node.instruction"]


def test_freezing_a_module_freezes_every_parameter():
    module = Outer().freeze()
    assert module.trainable_parameters() == []


class Shout(Module):
    inputs = ("text",)
    outputs = ("loud",)

    def forward(self, inputs, ctx):
        return Outcome(OK)


def test_a_user_module_repr_names_its_class_inputs_and_outputs():
    assert repr(Shout()) == "Shout(inputs=['text'], outputs=['loud'])"


def test_a_parameter_reachable_by_two_paths_is_found_once_at_the_first():
    module = Outer()
    module.alias = module.helper  # the same module under a second attribute
    module.again = module.system  # the same parameter under a second attribute
    names = [name for name, _ in module.named_parameters()]
    assert names == ["system", "steps.0.instruction", "steps.1.instruction", "helper.instruction"]


class Looping(Module):
    def __init__(self):
        self.text = Parameter("t")
        self.me = self  # a module that holds itself (or its parent) must not walk forever

    def forward(self, inputs, ctx):
        return Outcome(OK)


def test_a_module_that_holds_itself_is_walked_once():
    assert [name for name, _ in Looping().named_parameters()] == ["text"]
