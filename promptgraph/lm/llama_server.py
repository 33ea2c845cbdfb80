"""LlamaServerLM: llama-server's own endpoint for the calls whose reply is constrained.

llama-server speaks the Messages API, and promptgraph reaches it through AnthropicLM
like any other server. But its /v1/messages drops what constrains decoding (no
`output_config.format`, no grammar), and a small local model cannot follow a format
instruction on its own. So a request that carries a grammar or a JSON schema goes to
its OpenAI-style /v1/chat/completions instead, which takes both (`grammar`,
`json_schema`) and makes every reply match: a label answer parses by construction.
Everything else, and every limit and count, stays with the inner AnthropicLM.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

import attrs

from promptgraph.lm.anthropic import AnthropicLM
from promptgraph.lm.base import LMError, Request, Response, Usage, Wraps
from promptgraph.lm.reprs import settings

logger = logging.getLogger(__name__)

FINISH_REASONS = {"stop": "end_turn", "length": "max_tokens"}
# The turn markers of the ChatML template SmolLM2 uses: a model that does not end its turn
# writes the next one itself, with more labels in it; the reply must stop at the marker.
CHATML_TURN_MARKERS = ("<|im_start|>", "<|im_end|>")


@attrs.define
class LlamaServerLM(Wraps):
    inner: AnthropicLM  # the same server through the Messages API: base URL, model, concurrency, breaker
    turn_markers: tuple[str, ...] = CHATML_TURN_MARKERS  # stop sequences sent with every request

    def __repr__(self) -> str:
        return settings(self, always=("inner",))

    def complete(self, request: Request) -> Response:
        stops = tuple(dict.fromkeys((*request.stop_sequences, *self.turn_markers)))
        request = attrs.evolve(request, stop_sequences=stops)
        if request.grammar is None and request.output_schema is None:
            return self.inner.complete(request)
        self.inner.breaker.check()
        try:
            with self.inner.limit.slot():
                response = self._constrained(request)
        except LMError as error:
            self.inner.breaker.failed(error, server=self.inner.base_url)
            raise
        self.inner.breaker.succeeded()
        return response

    def probe(self) -> None:
        self.inner.probe()

    def close(self) -> None:
        self.inner.close()

    def _constrained(self, request: Request) -> Response:
        body = _chat_body(request, request.model or self.inner.model)
        logger.debug(
            "sending a constrained request: tag=%s to %s/v1/chat/completions", request.tag, self.inner.base_url
        )
        http = urllib.request.Request(
            f"{self.inner.base_url}/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(http, timeout=self.inner.timeout) as reply:
                data = json.loads(reply.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:300]
            raise LMError(
                f"{body['model']}: llama-server answered {error.code} to a constrained request: {detail}",
                model=body["model"],
                status=error.code,
                transient=error.code == 503 or error.code >= 500,
            ) from error
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
            raise LMError(
                f"{body['model']}: no answer from llama-server ({error})", model=body["model"], transient=True
            ) from error
        return _response(data, body["model"], time.perf_counter() - started)


def _chat_body(request: Request, model: str) -> dict:
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages += [{"role": message.role, "content": message.content} for message in request.messages]
    body = {"model": model, "messages": messages, "max_tokens": request.max_tokens, **request.sampling()}
    if request.stop_sequences:
        body["stop"] = list(request.stop_sequences)
    if request.grammar is not None:  # the more exact of the two, where a format gives both
        body["grammar"] = request.grammar
    else:
        body["json_schema"] = dict(request.output_schema)
    return body


def _response(data: object, model: str, latency: float) -> Response:
    try:
        choice = data["choices"][0]
        text = choice["message"]["content"] or ""
        usage = Usage(
            input_tokens=int(data["usage"]["prompt_tokens"]), output_tokens=int(data["usage"]["completion_tokens"])
        )
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise LMError(f"{model}: llama-server's reply is not a chat completion ({error!r})", model=model) from error
    stop_reason = FINISH_REASONS.get(choice.get("finish_reason"), "end_turn")
    return Response(text=text, stop_reason=stop_reason, usage=usage, model=data.get("model", model), latency=latency)
