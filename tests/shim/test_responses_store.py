"""The Responses routes on the store engines a deployment uses: SQLite (the default file) and a real
PostgreSQL (started by the suite), and two shim processes sharing one PostgreSQL, as behind a load balancer.

The engines' own behaviour (one-query chains, atomic writes, purges, migrations) is tested in
tests/shim/store; here the same client-visible promises as on the memory store hold on each engine.
"""

from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from testkit.auth import KEY
from testkit.processes import shim_process
from testkit.responses import MODEL, assert_branches, assert_isolated, user_texts
from testkit.upstream import Upstream


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each SQL engine, as a ``--responses-store`` URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'responses.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def on_store(
    store_url: str,
    upstream: Callable[..., tuple[Upstream, str]],
    start_shim: Callable[..., str],
    mock_url: str,
) -> tuple[OpenAI, Upstream]:
    """An openai client on a shim with that store, its upstream recording what reached the mock."""
    server, url = upstream(forward_to=mock_url)
    shim = start_shim(upstream=url, responses_store=store_url)
    return OpenAI(base_url=f"{shim}/v1", api_key=KEY, max_retries=0), server


def test_the_chain_retrieval_items_and_deletion_on_each_engine(on_store: tuple[OpenAI, Upstream]) -> None:
    client, upstream = on_store
    first = client.responses.create(model=MODEL, input="Name a French cheese.", metadata={"run": "1"})
    second = client.responses.create(model=MODEL, input="Where is it from?", previous_response_id=first.id)
    assert user_texts(upstream.last) == ["Name a French cheese.", "Where is it from?"]
    assert upstream.last["messages"][1]["content"] == first.output_text
    got = client.responses.retrieve(first.id)
    assert got.model_dump() == first.model_dump() and got.metadata == {"run": "1"}
    assert [item.id for item in client.responses.input_items.list(second.id)] == [
        item.id for item in client.responses.input_items.list(second.id, order="asc")
    ][::-1]
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Again.", previous_response_id=first.id)


def test_streams_are_stored_on_each_engine(on_store: tuple[OpenAI, Upstream]) -> None:
    client, _ = on_store
    with client.responses.stream(model=MODEL, input="Tell me a story.") as stream:
        final = stream.get_final_response()
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_isolation_on_each_engine(on_store: tuple[OpenAI, Upstream]) -> None:
    owner, upstream = on_store
    assert_isolated(owner, owner.with_options(api_key="another-mistral-key"), upstream)


def test_branching_on_each_engine(on_store: tuple[OpenAI, Upstream]) -> None:
    assert_branches(*on_store)


def test_a_sqlite_store_outlives_the_shim(start_shim: Callable[..., str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.sqlite3'}"
    before = OpenAI(base_url=f"{start_shim(responses_store=url)}/v1", api_key=KEY, max_retries=0)
    made = before.responses.create(model=MODEL, input="Remember me.")
    after = OpenAI(base_url=f"{start_shim(responses_store=url)}/v1", api_key=KEY, max_retries=0)
    assert after.responses.retrieve(made.id).output_text == made.output_text


def test_the_default_store_is_a_file_in_the_data_directory(tmp_path: Path, mock_url: str) -> None:
    data = tmp_path / "data"
    with shim_process(["--upstream", mock_url, "--data-dir", str(data)], tmp_path) as shim:
        client = OpenAI(base_url=f"{shim.url}/v1", api_key=KEY, max_retries=0)
        made = client.responses.create(model=MODEL, input="Hi")
        assert client.responses.retrieve(made.id).id == made.id
    assert (data / "responses.sqlite3").is_file()
    assert str(data / "responses.sqlite3") in shim.output()  # where it is, printed at startup


def test_two_shims_on_one_postgresql_continue_each_others_responses(
    postgres_url: str, mock_url: str, tmp_path: Path
) -> None:
    store = ["--upstream", mock_url, "--responses-store", postgres_url]
    with shim_process(store, tmp_path) as one, shim_process(store, tmp_path) as two:
        first = OpenAI(base_url=f"{one.url}/v1", api_key=KEY, max_retries=0)
        second = OpenAI(base_url=f"{two.url}/v1", api_key=KEY, max_retries=0)
        opened = first.responses.create(model=MODEL, input="Name a French cheese.")
        followed = second.responses.create(
            model=MODEL, input="Where is it from?", previous_response_id=opened.id
        )
        assert second.responses.retrieve(opened.id).output_text == opened.output_text
        closed = first.responses.create(model=MODEL, input="And its taste?", previous_response_id=followed.id)
        assert first.responses.retrieve(closed.id).previous_response_id == followed.id
        items = [item.id for item in second.responses.input_items.list(closed.id)]
        assert len(items) == 1
        with pytest.raises(openai.NotFoundError):
            second.with_options(api_key="someone-else").responses.retrieve(opened.id)
        second.responses.delete(opened.id)
        with pytest.raises(openai.NotFoundError):
            first.responses.retrieve(opened.id)
    assert "Traceback" not in one.output() + two.output()
