"""The openai Node SDK (npm, pinned in contract_tests/node/package-lock.json) through the shim.

Each test runs one script of ``contract_tests/node`` with ``node``, pointed at the target's shim, and checks
what the script printed. The scripts are what a Node app would write; they run only through the shim.
"""

import pytest

from contract_tests.targets import Target
from testkit.node import run_script


def through_shim(target: Target) -> dict[str, str]:
    if not target.via_shim:
        pytest.skip("the Node SDK's tests run through the shim")
    return {"SHIM_URL": target.root_url, "SHIM_KEY": target.api_key}


@pytest.mark.feature("Node SDK", "chat and stream")
def test_node_chat_and_stream(target: Target) -> None:
    seen = run_script("chat.mjs", through_shim(target))
    assert seen["text"] and seen["finish"] in ("stop", "length")
    assert seen["streamed"]


@pytest.mark.feature("Node SDK", "files")
def test_node_files(target: Target) -> None:
    seen = run_script("files.mjs", through_shim(target))
    assert (seen["purpose"], seen["status"], seen["filename"]) == ("batch", "processed", "node.jsonl")
    assert seen["listed"] and seen["same"] and seen["deleted"] is True
    assert seen["refused"] == {"status": 400, "param": "purpose"}


@pytest.mark.feature("Node SDK", "batches")
def test_node_batches(target: Target) -> None:
    seen = run_script("batches.mjs", through_shim(target), timeout=1900)
    assert seen["status"] == "completed" and seen["counts"] == {"total": 3, "completed": 2, "failed": 1}
    assert seen["answered"] == ["n0", "n1"] and seen["objects"] == ["chat.completion"]
    assert seen["refused"] == [["tool", 400]] and seen["listed"]


@pytest.mark.feature("Node SDK", "moderations")
def test_node_moderations(target: Target) -> None:
    seen = run_script("moderations.mjs", through_shim(target))
    assert seen["id"].startswith("modr-") and seen["results"] == 2 and seen["flagged"] == "boolean"
    assert len(seen["categories"]) == 13 and seen["scores"] == 13 and "pii" in seen["mistral"]


@pytest.mark.feature("Node SDK", "Responses: create, stream and a tool round trip")
def test_node_responses(target: Target) -> None:
    seen = run_script("responses.mjs", through_shim(target))
    assert seen["id"].startswith("resp_") and seen["text"] and seen["status"] == "completed"
    assert (seen["first"], seen["last"]) == ("response.created", "response.completed")
    assert seen["streamed"] and seen["streamed"] == seen["final"]
    assert seen["call"]["name"] == "get_weather" and seen["call"]["arguments"]["city"]
    assert seen["answer"] and seen["answerStatus"] == "completed"
