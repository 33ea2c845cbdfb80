"""Ready-made modules."""

from promptgraph.modules.classify import Classify, read_label_tag
from promptgraph.modules.function import Function
from promptgraph.modules.generate import ChainOfThought, Generate, read_tags
from promptgraph.modules.prompt import ParseError, Prompt, reads_cut_replies

__all__ = [
    "ChainOfThought",
    "Classify",
    "Function",
    "Generate",
    "ParseError",
    "Prompt",
    "read_label_tag",
    "read_tags",
    "reads_cut_replies",
]
