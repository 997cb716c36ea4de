"""Request bodies that go wrong: hypothesis strategies built on the real schemas, and malformed bodies.

The strategies (``MISTRAL_BODIES``, ``OPENAI_BODIES``) make bodies that look like the real thing and then go
wrong.

Random bytes are refused at the first step (JSON parsing) and never reach the code that could fail later;
these bodies are built around the real schemas instead (Mistral's chat, FIM, embeddings and OCR requests,
OpenAI's chat, completions and embeddings requests). Two thirds are "clean": every field the right type
and in range, so they get past validation and exercise the semantic checks and the synthetic generators
(tool schemas and structured outputs with broken keywords included). The rest are "dirty": at every
level a field may hold any JSON value, an out-of-range number, or sit beside unknown keys.

``BODIES`` are bodies no endpoint accepts (broken JSON, non-objects, 100,000 levels of nesting, invalid
UTF-8, wrong content types), each with the status and error Mistral answers it with.
"""

from typing import Any

from hypothesis import strategies as st

# Any JSON value, small: the junk a field may hold instead of what it should.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
TEXT = st.text(max_size=40)
UNKNOWN_KEYS = st.sampled_from(["seed", "user", "junk", "", "model "])

Strategy = st.SearchStrategy[Any]


class Kit:
    """Builders for one flavour of bodies: clean (valid types and ranges) or dirty (junk anywhere)."""

    def __init__(self, dirty: bool) -> None:
        self.dirty = dirty

    def pick(self, good: Strategy, bad: Strategy | None = None) -> Strategy:
        """``good``; when dirty, sometimes ``bad`` (an out-of-range value) or any JSON value."""
        if not self.dirty:
            return good
        return st.one_of(good, good, good, *([bad] if bad is not None else []), JUNK)

    def obj(self, required: dict[str, Strategy], optional: dict[str, Strategy] | None = None) -> Strategy:
        """An object with its required keys and some optional ones; when dirty, keys go missing or extra."""
        need = st.fixed_dictionaries(required)
        some = st.fixed_dictionaries({}, optional=optional or {})
        whole = st.builds(lambda a, b: {**b, **a}, need, some)
        if not self.dirty:
            return whole
        extra = st.dictionaries(UNKNOWN_KEYS, JUNK, min_size=1, max_size=2)
        partial = st.fixed_dictionaries({}, optional={**required, **(optional or {})})
        return st.one_of(whole, whole, st.builds(lambda a, b: {**a, **b}, whole, extra), partial)

    def number(self, low: float, high: float, integer: bool = False) -> Strategy:
        if integer:
            good: Strategy = st.integers(min_value=int(low), max_value=int(high))
            bad: Strategy = st.integers(min_value=-(2**70), max_value=2**70)
        else:
            good = st.floats(min_value=low, max_value=high)
            bad = st.floats(allow_nan=False, allow_infinity=False)
        return self.pick(good, bad)

    def choice(self, valid: list[Any], invalid: list[Any]) -> Strategy:
        return self.pick(st.sampled_from(valid), st.sampled_from(invalid))

    # --- JSON schemas, for tool parameters and structured outputs ---------------------------------------

    def schema(self, depth: int = 2) -> Strategy:
        """A JSON schema whose keywords are plausible, absurd (minItems 10**9) or broken (pattern "(")."""
        size = st.integers(min_value=-3, max_value=10**9)
        keywords: dict[str, Strategy] = {
            "type": st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null"])
            | st.sampled_from(["bounds", "known", "hinted", ""])
            | st.lists(st.sampled_from(["string", "null", "integer"]), max_size=2),
            "minItems": size,
            "maxItems": size,
            "minLength": size,
            "maxLength": size,
            "minProperties": size,
            "minimum": st.integers(min_value=-(10**20), max_value=10**20)
            | st.floats(allow_nan=False, allow_infinity=False),
            "maximum": st.integers(min_value=-(10**20), max_value=10**20)
            | st.floats(allow_nan=False, allow_infinity=False),
            "exclusiveMinimum": st.integers() | st.booleans(),
            "multipleOf": st.integers(min_value=-3, max_value=10) | st.floats(min_value=-1, max_value=10),
            "pattern": st.sampled_from(
                ["^[a-z]+$", "(", "[", "\\d{3}-\\d{4}", "a{100000}", "(?P<x>a)(?P=x)", "\\", "[^\\W\\d]+"]
            ),
            "enum": st.lists(SCALARS, max_size=3) | JUNK,
            "const": JUNK,
            "format": st.sampled_from(["date", "date-time", "email", "uri", "uuid", "ipv4", "bogus"]),
            "required": st.lists(st.text(max_size=5), max_size=3) | JUNK,
            "additionalProperties": st.booleans() | st.just({"type": "integer"}) | JUNK,
            "uniqueItems": st.booleans() | JUNK,
            "$ref": st.sampled_from(
                ["#", "#/definitions/x", "#/properties", "other.json", "#/$defs/missing"]
            ),
        }
        leaf = st.fixed_dictionaries({}, optional=keywords)
        if depth <= 0:
            return leaf | st.booleans()
        inner = self.schema(depth - 1)
        nested: dict[str, Strategy] = {
            "properties": st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3) | JUNK,
            "items": inner,
            "prefixItems": st.lists(inner, max_size=2),
            "anyOf": st.lists(inner, max_size=2) | JUNK,
            "allOf": st.lists(inner, max_size=2) | JUNK,
            "oneOf": st.lists(inner, max_size=2),
        }
        return st.builds(lambda a, b: {**a, **b}, leaf, st.fixed_dictionaries({}, optional=nested))

    def response_format(self) -> Strategy:
        named = self.obj({"name": self.pick(st.just("answer")), "schema": self.pick(self.schema())})
        return st.one_of(
            self.obj({"type": st.sampled_from(["text", "json_object"])}),
            self.obj({"type": st.just("json_schema"), "json_schema": self.pick(named)}),
        )

    def tool(self, names: list[str]) -> Strategy:
        function = self.obj(
            {"name": self.choice(names, ["add task!", "", "x" * 65]), "parameters": self.pick(self.schema())},
            {"description": self.pick(TEXT), "strict": self.pick(st.booleans())},
        )
        return self.obj({"type": self.pick(st.just("function")), "function": function})

    # --- Shared pieces --------------------------------------------------------------------------------------

    def content(self) -> Strategy:
        chunk = st.one_of(
            self.obj({"type": st.just("text"), "text": self.pick(TEXT)}),
            self.obj(
                {"type": st.just("image_url"), "image_url": self.pick(st.just("https://example.com/a.png"))}
            ),
            self.obj({"type": st.sampled_from(["thinking", "file", "input_audio", "nope"])}),
        )
        return self.pick(st.one_of(TEXT, TEXT, st.lists(chunk, max_size=3)), st.none())

    def tool_call(self, ids: list[str]) -> Strategy:
        function = self.obj(
            {"name": self.choice(["get_weather", "f"], ["", "no such"]), "arguments": self.pick(TEXT)}
        )
        return self.obj(
            {"id": self.choice(ids, ["null", "", "x" * 40]), "function": function},
            {"type": self.pick(st.just("function")), "index": self.number(0, 3, integer=True)},
        )

    def sampling(self) -> dict[str, Strategy]:
        return {
            "temperature": self.number(0, 1.5),
            "top_p": self.number(0.01, 1),
            "max_tokens": self.number(0, 200, integer=True),
            "stream": self.pick(st.booleans()),
            "stop": self.pick(TEXT | st.lists(TEXT, max_size=3)),
            "random_seed": self.number(0, 2**31, integer=True),
            "metadata": self.pick(st.dictionaries(TEXT, JUNK, max_size=2)),
        }

    # --- Mistral's requests --------------------------------------------------------------------------------

    def messages(
        self, roles: dict[str, dict[str, Strategy]], bad_roles: list[str], ids: list[str]
    ) -> Strategy:
        """A conversation: each message with the keys its role takes (when dirty, also other roles' keys)."""
        calls = self.pick(st.lists(self.tool_call(ids), max_size=2))
        every = {
            "tool_calls": calls,
            "tool_call_id": self.choice(ids, ["call 1"]),
            "prefix": self.pick(st.booleans()),
        }
        one = st.one_of(
            *(
                self.obj({"role": st.just(role), "content": self.content()}, extra)
                for role, extra in roles.items()
            ),
            *(
                [self.obj({"role": st.sampled_from(bad_roles), "content": self.content()}, every)]
                if self.dirty
                else []
            ),
        )
        user = st.just([{"role": "user", "content": "What is the weather in Paris?"}])
        return user | st.lists(one, max_size=4)

    def mistral_chat(self) -> Strategy:
        ids = ["D681PevKs", "Q7vT2LmXa"]
        calls = self.pick(st.lists(self.tool_call(ids), max_size=2))
        roles = {
            "system": {},
            "user": {},
            "assistant": {"tool_calls": calls, "prefix": self.pick(st.booleans())},
            "tool": {"tool_call_id": self.choice(ids, ["call_1"]), "name": self.pick(TEXT)},
        }
        models = ["mistral-small-latest", "mistral-large-latest", "magistral-small-latest", "pixtral-12b"]
        reasoning = st.fixed_dictionaries(
            {},
            optional={
                "reasoning_effort": self.choice(["none", "high"], ["extreme"]),
                "prompt_mode": self.choice(["reasoning"], ["fast"]),
            },
        )
        plain = self.obj(
            {
                "model": self.choice(models, ["codestral-embed", "gpt-4o", ""]),
                "messages": self.messages(roles, ["developer", "function"], ids),
            },
            {
                **self.sampling(),
                "tools": self.pick(st.lists(self.tool(["get_weather", "lookup_city"]), max_size=2)),
                "tool_choice": self.pick(
                    st.sampled_from(["auto", "any", "none", "required"])
                    | st.just({"type": "function", "function": {"name": "get_weather"}})
                ),
                "response_format": self.pick(self.response_format()),
                "n": self.number(1, 3, integer=True),
                "presence_penalty": self.number(-2, 2),
                "frequency_penalty": self.number(-2, 2),
                "parallel_tool_calls": self.pick(st.booleans()),
                "safe_prompt": self.pick(st.booleans()),
                "prediction": self.pick(self.obj({"type": st.just("content"), "content": TEXT})),
            },
        )
        return plain | st.builds(lambda a, b: {**a, **b}, plain, reasoning)

    def mistral_fim(self) -> Strategy:
        return self.obj(
            {
                "model": self.choice(["codestral-latest", "codestral-2508"], ["mistral-small-latest"]),
                "prompt": self.pick(TEXT),
            },
            {
                **self.sampling(),
                "suffix": self.pick(TEXT | st.none()),
                "min_tokens": self.number(0, 50, integer=True),
            },
        )

    def mistral_embeddings(self) -> Strategy:
        return self.obj(
            {
                "model": self.choice(["mistral-embed", "codestral-embed"], ["mistral-small-latest"]),
                "input": self.pick(TEXT | st.lists(TEXT, max_size=4)),
            },
            {
                "output_dimension": self.number(1, 3072, integer=True),
                "output_dtype": self.choice(["float", "int8", "uint8", "binary", "ubinary"], ["int4"]),
                "encoding_format": self.choice(["float", "base64"], ["hex"]),
                "metadata": self.pick(st.dictionaries(TEXT, JUNK, max_size=2)),
            },
        )

    def mistral_ocr(self) -> Strategy:
        urls = [
            "https://example.com/a.pdf",
            "data:application/pdf;base64,AAAA",
            "data:image/png;base64,!!",
            "x",
        ]
        document = st.one_of(
            self.obj(
                {"type": st.just("document_url"), "document_url": self.pick(st.sampled_from(urls))},
                {"document_name": self.pick(TEXT)},
            ),
            self.obj({"type": st.just("image_url"), "image_url": self.pick(st.sampled_from(urls))}),
            self.obj(
                {"type": st.just("file"), "file_id": self.pick(st.uuids().map(str), st.just("not-a-uuid"))}
            ),
        )
        pages = st.lists(st.integers(min_value=0, max_value=20), max_size=4) | st.sampled_from(
            ["0", "0-3", "2,5"]
        )
        return self.obj(
            {
                "model": self.choice(
                    ["mistral-ocr-latest", "mistral-ocr-2505"], ["mistral-small-latest", None]
                ),
                "document": document,
            },
            {
                "pages": self.pick(
                    pages,
                    st.lists(st.integers(-(10**12), 10**12), max_size=3)
                    | st.sampled_from(["9-1", "x", "0-100000000000"]),
                ),
                "include_image_base64": self.pick(st.booleans()),
                "image_limit": self.number(0, 10, integer=True),
                "image_min_size": self.number(0, 100, integer=True),
                "table_format": self.choice(["markdown", "html"], ["latex"]),
                "extract_header": self.pick(st.booleans()),
                "document_annotation_format": self.pick(self.response_format()),
                "bbox_annotation_format": self.pick(self.response_format()),
                "confidence_scores_granularity": self.choice(["word", "page", "block"], ["char"]),
            },
        )

    # --- OpenAI's requests, as the shim receives them -----------------------------------------------------

    def openai_chat(self) -> Strategy:
        ids = ["call_abc", "call_def"]
        roles = {
            "system": {"name": self.pick(TEXT)},
            "developer": {},
            "user": {"name": self.pick(TEXT)},
            "assistant": {"tool_calls": self.pick(st.lists(self.tool_call(ids), max_size=2))},
            "tool": {"tool_call_id": self.choice(ids, [""])},
        }
        models = ["mistral-small-latest", "mistral-large-latest", "gpt-4o"]
        return self.obj(
            {
                "model": self.choice(models, ["", "codestral-embed"]),
                "messages": self.messages(roles, ["function", "", "robot"], ids),
            },
            {
                **self.sampling(),
                "seed": self.number(0, 2**31, integer=True),
                "max_completion_tokens": self.number(0, 200, integer=True),
                "n": self.number(1, 3, integer=True),
                "user": self.pick(TEXT),
                "store": self.pick(st.booleans()),
                "logprobs": self.pick(st.booleans()),
                "top_logprobs": self.number(0, 20, integer=True),
                "tools": self.pick(st.lists(self.tool(["get_weather", "lookup_city"]), max_size=2)),
                "tool_choice": self.pick(
                    st.sampled_from(["auto", "none", "required"])
                    | st.just({"type": "function", "function": {"name": "get_weather"}})
                ),
                "response_format": self.pick(self.response_format()),
                "stream_options": self.pick(self.obj({"include_usage": st.booleans()})),
                "reasoning_effort": self.choice(["low", "medium", "high"], ["extreme"]),
                "logit_bias": self.pick(
                    st.dictionaries(st.sampled_from(["1", "x"]), st.integers(-200, 200), max_size=2)
                ),
            },
        )

    def openai_completions(self) -> Strategy:
        prompts = TEXT | st.lists(TEXT, max_size=2)
        return self.obj(
            {
                "model": self.choice(
                    ["codestral-latest", "codestral-2508"], ["mistral-small-latest", "gpt-3.5-turbo-instruct"]
                ),
                "prompt": self.pick(prompts, st.lists(st.integers(0, 50), max_size=3)),
            },
            {
                **self.sampling(),
                "suffix": self.pick(TEXT),
                "echo": self.pick(st.booleans()),
                "best_of": self.number(1, 2, integer=True),
                "logprobs": self.number(0, 5, integer=True),
            },
        )

    def openai_embeddings(self) -> Strategy:
        return self.obj(
            {
                "model": self.choice(["mistral-embed", "codestral-embed"], ["text-embedding-3-small"]),
                "input": self.pick(
                    TEXT | st.lists(TEXT, max_size=4),
                    st.lists(st.lists(st.integers(0, 100), max_size=3), max_size=2),
                ),
            },
            {
                "dimensions": self.number(1, 3072, integer=True),
                "encoding_format": self.choice(["float", "base64"], ["hex"]),
                "user": self.pick(TEXT),
            },
        )


def _both(build: str) -> st.SearchStrategy[dict[str, Any]]:
    """Clean and dirty bodies, two to one: clean ones get further into the server, so they get more."""
    clean = getattr(Kit(False), build)()
    return st.one_of(clean, clean, getattr(Kit(True), build)())


MISTRAL_BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "/v1/chat/completions": _both("mistral_chat"),
    "/v1/fim/completions": _both("mistral_fim"),
    "/v1/embeddings": _both("mistral_embeddings"),
    "/v1/ocr": _both("mistral_ocr"),
}
OPENAI_BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "/v1/chat/completions": _both("openai_chat"),
    "/v1/completions": _both("openai_completions"),
    "/v1/embeddings": _both("openai_embeddings"),
}


# --- bodies no endpoint accepts, and what Mistral answers them -----------------------------------------

NESTED_ARRAY = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECT = b'{"model": "mistral-small-latest", "metadata": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001
LONE_SURROGATE = b'{"model": "mistral-small-latest", "messages": [{"role": "user", "content": "\\ud800"}]}'
PARSE = "There was an error parsing the body"
# (name, body, content type, status, the 422's error type or the 400's message)
BODIES: list[tuple[str, bytes, str | None, int, str]] = [
    ("invalid-json", b'{"model": ', "application/json", 422, "json_invalid"),
    ("trailing-garbage", b'{"model": "x"} }', "application/json", 422, "json_invalid"),
    ("array", b"[1, 2, 3]", "application/json", 422, "model_type"),
    ("string", b'"hello"', "application/json", 422, "model_type"),
    ("number", b"42", "application/json", 422, "model_type"),
    ("null", b"null", "application/json", 422, "model_type"),
    ("empty", b"", "application/json", 422, "missing"),
    ("nested-arrays-100k", NESTED_ARRAY, "application/json", 400, PARSE),
    ("nested-objects-100k", NESTED_OBJECT, "application/json", 400, PARSE),
    ("invalid-utf8", b'{"model": "\xff\xfe\xfd"}', "application/json", 400, PARSE),
    ("lone-surrogate", LONE_SURROGATE, "application/json", 400, PARSE),
    ("huge-integer", b'{"model": "x", "max_tokens": ' + b"9" * 5000 + b"}", "application/json", 400, PARSE),
    ("infinity", b'{"model": 1e999}', "application/json", 422, "string_type"),
    ("text-plain", b'{"model": "x"}', "text/plain", 422, "model_type"),
    ("form", b"model=x&prompt=y", "application/x-www-form-urlencoded", 422, "model_type"),
    ("multipart", b"--b\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", 422, "model_type"),
    ("no-content-type-not-json", b"model=x", None, 422, "json_invalid"),
]  # fmt: skip
