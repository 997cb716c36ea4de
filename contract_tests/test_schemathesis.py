"""Property-based: requests generated from the published specs, answered without a 5xx and as specified.

schemathesis reads Mistral's OpenAPI document and generates requests for every operation the mock serves,
and OpenAI's for every operation the shim translates: valid ones (positive mode) and ones the spec says
are invalid (negative mode), a hundred per operation, from one fixed seed so every run sends the same
requests (alone or within the whole suite), on loopback only. Every answer must

- not be a server error (the mock and the shim answer a bad request with a 4xx, never a 500);
- carry a status the spec documents for the operation, or a 4xx a client can act on (400, 404, 413, 422:
  both specs document only their success and validation statuses);
- carry the media type the spec documents for that answer (JSON, or an event stream for a stream);
- have a body the spec's schema accepts: success bodies and every stream event through the suite's spec
  oracle (``contract_tests/oracle.py``, which forgives Mistral's spec only what ``testkit/spec.py`` lists),
  OpenAI errors as ``ErrorResponse``, Mistral's 422 as its ``HTTPValidationError``, and Mistral's other
  errors as its error envelope (an object with a message).

Generation is narrowed, never the checks. The specs name ``model`` as any string, and generated ones would
almost all be refused as unknown, so each operation's ``model`` is drawn from a few real model ids (a model
path parameter also from one unknown id); negative mode still sends others. The specs' discriminators
(``role`` of a message, ``type`` of a content part) are made required, as a discriminator is the property
a payload names its kind with. Every request carries the right key.

Each defect this found is pinned by a plain test at the end of this module with the request that
revealed it (a field name with a control character, a content part typed as a list, a huge ``n``).
"""

from __future__ import annotations

import copy
import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from contract_tests.columns import skip_unless_selected
from contract_tests.oracle import Oracle
from contract_tests.targets import Target
from testkit.spec import mistral_response_validator, mistral_spec, openai_spec

# The same generated requests whichever tests were selected (``pinned_constants``, in conftest.py).
pytestmark = pytest.mark.usefixtures("pinned_constants")

EXAMPLES = 100
"""Examples per operation, positive and negative together (hypothesis stops earlier on a small space)."""
SEED = 20261201
"""One fixed seed, so every run sends the same requests (see also ``_pinned_constants``)."""
TIMEOUT = 30.0
SENSIBLE_4XX = frozenset({400, 404, 413, 422})
"""Statuses a client can act on, beyond those a spec documents (both document only 200 and 422 or 429).
Not 401: every generated request carries the right key."""
SETTINGS = settings(
    max_examples=EXAMPLES,
    database=None,
    deadline=None,
    # No shrinking: a failure prints the whole request, and shrinking one costs hundreds of requests.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)

CHAT = ("pixtral-12b-2409", "magistral-small-latest", "mistral-large-latest", "mistral-small-latest")
"""Real chat model ids; generation favours the last one of an enum, so it is today's default model."""
MODERATION = ("mistral-moderation-2603", "mistral-moderation-latest")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    request: str | None = None
    """The component schema of the JSON request body (where ``model`` is narrowed), if any."""
    models: tuple[str, ...] = ()
    path_model: str | None = None
    """The path parameter that names a model, narrowed like ``model``."""
    answers: tuple[str, ...] = ()
    """The spec's schemas for a 200 the suite's oracle has no route for (any one of them must accept it)."""


MOCK_OPERATIONS = (
    Operation("POST", "/v1/chat/completions", "chat completions", "ChatCompletionRequest", CHAT),
    Operation(
        "POST", "/v1/fim/completions", "FIM completions", "FIMCompletionRequest", ("codestral-latest",)
    ),
    Operation("POST", "/v1/embeddings", "embeddings", "EmbeddingRequest", ("mistral-embed",)),
    Operation("POST", "/v1/ocr", "OCR", "OCRRequest", ("mistral-ocr-latest",)),
    Operation("GET", "/v1/models", "models list"),
    Operation(
        "GET",
        "/v1/models/{model_id}",
        "model retrieve",
        models=CHAT,
        path_model="model_id",
        answers=("BaseModelCard", "FTModelCard"),  # the spec's oneOf for this answer
    ),
    Operation("POST", "/v1/moderations", "moderations", "ClassificationRequest", MODERATION),
    Operation("POST", "/v1/chat/moderations", "chat moderations", "ChatModerationRequest", MODERATION),
    Operation("POST", "/v1/classifications", "classifications", "ClassificationRequest", MODERATION),
    Operation(
        "POST", "/v1/chat/classifications", "chat classifications", "ChatClassificationRequest", MODERATION
    ),
    Operation("POST", "/v1/audio/speech", "speech", "SpeechRequest", ("voxtral-mini-tts-latest",)),
    Operation("POST", "/v1/batch/jobs", "batch job create", "CreateBatchJobRequest", CHAT),
    Operation("GET", "/v1/batch/jobs", "batch jobs list"),
    Operation("GET", "/v1/batch/jobs/{job_id}", "batch job retrieve"),
    Operation("GET", "/v1/files", "files list"),
    Operation("GET", "/v1/files/{file_id}", "file retrieve"),
)
SHIM_OPERATIONS = (
    Operation("POST", "/chat/completions", "chat completions", "CreateChatCompletionRequest", CHAT),
    Operation("POST", "/completions", "legacy completions", "CreateCompletionRequest", ("codestral-latest",)),
    Operation("POST", "/embeddings", "embeddings", "CreateEmbeddingRequest", ("mistral-embed",)),
    Operation("GET", "/models", "models list"),
    Operation("GET", "/models/{model}", "model retrieve", models=CHAT, path_model="model"),
)


# --- the specs, with ``model`` narrowed -----------------------------------------------------------------


UNKNOWN_MODEL = "no-such-model"
"""One id no catalogue knows, for the model path parameters (bodies get unknown models in negative mode)."""


def _model_schema(models: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(models)}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _require_discriminators(schemas: dict[str, Any]) -> None:
    """Make each discriminator's property required in the schemas it chooses between (in place).

    The specs declare ``role`` (messages) and ``type`` (content parts) as discriminators but leave them
    optional in the member schemas, so most generated messages would carry neither and be refused before
    anything else is looked at. OpenAPI's discriminator is the property that says which member a payload
    is, so a payload has it.
    """
    for node in list(_walk(schemas)):
        discriminator = node.get("discriminator")
        if not isinstance(discriminator, dict):
            continue
        name = discriminator.get("propertyName")
        refs = [*(discriminator.get("mapping") or {}).values()]
        refs += [item.get("$ref") for item in node.get("oneOf", []) + node.get("anyOf", []) if "$ref" in item]
        for ref in refs:
            member = schemas.get(str(ref).removeprefix("#/components/schemas/"))
            if isinstance(member, dict) and name in member.get("properties", {}):
                member["required"] = sorted({*member.get("required", []), name})


def _narrow(spec: dict[str, Any], operations: tuple[Operation, ...]) -> dict[str, Any]:
    """A copy of ``spec`` whose ``model`` fields and model path parameters favour real model ids."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    _require_discriminators(schemas)
    for operation in operations:
        if operation.request is not None:
            schema = schemas[operation.request]
            parts = [schema, *(part for part in schema.get("allOf", []) if "properties" in part)]
            for part in parts:
                if "model" in part.get("properties", {}):
                    part["properties"]["model"] = _model_schema(operation.models)
        if operation.path_model is not None:
            for parameter in spec["paths"][operation.path][operation.method.lower()].get("parameters", []):
                if parameter.get("name") == operation.path_model:
                    parameter["schema"] = _model_schema((UNKNOWN_MODEL, *operation.models))
    return spec


@functools.cache
def _mistral_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(_narrow(mistral_spec(), MOCK_OPERATIONS))


@functools.cache
def _openai_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(_narrow(openai_spec(), SHIM_OPERATIONS))


def _documented(spec: dict[str, Any], operation: Operation) -> dict[int, set[str]]:
    """The statuses the spec documents for an operation, each with its media types."""
    responses = spec["paths"][operation.path][operation.method.lower()]["responses"]
    return {
        int(status): set((answer or {}).get("content") or {})
        for status, answer in responses.items()
        if status.isdigit()
    }


# --- one generated request, sent and judged ---------------------------------------------------------------


@dataclass
class Tally:
    examples: int = 0
    statuses: dict[int, int] | None = None

    def count(self, status: int) -> None:
        self.examples += 1
        self.statuses = self.statuses or {}
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _send(http: httpx.Client, kwargs: dict[str, Any]) -> httpx.Response:
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "accept-encoding"}
    content = None
    if "json" in kwargs:
        content = json.dumps(kwargs["json"]).encode()
    elif "data" in kwargs:
        data = kwargs["data"]
        content = data.encode() if isinstance(data, str) else data
    try:
        return http.request(
            kwargs["method"], kwargs["url"], headers=headers, params=kwargs.get("params"), content=content
        )
    except (httpx.LocalProtocolError, UnicodeEncodeError, ValueError):
        assume(False)  # a header or URL no HTTP client can send: not a request to judge
        raise  # unreachable


def _mistral_error_problems(response: httpx.Response) -> list[str]:
    """Mistral's error bodies: a 422 against ``HTTPValidationError``, others as its error envelope."""
    try:
        body = response.json()
    except ValueError:
        return [f"error body is not JSON: {response.text[:200]!r}"]
    if response.status_code == 422:
        return mistral_response_validator("HTTPValidationError")(body)
    if not isinstance(body, dict) or not (body.get("message") or body.get("detail")):
        return [f"error body has no message or detail: {response.text[:200]!r}"]
    return []


def _judge(
    response: httpx.Response, operation: Operation, documented: dict[int, set[str]], openai_protocol: bool
) -> list[str]:
    status = response.status_code
    problems = []
    if status >= 500:
        problems.append(f"server error {status}: {response.text[:500]}")
    elif status not in documented and status not in SENSIBLE_4XX:
        problems.append(f"status {status} is neither documented ({sorted(documented)}) nor a sensible 4xx")
    media = response.headers.get("content-type", "").split(";")[0].strip()
    allowed = documented.get(status) or {"application/json"}
    if media not in allowed:
        problems.append(f"content type {media!r} for {status}; the spec documents {sorted(allowed)}")
    if 400 <= status < 500 and not openai_protocol:
        problems.extend(_mistral_error_problems(response))
    if status == 200 and operation.answers:
        verdicts = [mistral_response_validator(name)(response.json()) for name in operation.answers]
        if all(verdicts):
            problems.extend(f"none of {operation.answers} accepts it: {error}" for error in verdicts[0][:5])
    return problems


def _run(
    schema: schemathesis.BaseSchema,
    spec: dict[str, Any],
    operation: Operation,
    target: Target,
    base_url: str,
    openai_protocol: bool,
) -> Tally:
    api = schema[operation.path][operation.method]
    documented = _documented(spec, operation)
    oracle = Oracle(openai_protocol=openai_protocol)
    tally = Tally()
    auth = {"Authorization": f"Bearer {target.api_key}"}
    strategy = st.one_of(
        api.as_strategy(generation_mode=GenerationMode.POSITIVE),
        api.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    with httpx.Client(transport=oracle.transport(), timeout=TIMEOUT) as http:

        @SETTINGS
        @seed(SEED)
        @given(case=strategy)
        def example(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url=base_url)
            # Always the right key: a negated Authorization header would stop every request at the door.
            kwargs["headers"] = {**kwargs.get("headers", {}), **auth}
            sent = kwargs.get("json", kwargs.get("params"))
            try:
                response = _send(http, kwargs)
                response.read()
            except httpx.TransportError as error:  # the server dropped the connection: a crash in a handler
                raise AssertionError(
                    f"{kwargs['method']} {kwargs['url']} {json.dumps(sent)[:1500]}\n-> no answer: {error!r}"
                ) from None
            problems = _judge(response, operation, documented, openai_protocol)
            problems += oracle.reset().problems
            tally.count(response.status_code)
            assert not problems, (
                f"{kwargs['method']} {response.request.url} {json.dumps(sent)[:1500]}\n"
                f"-> {response.status_code} {response.text[:800]}\n" + "\n".join(problems[:10])
            )

        example()
    return tally


# --- the tests -----------------------------------------------------------------------------------------


def _operations(operations: tuple[Operation, ...], prefix: str) -> list[Any]:
    return [
        pytest.param(
            operation,
            id=f"{operation.method} {operation.path}",
            marks=pytest.mark.feature("Property-based", f"{prefix}: {operation.name}"),
        )
        for operation in operations
    ]


def _report(request: pytest.FixtureRequest, tally: Tally, started_at: float) -> None:
    seconds = time.perf_counter() - started_at
    request.node.user_properties.append(("examples", tally.examples))
    print(f"{request.node.name}: {tally.examples} examples in {seconds:.1f}s, statuses {tally.statuses}")


@pytest.mark.column("mock")
@pytest.mark.parametrize("operation", _operations(MOCK_OPERATIONS, "mock"))
def test_mock_answers_generated_requests_as_mistrals_spec_says(
    operation: Operation, mock_target: Target, request: pytest.FixtureRequest
) -> None:
    started_at = time.perf_counter()
    tally = _run(
        _mistral_schema(), mistral_spec(), operation, mock_target, mock_target.root_url, openai_protocol=False
    )
    _report(request, tally, started_at)
    assert tally.examples >= 20, "generation collapsed: too few requests were sent"


@pytest.mark.column("shim+mock")
@pytest.mark.parametrize("operation", _operations(SHIM_OPERATIONS, "shim"))
def test_shim_answers_generated_requests_as_openais_spec_says(
    operation: Operation, shim_target: Target, request: pytest.FixtureRequest
) -> None:
    started_at = time.perf_counter()
    tally = _run(
        _openai_schema(), openai_spec(), operation, shim_target, shim_target.base_url, openai_protocol=True
    )
    _report(request, tally, started_at)
    assert tally.examples >= 20, "generation collapsed: too few requests were sent"


def _on_row(path: str) -> Any:
    """A path as a parameter on the matrix row of its operation, where the known gap then shows."""
    name = next(operation.name for operation in SHIM_OPERATIONS if operation.path == path)
    return pytest.param(path, id=path, marks=pytest.mark.feature("Property-based", f"shim: {name}"))


@pytest.mark.column("shim+mock")
@pytest.mark.parametrize(
    "path", [_on_row("/chat/completions"), _on_row("/completions"), _on_row("/embeddings")]
)
def test_shim_answers_an_unknown_field_whose_name_has_a_control_character(
    path: str, shim_target: Target
) -> None:
    """Found by schemathesis (``{"\\u001f": null, ...}``): the shim must drop the field and still answer."""
    body: dict[str, Any] = {"model": "mistral-small-latest", "\x1f": None}
    if path == "/chat/completions":
        body["messages"] = [{"role": "user", "content": "Hello"}]
    elif path == "/completions":
        body |= {"model": "codestral-latest", "prompt": "def f():"}
    else:
        body |= {"model": "mistral-embed", "input": "Hello"}
    with httpx.Client(timeout=TIMEOUT) as http:
        answer = http.post(
            f"{shim_target.base_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {shim_target.api_key}"},
        )
    assert answer.status_code == 200
    assert "\x1f" not in answer.headers.get("x-shim-dropped-params", "")


@pytest.mark.column("shim+mock")
@pytest.mark.feature("Property-based", "shim: chat completions")
@pytest.mark.parametrize("kind", [[], {}], ids=["list", "object"])
def test_shim_refuses_a_content_part_whose_type_is_not_a_string(kind: Any, shim_target: Target) -> None:
    """Found by schemathesis (``{"role": "system", "content": [{"type": []}]}``): a 4xx, not a 500."""
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": [{"type": kind}]}]}
    with httpx.Client(timeout=TIMEOUT) as http:
        auth = {"Authorization": f"Bearer {shim_target.api_key}"}
        answer = http.post(f"{shim_target.base_url}/chat/completions", json=body, headers=auth)
    assert answer.status_code == 400, answer.text
    assert "messages" in answer.json()["error"]["message"]


@pytest.mark.column("mock")
@pytest.mark.feature("Property-based", "mock: chat completions")
def test_mock_refuses_more_choices_than_it_can_serve(request: pytest.FixtureRequest, lone_mock: str) -> None:
    """Found by schemathesis (``"n": 143945558``): an answer (a refusal) in seconds, not a hang."""
    skip_unless_selected(request.config, "mock")
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}], "n": 10**9}
    answer = httpx.post(
        f"{lone_mock}/v1/chat/completions", json=body, headers={"Authorization": "Bearer KEY"}, timeout=5
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
