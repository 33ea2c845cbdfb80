"""Every prompt promptgraph writes for the strong model, in one place.

Each template is a Jinja file in `templates/` (shared blocks as macros in markup.j2) with
one render function in render.py that returns a `Rendered`: the request's tag (what it
is: critic, rewrite, paraphrase, opro, propose, synthesize <phase>), its system prompt and
its user message. What a prompt shows (parameter names and texts, examples, scores) is
written in a small markup that `read` gives back (markup.py), so a program or a test
double standing in for the model keys on the tag and the markup, never on wording.

The forward prompts are not here: their text is the user's, trained (modules/prompt.py).
"""

from promptgraph.prompts.environment import OPTIMIZER_EFFORT, Rendered, clip
from promptgraph.prompts.markup import Shown, ShownExample, ShownTry, read, read_feedback
from promptgraph.prompts.render import (
    CRITIC,
    OPRO,
    PARAPHRASE,
    PROPOSE,
    REWRITE,
    SYNTHESIZE,
    CriticExample,
    ParameterView,
    critic,
    opro,
    paraphrase,
    propose,
    repair,
    rewrite,
    synthesize_diversify,
    synthesize_expand,
    synthesize_generate,
)

__all__ = [
    "CRITIC",
    "OPTIMIZER_EFFORT",
    "OPRO",
    "PARAPHRASE",
    "PROPOSE",
    "REWRITE",
    "SYNTHESIZE",
    "CriticExample",
    "ParameterView",
    "Rendered",
    "Shown",
    "ShownExample",
    "ShownTry",
    "clip",
    "critic",
    "opro",
    "paraphrase",
    "propose",
    "read",
    "read_feedback",
    "repair",
    "rewrite",
    "synthesize_diversify",
    "synthesize_expand",
    "synthesize_generate",
]
