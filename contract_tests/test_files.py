"""Files with the openai client: upload, list, retrieve, download, delete, and OpenAI's purposes.

Mistral's files API is close to OpenAI's: without the shim the round trip mostly works, but the file object
lacks OpenAI's required ``status``, OpenAI's ``user_data`` purpose is a 422 (Mistral calls it ``ocr``), and
the listing's cursor is ignored (the SDK's auto-paging asks for the same page forever). Behind the shim the
file object is OpenAI's, purposes are mapped (or refused with a 400 that names them), and the listing pages
as OpenAI's does.
"""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from contract_tests.conftest import Breaks

LINES = b"".join(b'{"custom_id": "q%d", "body": {"messages": []}}\n' % n for n in range(3))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.feature("Files", "upload, list, retrieve, download, delete")
def test_a_file_from_upload_to_delete(client: OpenAI, breaks: Breaks) -> None:
    uploaded = client.files.create(file=("contract.jsonl", LINES, "application/jsonl"), purpose="batch")
    assert (uploaded.purpose, uploaded.bytes, uploaded.filename) == ("batch", len(LINES), "contract.jsonl")
    if breaks.expected:
        assert uploaded.status is None
        breaks.note("no status: Mistral's file object lacks OpenAI's required key")
    else:
        assert uploaded.status == "processed"
    # One page: without the shim, the SDK's auto-paging never ends (Mistral ignores the cursor and repeats
    # the page, and sends no has_more).
    assert uploaded.id in {listed.id for listed in client.files.list(purpose="batch").data}
    assert client.files.retrieve(uploaded.id).filename == "contract.jsonl"
    assert client.files.content(uploaded.id).content == LINES
    deleted = client.files.delete(uploaded.id)
    assert deleted.deleted is True and deleted.id == uploaded.id


@pytest.mark.feature("Files", "user_data is Mistral's ocr")
def test_user_data_files_are_mistrals_ocr_files(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.UnprocessableEntityError, "422: 'user_data' is not one of Mistral's purposes"):
        uploaded = client.files.create(file=("doc.pdf", PDF, "application/pdf"), purpose="user_data")
        assert uploaded.purpose == "user_data"
        assert client.files.retrieve(uploaded.id).purpose == "user_data"
        client.files.delete(uploaded.id)


@pytest.mark.feature("Files", "purposes Mistral lacks are a 400")
@pytest.mark.targets("shim+mock", "shim+replay", "live")
@pytest.mark.parametrize("purpose", ["assistants", "vision"])
def test_a_purpose_mistral_lacks_is_a_clear_400(client: OpenAI, purpose: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=("a.png", b"\x89PNG\r\n", "image/png"), purpose=purpose)  # type: ignore[arg-type]
    assert purpose in refused.value.message and refused.value.param == "purpose"  # type: ignore[attr-defined]


@pytest.mark.feature("Files", "listing pages by cursor")
@pytest.mark.targets("shim+mock", "shim+replay", "live")
def test_the_listing_pages_by_cursor_newest_first(client: OpenAI) -> None:
    made = [
        client.files.create(file=(f"page{n}.jsonl", LINES, "application/jsonl"), purpose="batch").id
        for n in range(3)
    ]
    first = client.files.list(purpose="batch", limit=2)
    assert len(first.data) == 2 and first.has_more
    ids = [listed.id for listed in client.files.list(purpose="batch", limit=2)]  # the SDK follows the cursor
    assert len(ids) == len(set(ids)) and set(made) <= set(ids)
    assert ids.index(made[2]) < ids.index(made[0])  # newest first
    ascending = [listed.id for listed in client.files.list(purpose="batch", order="asc")]
    assert ascending.index(made[0]) < ascending.index(made[2])
    for file_id in made:
        client.files.delete(file_id)


@pytest.mark.feature("Files", "an unknown id is a 404")
@pytest.mark.targets("shim+mock", "shim+replay", "live")
def test_an_unknown_file_is_a_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-abc123")
