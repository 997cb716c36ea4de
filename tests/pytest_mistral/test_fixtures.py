"""Authored answers in a user's tests: a rules file per module (the ``mistral_fixtures`` marker) and rules
added by one test (the ``mistral_fixtures`` fixture), gone after it; no recordings needed for what they
answer, and a mistake in a rule fails with the file, the rule and the field named."""

import pytest

RULES = """
rules:
  - name: capital
    match: {last_user: {contains: capital of France}}
    answer: {content: Paris.}
  - name: order lookup
    match: {tools: [lookup_order], last_user: {regex: "order #\\\\d+"}}
    answer:
      sequence:
        - tool_calls: [{name: lookup_order, arguments: {order_id: "A-17"}}]
        - content: Your order A-17 ships tomorrow.
"""

TESTS = """
import json

import pytest

pytestmark = pytest.mark.mistral_fixtures("rules.yaml")
LOOKUP = {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}


def ask(client, text, **extra):
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **extra
    )


def test_capital(openai_client):
    assert ask(openai_client, "What is the capital of France?").choices[0].message.content == "Paris."


def test_tool_then_text(openai_client):
    messages = [{"role": "user", "content": "Where is order #17?"}]
    first = openai_client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[LOOKUP])
    call = first.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"order_id": "A-17"}
    messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "{}"}]
    second = openai_client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[LOOKUP])
    assert second.choices[0].message.content == "Your order A-17 ships tomorrow."


def test_added_for_one_test(openai_client, mistral_fixtures):
    mistral_fixtures.add(match={"last_user": "weather"}, answer={"content": "Sunny."})
    mistral_fixtures.add(match={"endpoint": "embeddings"}, answer={"embedding_seed": "same"})
    assert ask(openai_client, "The weather?").choices[0].message.content == "Sunny."
    vectors = openai_client.embeddings.create(model="mistral-embed", input=["a", "b"]).data
    assert vectors[0].embedding == vectors[1].embedding


@pytest.mark.mistral_synthetic
def test_the_added_rule_is_gone(openai_client):
    assert ask(openai_client, "The weather?").choices[0].message.content != "Sunny."


def test_a_bad_rule_fails_here(mistral_fixtures):
    mistral_fixtures.add(match={"tools": []}, answer={"content": "x"})
"""


def test_fixture_files_and_added_rules_answer_without_recordings(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "mistral_shim_aliases = gpt-4o-mini = mistral-small-latest\n"
    )
    pytester.makefile(".yaml", rules=RULES)
    pytester.makepyfile(test_app=TESTS)
    result = pytester.runpytest("--mistral-upstream=http://127.0.0.1:9")  # replay only, nothing recorded
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FixtureError: test_app.py::test_a_bad_rule_fails_here: mistral_fixtures.add #1:"
            " match.tools: must be*"
        ]
    )
    assert not (pytester.path / "recordings").exists()


def test_a_mistake_in_a_marked_file_names_file_rule_and_field(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", rules="rules:\n  - {match: {last_user: x}, answer: {embedding_seed: s}}\n")
    pytester.makepyfile(
        test_app="import pytest\n\n@pytest.mark.mistral_fixtures('rules.yaml')\n"
        "def test_x(openai_client):\n    pass\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*rules.yaml: rule 1: answer: its answers belong to different endpoints*"])
