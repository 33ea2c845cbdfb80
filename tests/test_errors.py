"""`PromptgraphError` is the one base a user catches: every exception promptgraph raises at its users is one."""

import importlib
import inspect
import pkgutil

import pytest

import promptgraph
from promptgraph.errors import PromptgraphError

# Raised and caught inside promptgraph, never meant to reach a user.
INTERNAL = {
    "promptgraph.lm.message_batches.Deferred",  # control flow of a batched run (a BaseException on purpose)
    "promptgraph.optimizers.search.BudgetSpent",  # a search step's budget ran out; the optimizer stops there
    "promptgraph.program_schema.Invalid",  # always turned into a LoadError naming the file
}


def exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(promptgraph.__path__, "promptgraph."):
        if info.name == "promptgraph.__main__":  # runs the command line when imported
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
                and f"{module.__name__}.{name}" not in INTERNAL
            ):
                found.append(value)
    return found


def test_the_walk_finds_the_public_exceptions():
    names = {cls.__name__ for cls in exceptions()}
    assert {"LMError", "LoadError", "DataError", "GraphError", "TrainingError", "UsageError", "Refused"} <= names


@pytest.mark.parametrize("cls", exceptions(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_public_exception_is_a_promptgraph_error(cls):
    assert issubclass(cls, PromptgraphError)


@pytest.mark.parametrize(
    ("cls", "kept"),
    [
        (promptgraph.LoadError, ValueError),  # the command line maps ValueError to exit 2
        (promptgraph.DataError, ValueError),
        (promptgraph.GraphError, ValueError),
        (promptgraph.ParseError, ValueError),
        (promptgraph.LMError, Exception),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_exceptions_keep_the_bases_they_had(cls, kept):
    assert issubclass(cls, kept)


def test_the_base_is_exported_from_the_package():
    assert promptgraph.PromptgraphError is PromptgraphError


def test_an_error_repr_shows_the_start_of_a_long_message_and_str_the_whole():
    error = promptgraph.LMError("the server said: " + "x" * 5000, status=500)
    assert repr(error) == f"LMError('the server said: {'x' * 103}…')"
    assert len(str(error)) == 5017


def test_an_error_repr_without_a_message_is_its_name_and_parentheses():
    assert repr(promptgraph.PromptgraphError()) == "PromptgraphError()"
