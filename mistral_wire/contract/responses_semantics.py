"""Mistral's semantic checks (400) of a schema-valid native Responses request, where chat's rules carry over.

What is checked, and why (no live refusal of this endpoint has been recorded yet, so each rule is chat's,
with chat's body, applied where the Responses conversation plainly needs it):

* the model: unknown, or not a chat model -> chat's ``Invalid model`` (400, ``invalid_model``, code 1500);
* what the model cannot do: images without vision, tools without function calling, ``reasoning.effort``
  without reasoning, invalid function names and parameter schemas, schemas the grammar compiler refuses ->
  chat's refusals, word for word (the request is read as chat, ``responses_chat``);
* tool results against tool calls, by ``call_id``: an output whose call no earlier ``function_call`` made,
  a second output for one call, a call left without output -> mistral-common's sentences (400), naming the
  client's call ids;
* an ``input`` with no turn at all -> chat's "Conversation must have at least one message".

Also refused, by inference from the SDK ("Responses are not stored"): a non-null ``previous_response_id``
or ``conversation`` (there is nothing to continue from) and a non-null ``prompt`` or ``moderation`` (typed
``Any`` only to be refused: the object keeps unknown keys anyway). The wording is the mock's own.

Not carried over: chat's turn-order rules (a user message after a tool result, the last turn's role),
its nine-character rule for call ids (Responses clients send their own ids), its refusal of ``tools: []``.
"""

from mistral_wire.contract import semantics
from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.errors import invalid_request
from mistral_wire.contract.responses import (
    ResponsesFunctionCallOutput,
    ResponsesFunctionToolCall,
    ResponsesRequest,
)
from mistral_wire.contract.responses_chat import as_chat, input_messages

NOT_STORED = "Responses are not stored: send the full history in input"
STATEFUL = ("previous_response_id", "conversation")
UNSUPPORTED = ("prompt", "moderation")


def _stateless(request: ResponsesRequest) -> None:
    for name in STATEFUL:
        if getattr(request, name, None) is not None:
            raise invalid_request(f"{name} is not supported. {NOT_STORED}.")
    for name in UNSUPPORTED:
        if getattr(request, name, None) is not None:
            raise invalid_request(f"{name} is not supported.")


def _calls_answered(request: ResponsesRequest) -> None:
    """Every output answers one earlier call, once; every call is answered (mistral-common's sentences)."""
    if isinstance(request.input, str):
        return
    called: set[str] = set()
    answered: set[str] = set()
    for item in request.input:
        if isinstance(item, ResponsesFunctionToolCall):
            called.add(item.call_id)
        elif isinstance(item, ResponsesFunctionCallOutput):
            if item.call_id in answered:
                raise invalid_request(f"Duplicate tool call id {item.call_id} in tool results")
            if item.call_id not in called:
                raise invalid_request(f"Unexpected tool call id {item.call_id} in tool results")
            answered.add(item.call_id)
    if called != answered:
        raise invalid_request("Not the same number of function calls and responses")


def check_responses(request: ResponsesRequest) -> Family:
    """Refuse what Mistral would refuse of a schema-valid Responses (or input-tokens) request; return the
    model family otherwise."""
    family = semantics.chat_family(request.model)
    _stateless(request)
    _calls_answered(request)
    chat = as_chat(request)
    if input_messages(request, chat) == 0:
        raise invalid_request("Conversation must have at least one message")
    semantics.check_chat_resources(chat, family)
    return family
