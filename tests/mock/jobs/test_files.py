"""Mistral's files API on the mock: upload, list, retrieve, download, signed URL and delete, and refusals.

Over real sockets, with Mistral's own SDK where it has a method and plain HTTP for what no SDK sends. Every
answer is held against Mistral's spec (``testkit.spec``), and the file object against the live API's key
order (ruby_llm's upload, 2026-08).
"""

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral

from testkit.auth import AUTH, KEY
from testkit.spec import mistral_response_validator

LIVE_KEY_ORDER = [
    "id", "object", "bytes", "created_at", "filename", "purpose", "sample_type", "num_lines", "mimetype",
    "source", "signature", "expires_at", "visibility",
]  # fmt: skip
LINES = b'{"custom_id": "0", "body": {"messages": [{"role": "user", "content": "Hi"}]}}\n{"custom_id": "1"}\n'


def valid(schema: str, body: Any) -> None:
    problems = mistral_response_validator(schema)(body)
    assert problems == [], problems


@pytest.fixture
def sdk(mock_url: str) -> Iterator[Mistral]:
    with Mistral(api_key=KEY, server_url=mock_url) as made:
        yield made


def upload(http: httpx.Client, content: bytes = LINES, **fields: str) -> httpx.Response:
    name = fields.pop("filename", "requests.jsonl")
    return http.post("/v1/files", data=fields, files={"file": (name, content, "application/octet-stream")})


def test_an_upload_is_mistrals_file_object(http: httpx.Client) -> None:
    answer = upload(http, purpose="batch")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert b'", "' in answer.content, "the files service writes Python's default separators"
    body = answer.json()
    valid("CreateFileResponse", body)
    assert list(body) == LIVE_KEY_ORDER
    assert body["object"] == "file" and body["source"] == "upload" and body["visibility"] == "workspace"
    assert (body["bytes"], body["num_lines"]) == (len(LINES), 2)
    assert body["signature"] == hashlib.md5(LINES).hexdigest()
    assert (body["purpose"], body["sample_type"], body["mimetype"]) == (
        "batch",
        "batch_request",
        "application/jsonl",
    )
    assert body["expires_at"] is None


@pytest.mark.parametrize(
    ("purpose", "sample_type", "lines"),
    [("ocr", "ocr_input", 0), ("fine-tune", "instruct", 2), ("batch", "batch_request", 2)],
)
def test_the_purpose_decides_the_sample_type(
    http: httpx.Client, purpose: str, sample_type: str, lines: int
) -> None:
    body = upload(http, purpose=purpose).json()
    assert (body["sample_type"], body["num_lines"]) == (sample_type, lines)


def test_a_file_without_purpose_is_a_fine_tuning_set(http: httpx.Client) -> None:
    assert upload(http).json()["purpose"] == "fine-tune"


def test_the_parts_type_is_the_mimetype_and_expiry_counts_hours(http: httpx.Client) -> None:
    answer = http.post(
        "/v1/files",
        data={"purpose": "ocr", "expiry": "2", "visibility": "user"},
        files={"file": ("scan.pdf", b"%PDF-1.4\n", "application/pdf")},
    ).json()
    assert answer["mimetype"] == "application/pdf" and answer["visibility"] == "user"
    assert answer["expires_at"] == answer["created_at"] + 2 * 3600


def test_the_sdk_uploads_lists_retrieves_downloads_and_deletes(sdk: Mistral) -> None:
    created = sdk.files.upload(file={"file_name": "mine.jsonl", "content": LINES}, purpose="batch")
    assert created.size_bytes == len(LINES) and created.filename == "mine.jsonl"
    listed = sdk.files.list(purpose="batch", search="mine", page_size=100)
    assert created.id in [item.id for item in listed.data]
    assert listed.total is not None and listed.total >= 1
    retrieved = sdk.files.retrieve(file_id=created.id)
    assert retrieved.deleted is False and retrieved.signature == created.signature
    assert sdk.files.download(file_id=created.id).read() == LINES
    deleted = sdk.files.delete(file_id=created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    assert created.id not in [item.id for item in sdk.files.list(page_size=1000).data]


def test_listing_filters_pages_and_ignores_unknown_keys(start_mock: Callable[..., str]) -> None:
    with httpx.Client(base_url=start_mock(), headers=AUTH) as http:
        ids = [upload(http, LINES + bytes([65 + n]), purpose="batch").json()["id"] for n in range(3)]
        ocr = upload(http, b"%PDF", purpose="ocr", filename="doc.pdf").json()["id"]
        everything = http.get("/v1/files").json()
        valid("ListFilesResponse", everything)
        assert everything["object"] == "list" and everything["total"] == 4
        assert {item["id"] for item in everything["data"]} == {*ids, ocr}
        # The SDK sends metadata and other filters as bare keys: unknown ones are not refused.
        batch = http.get("/v1/files?purpose=batch&sample_type=batch_request&source=upload&team=x").json()
        assert {item["id"] for item in batch["data"]} == set(ids)
        first, second = (http.get(f"/v1/files?page={n}&page_size=2").json() for n in (0, 1))
        assert len(first["data"]) == 2 and len(second["data"]) == 2
        assert not {i["id"] for i in first["data"]} & {i["id"] for i in second["data"]}
        assert http.get("/v1/files?include_total=false").json()["total"] is None
        assert [i["id"] for i in http.get("/v1/files?mimetypes=application/pdf").json()["data"]] == [ocr]


def test_retrieve_delete_and_signed_url_answer_the_spec(http: httpx.Client) -> None:
    file_id = upload(http, purpose="batch").json()["id"]
    retrieved = http.get(f"/v1/files/{file_id}").json()
    valid("GetFileResponse", retrieved)
    assert retrieved["deleted"] is False and list(retrieved)[:-1] == LIVE_KEY_ORDER
    signed = http.get(f"/v1/files/{file_id}/url", params={"expiry": 1}).json()
    valid("GetSignedUrlResponse", signed)
    assert httpx.get(signed["url"]).content == LINES, "a signed URL needs no key"
    tampered = httpx.get(signed["url"].replace("signature=", "signature=0"))
    assert tampered.status_code == 403
    deleted = http.delete(f"/v1/files/{file_id}").json()
    valid("DeleteFileResponse", deleted)
    assert deleted == {"id": file_id, "object": "file", "deleted": True}


def test_a_download_is_an_octet_stream_of_the_exact_bytes(http: httpx.Client) -> None:
    content = bytes(range(256)) * 1000
    file_id = upload(http, content, purpose="ocr", filename="blob.bin").json()["id"]
    answer = http.get(f"/v1/files/{file_id}/content")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.content == content


# --- refusals -------------------------------------------------------------------------------------------


def test_an_unknown_or_deleted_file_is_a_404(http: httpx.Client) -> None:
    file_id = upload(http, purpose="batch").json()["id"]
    assert http.delete(f"/v1/files/{file_id}").status_code == 200
    for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/content"), ("GET", "/url")]:
        answer = http.request(method, f"/v1/files/{file_id}{path}")
        assert (answer.status_code, answer.json()) == (404, {"detail": "File not found"})


def test_a_file_id_that_is_not_a_uuid_is_a_422_on_the_path(http: httpx.Client) -> None:
    answer = http.get("/v1/files/not-a-uuid/content")
    assert answer.status_code == 422
    (detail,) = answer.json()["message"]["detail"]
    assert (detail["type"], detail["loc"], detail["input"]) == (
        "uuid_parsing",
        ["path", "file_id"],
        "not-a-uuid",
    )


def test_bad_query_parameters_are_one_422_naming_each(http: httpx.Client) -> None:
    details = http.get("/v1/files?page=x&include_total=maybe&purpose=nope").json()["message"]["detail"]
    assert [d["loc"] for d in details] == [
        ["query", "page"],
        ["query", "include_total"],
        ["query", "purpose"],
    ]
    file_id = upload(http, purpose="batch").json()["id"]
    (detail,) = http.get(f"/v1/files/{file_id}/url?expiry=500").json()["message"]["detail"]
    assert (detail["type"], detail["loc"]) == ("less_than_equal", ["query", "expiry"])


def test_an_upload_without_a_file_or_with_a_bad_purpose_is_a_422(http: httpx.Client) -> None:
    details = http.post("/v1/files", data={"purpose": "vision"}).json()["message"]["detail"]
    assert [(d["type"], d["loc"]) for d in details] == [
        ("literal_error", ["body", "purpose"]),
        ("missing", ["body", "file"]),
    ]
    assert details[1]["input"] is None
    # A JSON body is read as an empty form, as FastAPI reads it.
    (missing,) = http.post("/v1/files", json={"file": "x"}).json()["message"]["detail"]
    assert missing["loc"] == ["body", "file"]


def test_a_file_sent_as_text_is_not_an_upload(http: httpx.Client) -> None:
    (detail,) = http.post("/v1/files", data={"file": "/etc/passwd"}).json()["message"]["detail"]
    assert detail["msg"] == "Value error, Expected UploadFile, received: <class 'str'>"


def test_a_fine_tuning_file_must_be_utf8_jsonl(http: httpx.Client) -> None:
    answer = upload(http, b'{"ok": 1}\nnot json\n{"also": "fine"}\n{broken\n', purpose="fine-tune")
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"] == "Invalid file format."
    assert body["description"].startswith("Found 2 errors in this file.")
    assert [error["line_number"] for error in body["errors"]] == [2, 4]
    assert body["errors"][0]["message"].startswith("line contains invalid json: ")
    latin = upload(http, "é\n".encode("latin-1"), purpose="fine-tune")
    assert latin.json() == {"detail": "Failed to decode data, please encode your file using UTF-8."}
    assert upload(http, b"\xff\xfe binary", purpose="batch").status_code == 200, "batch files are not checked"


def test_a_malformed_multipart_body_is_the_400_fastapi_sends(http: httpx.Client) -> None:
    answer = http.post(
        "/v1/files",
        content=b"--b\r\nno headers here\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == "There was an error parsing the body"


def test_a_file_over_the_limit_is_a_413(start_mock: Callable[..., str]) -> None:
    with httpx.Client(base_url=start_mock(max_file_mb=0.01), headers=AUTH) as http:
        answer = upload(http, b"x" * 20_000, purpose="batch")
        assert answer.status_code == 413
        assert upload(http, b"x" * 2_000, purpose="batch").status_code == 200


def test_files_dir_keeps_files_across_restarts(start_mock: Callable[..., str], tmp_path: Path) -> None:
    with httpx.Client(base_url=start_mock(files_dir=tmp_path), headers=AUTH) as http:
        file_id = upload(http, purpose="batch").json()["id"]
        refused = http.post("/v1/files", data={"purpose": "nope"}, files={"file": ("x", b"x")})
        assert refused.status_code == 422
        assert not list((tmp_path / ".incoming").iterdir()), "no spooled part is left behind"
    with httpx.Client(base_url=start_mock(files_dir=tmp_path), headers=AUTH) as http:
        assert http.get(f"/v1/files/{file_id}").json()["id"] == file_id
        assert http.get(f"/v1/files/{file_id}/content").content == LINES


def test_uploads_of_the_same_bytes_get_the_same_ids_on_a_new_mock(start_mock: Callable[..., str]) -> None:
    def ids() -> list[str]:
        with httpx.Client(base_url=start_mock(), headers=AUTH) as http:
            return [upload(http, purpose="batch").json()["id"] for _ in range(2)]

    first = ids()
    assert first == ids() and first[0] != first[1]


def test_uploads_stream_through_the_sdk_as_a_file_object(sdk: Mistral) -> None:
    created = sdk.files.upload(file={"file_name": "big.jsonl", "content": io.BytesIO(LINES * 1000)})
    assert created.size_bytes == len(LINES) * 1000 and created.num_lines == 2000
