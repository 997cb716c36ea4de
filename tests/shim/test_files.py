"""OpenAI's files API through the shim: the table and translation (pure), then the openai client on a shim in
front of a scripted Mistral (``testkit.fake_mistral``) that answers in Mistral's exact shapes."""

from typing import Any

import httpx2 as httpx
import openai
import pytest

from shim.translate import files, forms
from shim.translate.context import Options
from shim.translate.files import FileRef
from shim.translate.problem import OpenAIError
from testkit.auth import AUTH
from testkit.fake_mistral import Faked, parse_form
from testkit.spec import component_schemas, openai_spec

MISTRAL_FILE = {
    "id": "bb9e30b1-970f-4a42-b682-8c0079e7c242",
    "object": "file",
    "bytes": 18810,
    "created_at": 1786389977,
    "filename": "sample.pdf",
    "purpose": "ocr",
    "sample_type": "ocr_input",
    "num_lines": 0,
    "mimetype": "application/pdf",
    "source": "upload",
    "signature": "da49bbe37855af62a6a8809453d17b83",
    "expires_at": None,
    "visibility": "workspace",
}
"""ruby_llm's live upload (2026-08), key for key."""
UUID_A = "0b5f8c3e-1111-4aaa-8bbb-0123456789ab"
UUID_B = "9d0e2f44-2222-4ccc-9ddd-ba9876543210"


# --- the table ----------------------------------------------------------------------------------------------


def test_every_field_of_openais_upload_has_a_row_that_says_why() -> None:
    schema = component_schemas(openai_spec())["CreateFileRequest"]
    assert set(files.FIELDS) == set(schema["properties"])
    assert all(len(row.reason) > 10 for row in files.FIELDS.values())


def test_every_purpose_openai_accepts_has_a_row() -> None:
    schema = component_schemas(openai_spec())["CreateFileRequest"]["properties"]["purpose"]
    assert set(files.PURPOSES) == set(schema["enum"])


@pytest.mark.parametrize(
    ("purpose", "mistral"), [("batch", "batch"), ("fine-tune", "fine-tune"), ("user_data", "ocr")]
)
def test_a_purpose_mistral_has_is_sent_under_its_name(purpose: str, mistral: str) -> None:
    draft = files.translate_upload({"file": True, "purpose": purpose}, Options())
    assert draft.body == {"purpose": mistral}


@pytest.mark.parametrize("purpose", ["assistants", "vision", "evals"])
def test_a_purpose_mistral_lacks_is_a_400_that_names_it(purpose: str) -> None:
    with pytest.raises(OpenAIError) as refused:
        files.translate_upload({"file": True, "purpose": purpose}, Options())
    assert refused.value.status == 400 and refused.value.param == "purpose"
    assert f"'{purpose}'" in refused.value.message and "not supported on Mistral" in refused.value.message


def test_expires_after_is_dropped_and_named() -> None:
    body = forms.fold(
        [("purpose", "batch"), ("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "3600")]
    )
    draft = files.translate_upload({**body, "file": True}, Options())
    assert draft.body == {"purpose": "batch"} and draft.dropped == ["expires_after"]
    with pytest.raises(OpenAIError):
        files.translate_upload({**body, "file": True}, Options(unsupported="error"))


def test_form_keys_fold_into_the_body_openais_schema_describes() -> None:
    pairs = [("a[b]", "1"), ("c[]", "x"), ("c[]", "y"), ("d", "z"), ("e", "1"), ("e", "2")]
    assert forms.fold(pairs) == {"a": {"b": "1"}, "c": ["x", "y"], "d": "z", "e": ["1", "2"]}


# --- ids and the file object --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        FileRef("file", UUID_A),
        FileRef("output", UUID_A),
        FileRef("errors", UUID_A, UUID_B),
        FileRef("errors", None, UUID_B),
        FileRef("errors", UUID_A),
    ],
)
def test_every_id_the_shim_hands_out_decodes_to_what_it_stands_for(ref: FileRef) -> None:
    assert files.decode(ref.encode()) == ref


@pytest.mark.parametrize(
    "given", ["file-abc123", "", "file-batchout.nope", "file-batcherr.none.none", "../x"]
)
def test_an_id_no_file_can_have_is_none(given: str) -> None:
    assert files.decode(given) is None


def test_mistrals_file_object_becomes_openais_with_its_extras_kept() -> None:
    out = files.openai_file(MISTRAL_FILE)
    assert list(out)[:7] == ["id", "object", "bytes", "created_at", "filename", "purpose", "status"]
    assert out["id"] == MISTRAL_FILE["id"] and out["purpose"] == "user_data" and out["status"] == "processed"
    assert "expires_at" not in out  # OpenAI's schema has no null for it
    assert out["signature"] == MISTRAL_FILE["signature"] and out["sample_type"] == "ocr_input"


@pytest.mark.parametrize(
    ("sample", "kind"), [("batch_result", "output"), ("batch_error", "errors"), ("batch_request", "file")]
)
def test_a_batch_jobs_files_are_batch_output_with_ids_that_translate(sample: str, kind: str) -> None:
    out = files.openai_file({**MISTRAL_FILE, "purpose": "batch", "sample_type": sample})
    assert out["purpose"] == ("batch" if kind == "file" else "batch_output")
    ref = files.decode(out["id"])
    assert ref is not None and ref.kind == kind and ref.mistral == MISTRAL_FILE["id"]


# --- the listing --------------------------------------------------------------------------------------------


def listed(count: int) -> list[dict[str, Any]]:
    return [
        {**MISTRAL_FILE, "id": f"{i:08d}-0000-4000-8000-000000000000", "created_at": 1000 + i}
        for i in range(count)
    ]


def test_the_listing_sorts_newest_first_and_pages_by_cursor() -> None:
    plan = files.plan_listing({"limit": "2"}, Options())
    first = files.openai_list(listed(5), plan)
    assert [f["created_at"] for f in first["data"]] == [1004, 1003] and first["has_more"] is True
    after = files.plan_listing({"limit": "2", "after": first["last_id"]}, Options())
    second = files.openai_list(listed(5), after)
    assert [f["created_at"] for f in second["data"]] == [1002, 1001]
    last = files.openai_list(listed(5), files.plan_listing({"after": second["last_id"]}, Options()))
    assert [f["created_at"] for f in last["data"]] == [1000] and last["has_more"] is False


def test_the_listing_in_ascending_order() -> None:
    page = files.openai_list(listed(3), files.plan_listing({"order": "asc"}, Options()))
    assert [f["created_at"] for f in page["data"]] == [1000, 1001, 1002]


def test_listing_purposes_map_to_mistrals_query() -> None:
    assert files.plan_listing({"purpose": "user_data"}, Options()).query == (("purpose", "ocr"),)
    output = files.plan_listing({"purpose": "batch_output"}, Options())
    assert output.query == (
        ("purpose", "batch"),
        ("sample_type", "batch_error"),
        ("sample_type", "batch_result"),
    )
    assert files.plan_listing({"purpose": "assistants"}, Options()).nothing


@pytest.mark.parametrize(
    ("query", "param"), [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"order": "up"}, "order")]
)
def test_a_bad_listing_query_is_a_400(query: dict[str, str], param: str) -> None:
    with pytest.raises(OpenAIError) as refused:
        files.plan_listing(query, Options())
    assert refused.value.param == param


# --- through the shim ---------------------------------------------------------------------------------------


def test_the_openai_client_uploads_lists_retrieves_downloads_and_deletes(faked: Faked) -> None:
    data = b'{"custom_id": "1"}\n' * 3
    uploaded = faked.client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(data) and uploaded.filename == "in.jsonl"
    sent = faked.upstream.received[-1]
    parts = {part.name: part for part in parse_form(sent)}
    assert parts["purpose"].value == b"batch" and parts["file"].value == data
    assert parts["file"].filename == "in.jsonl" and parts["file"].content_type == "application/jsonl"
    assert sent.headers.get("transfer-encoding") == "chunked"  # streamed, not gathered first
    faked.client.files.create(file=("doc.pdf", b"%PDF-1.4", "application/pdf"), purpose="user_data")
    assert [f.id for f in faked.client.files.list(purpose="batch")] == [uploaded.id]
    assert {f.purpose for f in faked.client.files.list()} == {"batch", "user_data"}
    assert faked.client.files.retrieve(uploaded.id).id == uploaded.id
    assert faked.client.files.content(uploaded.id).content == data
    assert faked.client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        faked.client.files.retrieve(uploaded.id)


def test_the_listing_pages_through_the_sdk_cursor(faked: Faked) -> None:
    for i in range(7):
        faked.mistral.add_file(b"x\n", f"f{i}.jsonl", "batch", "batch_request")
    seen = [f.filename for f in faked.client.files.list(limit=3)]
    assert seen == [f"f{i}.jsonl" for i in reversed(range(7))]


def test_a_purpose_mistral_lacks_is_refused_before_the_file_is_sent(faked: Faked) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        faked.client.files.create(file=("a.png", b"\x89PNG", "image/png"), purpose="vision")
    assert "vision" in refused.value.message and refused.value.body["param"] == "purpose"  # type: ignore[index]
    assert faked.upstream.received == []


def test_a_file_sent_before_its_purpose_is_streamed_and_the_purpose_still_translated(faked: Faked) -> None:
    # The openai Node SDK sends the file part first when the caller writes {file, purpose}.
    form = [("file", ("doc.pdf", b"%PDF-1.4 x", "application/pdf")), ("purpose", (None, b"user_data"))]
    answer = httpx.post(f"{faked.shim_url}/v1/files", files=form, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["purpose"] == "user_data"
    parts = {part.name: part.value for part in parse_form(faked.upstream.received[-1])}
    assert parts == {"file": b"%PDF-1.4 x", "purpose": b"ocr"}


def test_a_refused_purpose_after_the_file_aborts_the_upload(faked: Faked) -> None:
    form = [("file", ("a.txt", b"x" * 100_000, "text/plain")), ("purpose", (None, b"assistants"))]
    answer = httpx.post(f"{faked.shim_url}/v1/files", files=form, headers=AUTH, timeout=30)
    assert answer.status_code == 400 and "assistants" in answer.json()["error"]["message"]
    assert faked.mistral.files == {}


@pytest.mark.parametrize(
    ("form", "param"),
    [([("purpose", (None, b"batch"))], "file"), ([("file", ("a", b"x", "text/plain"))], "purpose")],
)
def test_a_form_without_a_required_field_is_a_400_naming_it(
    faked: Faked, form: list[Any], param: str
) -> None:
    answer = httpx.post(f"{faked.shim_url}/v1/files", files=form, headers=AUTH, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == param
    assert faked.mistral.files == {}


def test_an_upload_that_is_not_a_form_is_a_415(faked: Faked) -> None:
    answer = httpx.post(f"{faked.shim_url}/v1/files", json={"purpose": "batch"}, headers=AUTH, timeout=30)
    assert answer.status_code == 415 and "multipart/form-data" in answer.json()["error"]["message"]


def test_a_file_over_the_upload_limit_is_a_413(start_shim: Any, faked: Faked) -> None:
    small = start_shim(upstream=faked.upstream.url, max_upload_mb=0.01)
    form = [("purpose", (None, b"batch")), ("file", ("a.jsonl", b"x" * 50_000, "application/jsonl"))]
    answer = httpx.post(f"{small}/v1/files", files=form, headers=AUTH, timeout=30)
    assert answer.status_code == 413 and "--max-upload-mb" in answer.json()["error"]["message"]
    assert faked.mistral.files == {}


def test_an_id_no_file_has_is_a_404_without_asking_mistral(faked: Faked) -> None:
    with pytest.raises(openai.NotFoundError):
        faked.client.files.retrieve("file-abc123")
    with pytest.raises(openai.NotFoundError):
        faked.client.files.content("../../v1/models")
    assert faked.upstream.received == []


def test_the_routes_are_served_without_the_v1_prefix_too(faked: Faked) -> None:
    file_id = faked.mistral.add_file(b"a\n", "a.jsonl", "batch", "batch_request")
    with httpx.Client(base_url=faked.shim_url, headers=AUTH, timeout=30) as http:
        assert http.get("/files").json()["data"][0]["id"] == file_id
        assert http.get(f"/files/{file_id}/content").content == b"a\n"
