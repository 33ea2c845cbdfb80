"""The Jinja environment every prompt template renders in, and what a render gives back.

Autoescaping is off: these templates make plain text for a model, not HTML, and escaping
would hand the model `&lt;label&gt;` where the user wrote `<label>`. Only attribute values
of the markup (markup.py) are escaped, by the `attribute` filter, so a name or a label
holding a quote cannot break the markup. StrictUndefined makes a misspelt or missing
variable fail loudly instead of rendering as nothing.
"""

from __future__ import annotations

import functools
import html

import attrs
import jinja2

from promptgraph.lm import Request

# The optimizer's calls are few and decide the run: they get the model's careful work (forward calls: low).
OPTIMIZER_EFFORT = "high"


@attrs.frozen
class Rendered:
    """One request's worth of prompt: what it is (`tag`), the system prompt and the user message."""

    tag: str
    system: str
    user: str
    schema: dict | None = attrs.field(default=None, repr=False)  # the JSON the reply must be (prompts/schemas.py)

    def request(self, *, max_tokens: int, seed: int = 0, effort: str | None = OPTIMIZER_EFFORT) -> Request:
        """The request that asks this, tagged with what it is, held to its schema where the server can."""
        return Request(
            messages=[("user", self.user)], system=self.system, max_tokens=max_tokens, tag=self.tag, seed=seed,
            output_schema=self.schema, effort=effort,
        )  # fmt: skip


def clip(text: object, limit: int) -> str:
    """At most `limit` characters, saying how much was cut, so prompts stay bounded."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def attribute(value: object) -> str:
    """A value made safe to stand between the double quotes of a markup attribute."""
    return html.escape(str(value), quote=True)


@functools.cache
def environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("promptgraph.prompts", "templates"),
        autoescape=False,  # plain text for a model, not HTML: see the module's docstring
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["clip"] = clip
    environment.filters["attribute"] = attribute
    return environment


def render(template: str, /, *, tag: str, schema: dict | None = None, **values: object) -> Rendered:
    """Render `templates/<template>.j2`: its `{% set system %}` block is the system prompt, the rest the user message."""
    module = environment().get_template(f"{template}.j2").make_module(values)
    return Rendered(tag=tag, system=str(module.system).strip(), user=str(module).strip(), schema=schema)
