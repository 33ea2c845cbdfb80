"""A simulated world served through the Messages API on 127.0.0.1, counting what each side asked of it.

A request to the forward model's name is a forward call (promptgraph's tags forward,
validate, gate, ... or DSPy's untagged calls); any other model is the strong one
(world_reflection.py). The server counts calls and tokens by role, so a run's forward
calls and its cost at list prices come from the world, the same way for every framework.
"""

from __future__ import annotations

import threading

import attrs
from world_prompts import answer, read_forward
from world_reflection import Reflector
from world_rules import RulesWorld

from promptgraph.lm import AnthropicLM, Request, Usage
from promptgraph.lm.tokens import count_tokens
from promptgraph.testing import MessagesServer

FORWARD_MODEL = "claude-haiku-5-5"
STRONG_MODEL = "claude-opus-5-5"


@attrs.define
class Tally:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def usd(self, model: str) -> float:
        return Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens).cost(model)


@attrs.define
class WorldServer:
    world: RulesWorld
    seed: int = 0
    forward: Tally = attrs.field(factory=Tally, init=False)
    strong: Tally = attrs.field(factory=Tally, init=False)
    _reflector: Reflector = attrs.field(init=False)
    _server: MessagesServer = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        self._reflector = Reflector(self.world, seed=self.seed)
        self._server = MessagesServer(respond=self.respond)

    def __enter__(self) -> WorldServer:
        self._server.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def lm(self, model: str = FORWARD_MODEL) -> AnthropicLM:
        return AnthropicLM(model=model, base_url=self.base_url, api_key="world", max_concurrency=8)

    def respond(self, request: Request) -> str:
        forward = request.model == FORWARD_MODEL
        if forward:
            asked = read_forward(request)
            reply = answer(asked, self.world.forward(asked))
        else:
            reply = self._reflector.respond(request)
        prompt = request.system + "".join(message.content for message in request.messages)
        with self._lock:
            tally = self.forward if forward else self.strong
            tally.calls += 1
            tally.input_tokens += count_tokens(prompt)
            tally.output_tokens += count_tokens(reply)
        return reply

    def usd(self) -> float:
        return self.forward.usd(FORWARD_MODEL) + self.strong.usd(STRONG_MODEL)
