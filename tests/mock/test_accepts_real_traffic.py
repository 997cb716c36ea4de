"""The mock accepts what Mistral accepted and refuses what it refused, request for request.

Every Mistral request recorded in ``../shared/real-traffic`` (public test suites' cassettes, 2023-12 to
2026-10) is sent to the mock. Where the live API answered 200 the mock must answer 200; where it answered
400 or 422 the mock must answer the same status. Auth failures, rate limits and server errors depend on
the account and the moment, not on the request, so they are left out.
"""

import json
from collections import Counter
from pathlib import Path

import httpx2 as httpx

from mockserver.recording.cassettes import Interaction, iter_cassette_files, load_cassette
from mockserver.sources.synthetic.answers import POST_ROUTES
from testkit.paths import require_shared

NOT_ABOUT_THE_REQUEST = {401, 429, 500, 502, 503}


def _interactions() -> list[Interaction]:
    root = require_shared() / "real-traffic"
    found = []
    for path in iter_cassette_files(root):
        for interaction in load_cassette(path):
            request = interaction.request
            about_the_request = interaction.response.status not in NOT_ABOUT_THE_REQUEST
            if (
                request.method == "POST"
                and request.path in POST_ROUTES
                and request.body is not None
                and about_the_request
            ):
                found.append(interaction)
    return found


def _body(interaction: Interaction) -> bytes:
    request = interaction.request
    return request.raw_body if request.raw_body is not None else json.dumps(request.body).encode()


def test_every_recorded_request_gets_the_recorded_verdict(http: httpx.Client) -> None:
    interactions = _interactions()
    assert len(interactions) >= 200, "the corpus should hold a few hundred chat, embedding and OCR requests"
    mismatches = []
    verdicts: Counter[str] = Counter()
    for interaction in interactions:
        response = http.post(
            interaction.request.path, content=_body(interaction), headers={"Content-Type": "application/json"}
        )
        expected = interaction.response.status
        verdicts[f"{expected}->{response.status_code}"] += 1
        if response.status_code != expected:
            where = Path(interaction.source).name
            mismatches.append(f"{where}: live {expected}, mock {response.status_code}: {response.text[:300]}")
    print("verdicts (live->mock):", dict(verdicts))
    assert not mismatches, f"{len(mismatches)} of {len(interactions)} differ:\n" + "\n".join(mismatches)


def test_refusals_carry_the_recorded_body(http: httpx.Client) -> None:
    """Where the live API refused, the mock says the same: the message of a 400, the errors of a 422."""
    refused = [i for i in _interactions() if i.response.status in (400, 422)]
    assert refused, "the corpus holds a few 400 and 422 answers"
    for interaction in refused:
        live = interaction.response.body
        mock = http.post(
            interaction.request.path, content=_body(interaction), headers={"Content-Type": "application/json"}
        ).json()
        if interaction.response.status == 400:
            assert mock["message"] == live["message"], interaction.source
        else:
            # The live 422s of 2025-04/05 are bare {"detail": [...]}; the mock envelopes the same details.
            # Union labels name the chunk classes of the time (BBoxChunk, FileURLChunk), so compare the rest.
            assert [(d["type"], d["loc"][:-1], d["msg"]) for d in mock["message"]["detail"]] == [
                (d["type"], d["loc"][:-1], d["msg"]) for d in live["detail"]
            ], interaction.source
