"""Ready-made modules."""

from promptgraph.modules.classify import Classify, read_label_tag
from promptgraph.modules.prompt import ParseError, Prompt

__all__ = ["Classify", "ParseError", "Prompt", "read_label_tag"]
