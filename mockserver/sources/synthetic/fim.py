"""Synthetic fill-in-the-middle answers for codestral models.

The middle is code-shaped: it continues the prompt's indentation, opens a block when the prompt ends with
a colon, and ends with the kind of line the suffix expects, so editors and tests get something that looks
like a completion. The answer uses the chat completion shape, as Mistral's FIM endpoint does.
"""

import random

from mistral_wire import tokens
from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.requests import FIMCompletionRequest
from mockserver.sources.synthetic import seeds
from mockserver.sources.synthetic.chat import Answer, Choice, apply_limits, served_model

_NAMES = ("value", "total", "items", "result", "count", "index", "name", "data", "buffer", "offset")
_STATEMENTS = (
    "{a} = {b} + 1",
    "{a} = [x for x in {b} if x]",
    "if {a} is None:\n{i}    {a} = {b}",
    "for {a} in {b}:\n{i}    {c}.append({a})",
    '{a} = {b}.get("{c}", 0)',
    "{c} = len({b})",
    "while {a} < {c}:\n{i}    {a} += 1",
    "{a} = sorted({b})",
)


def _indent_after(prompt: str) -> str:
    last = prompt.rstrip("\n").rsplit("\n", 1)[-1]
    indent = last[: len(last) - len(last.lstrip())]
    return indent + "    " if last.rstrip().endswith(":") else indent


def middle(prompt: str, suffix: str, seed: int) -> str:
    rng = random.Random(seed)
    indent = _indent_after(prompt)
    lines = []
    for _ in range(rng.randint(2, 5)):
        a, b, c = rng.sample(_NAMES, 3)
        lines.append(indent + rng.choice(_STATEMENTS).format(a=a, b=b, c=c, i=indent))
    if "return" not in suffix:
        lines.append(f"{indent}return {rng.choice(_NAMES)}")
    head = "" if prompt.endswith("\n") else "\n"
    return head + "\n".join(lines) + "\n"


def answer(request: FIMCompletionRequest, family: Family, payload: object) -> Answer:
    seed = seeds.request_seed("fim", payload)
    suffix = request.suffix or ""
    pieces = tokens.pieces(middle(request.prompt, suffix, seed), family.tokenizer)
    pieces, finish = apply_limits(pieces, request.stop, request.max_tokens)
    # [PREFIX] … [SUFFIX] … [MIDDLE], plus BOS.
    prompt_tokens = (
        4 + tokens.count(request.prompt, family.tokenizer) + tokens.count(suffix, family.tokenizer)
    )
    return Answer(
        id=seeds.hex_id(seed),
        model=served_model(request.model, family),
        choices=[Choice(0, pieces, finish)],
        prompt_tokens=prompt_tokens,
        fim=True,
    )
