"""promptgraph: programs of LLM calls whose prompts are trained by textual backpropagation."""

from promptgraph.backward import Critique, CritiqueLimits, backward
from promptgraph.baseline import Baseline, tfidf_baseline
from promptgraph.compile import CompileResult, IterationRecord, compile
from promptgraph.compile_inputs import NothingToTrain
from promptgraph.data import DataError, Example, load_examples, stratified_sample, stratified_split
from promptgraph.errors import ArgumentError, PromptgraphError
from promptgraph.executors import BatchExecutor, Executor, ThreadExecutor
from promptgraph.formats import JSONSchema, LabelTag, Tags, Text
from promptgraph.lm import (
    FORWARD_MODEL,
    LM,
    OPTIMIZER_MODEL,
    AnthropicLM,
    BatchedLM,
    Batching,
    CachedLM,
    Failure,
    Ledger,
    LMError,
    Request,
    Response,
    ScriptedLM,
    Usage,
    call,
    run_all,
    run_batch,
    with_cache,
)
from promptgraph.lm.local import LocalServer
from promptgraph.metrics import Evaluation, MetricError, Score, evaluate, exact_match, token_f1
from promptgraph.module import Context, Module
from promptgraph.modules import ChainOfThought, Classify, Function, Generate, ParseError, Prompt
from promptgraph.optimizers import (
    OPRO,
    BeamSearch,
    BootstrapDemos,
    Chain,
    DemoSearch,
    Gate,
    KNNDemos,
    ParetoSearch,
    ProposeInstructions,
    TextualGradientDescent,
)
from promptgraph.parameter import Demo, Demos, Feedback, Parameter
from promptgraph.program import GraphError, Program
from promptgraph.progress import ProgressPrinter
from promptgraph.report import ReportWriter, write_report
from promptgraph.retrieval import Retriever
from promptgraph.saving import LoadError, load
from promptgraph.signature import Field, Signature, SignatureError
from promptgraph.synthetic import Classes, Synthesized, synthesize
from promptgraph.trace import Prediction, Trace

__version__ = "0.1.0"

# A library logs and never configures: the application chooses handlers and levels
# (logging.basicConfig(level=logging.DEBUG) shows every request sent and every cache hit). No NullHandler
# either: with no logging configured, Python prints WARNING and above on stderr, and a warning here is
# something a user must see (a budget the first pass may exceed, a kept journal, how to resume).

__all__ = [
    "FORWARD_MODEL",
    "OPTIMIZER_MODEL",
    "OPRO",
    "ParetoSearch",
    "LM",
    "AnthropicLM",
    "ArgumentError",
    "Baseline",
    "BatchExecutor",
    "BatchedLM",
    "Batching",
    "BeamSearch",
    "BootstrapDemos",
    "CachedLM",
    "Chain",
    "ChainOfThought",
    "Classes",
    "Classify",
    "CompileResult",
    "Context",
    "Critique",
    "CritiqueLimits",
    "DataError",
    "Demo",
    "DemoSearch",
    "Demos",
    "Evaluation",
    "Example",
    "Executor",
    "Failure",
    "Feedback",
    "Field",
    "Function",
    "Gate",
    "KNNDemos",
    "Generate",
    "GraphError",
    "IterationRecord",
    "JSONSchema",
    "LMError",
    "LabelTag",
    "Ledger",
    "LoadError",
    "MetricError",
    "NothingToTrain",
    "LocalServer",
    "Module",
    "Parameter",
    "ParseError",
    "Prediction",
    "Program",
    "ProgressPrinter",
    "Prompt",
    "PromptgraphError",
    "ProposeInstructions",
    "ReportWriter",
    "Retriever",
    "Request",
    "Response",
    "ScriptedLM",
    "Score",
    "Signature",
    "SignatureError",
    "Synthesized",
    "Tags",
    "Text",
    "TextualGradientDescent",
    "ThreadExecutor",
    "Trace",
    "Usage",
    "backward",
    "call",
    "compile",
    "evaluate",
    "exact_match",
    "load",
    "load_examples",
    "run_all",
    "run_batch",
    "stratified_sample",
    "stratified_split",
    "synthesize",
    "tfidf_baseline",
    "token_f1",
    "with_cache",
    "write_report",
]
