"""Each optimizer prompt carries the schema of the JSON it asks for, in the form structured outputs accept."""

import copy

import pytest
from anthropic.lib._parse._transform import transform_schema

from promptgraph import prompts
from tests.prompts.samples import SAMPLES


def _without_string_formats(schema):
    """transform_schema marks plain strings `format: text`; the API takes them either way."""
    if isinstance(schema, dict):
        return {key: _without_string_formats(value) for key, value in schema.items() if key != "format"}
    if isinstance(schema, list):
        return [_without_string_formats(item) for item in schema]
    return schema


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_every_schema_is_already_strict_as_the_sdk_would_make_it(template):
    render, values = SAMPLES[template]
    schema = render(**values).schema
    assert schema is not None
    assert _without_string_formats(transform_schema(copy.deepcopy(schema))) == schema


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_the_request_asks_for_the_schema_and_the_optimizers_effort(template):
    render, values = SAMPLES[template]
    rendered = render(**values)
    request = rendered.request(max_tokens=100)
    assert request.output_schema == rendered.schema and request.effort == "high"


def test_a_rewrite_may_name_only_the_parameters_it_was_shown():
    views = [{"name": "c.system", "role": "r", "value": "v", "constraints": [], "feedback": [], "rejected": []}]
    edits = prompts.rewrite(node="c", description="d", summary="s", parameters=views, limit=100, edits=True).schema
    assert edits["properties"]["edits"]["items"]["properties"]["parameter"]["enum"] == ["c.system"]
    values = prompts.rewrite(node="c", description="d", summary="s", parameters=views, limit=100, edits=False).schema
    assert values["properties"]["values"]["properties"] == {"c.system": {"type": "string"}}
    assert values["properties"]["values"]["required"] == []  # texts to keep are left out
