"""The ``ResponseStore`` contract, on every engine: what one engine does, the others do."""

import asyncio
import time

from shim.store import ResponseStore
from testkit.stored import make_record

ALICE = "sk-alice-key"
MALLORY = "sk-mallory-key"


async def test_a_response_comes_back_as_it_was_put(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    # A NUL, non-ASCII text, floats and nesting: the JSON must come back equal, key order included.
    record = make_record(owner, "resp_1", inputs=3, outputs=2, note=" \u0000 naïve 日本 🎉")
    record.response["metadata"] |= {"z": 1, "a": [1.5, {"b": None}], "m": 1e-7}
    await store.put(record)

    found = await store.get(owner, "resp_1")
    assert found is not None
    assert found == record
    assert list(found.response) == list(record.response)
    assert list(found.response["metadata"]) == ["note", "z", "a", "m"]
    assert found.input_items[2]["id"] == "resp_1_in2"
    assert await store.get(owner, "resp_2") is None


async def test_owner_is_a_keyed_hash_never_the_credential(store: ResponseStore) -> None:
    alice = await store.owner_of(ALICE)
    assert alice == await store.owner_of(ALICE)
    assert alice != await store.owner_of(MALLORY)
    assert ALICE not in alice and len(alice) == 64


async def test_another_credential_finds_nothing(store: ResponseStore) -> None:
    alice, mallory = await store.owner_of(ALICE), await store.owner_of(MALLORY)
    await store.put(make_record(alice, "resp_a"))
    await store.put(make_record(alice, "resp_b", previous="resp_a"))

    assert await store.get(mallory, "resp_b") is None
    assert await store.chain(mallory, "resp_b") is None
    assert await store.history(mallory, "resp_b") is None
    assert await store.item(mallory, "resp_b_in0") is None
    assert await store.item(mallory, "resp_a_out0") is None
    assert await store.input_items(mallory, "resp_b", after=None, limit=10, descending=False) is None
    assert await store.delete(mallory, "resp_b") is False
    # ... and the owner still has everything.
    assert await store.get(alice, "resp_b") is not None
    chain = await store.chain(alice, "resp_b")
    assert chain is not None and [r.id for r in chain] == ["resp_a", "resp_b"]
    assert await store.item(alice, "resp_a_out0") is not None


async def test_a_foreign_response_ends_the_chain(store: ResponseStore) -> None:
    alice, mallory = await store.owner_of(ALICE), await store.owner_of(MALLORY)
    await store.put(make_record(mallory, "resp_m"))
    await store.put(make_record(alice, "resp_a", previous="resp_m"))
    chain = await store.chain(alice, "resp_a")
    assert chain is not None and [r.id for r in chain] == ["resp_a"]
    history = await store.history(alice, "resp_a")
    assert history is not None and [item["id"] for item in history] == [
        "resp_a_in0",
        "resp_a_in1",
        "resp_a_out0",
    ]


async def test_delete(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    await store.put(make_record(owner, "resp_1"))
    await store.put(make_record(owner, "resp_2", previous="resp_1"))

    assert await store.delete(owner, "resp_2") is True
    assert await store.get(owner, "resp_2") is None
    assert await store.chain(owner, "resp_2") is None
    assert await store.item(owner, "resp_2_in0") is None
    assert await store.input_items(owner, "resp_2", after=None, limit=10, descending=False) is None
    assert await store.delete(owner, "resp_2") is False
    assert await store.get(owner, "resp_1") is not None


async def test_a_deleted_response_ends_the_chain_behind_it(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    for number, previous in ((1, None), (2, "resp_1"), (3, "resp_2")):
        await store.put(make_record(owner, f"resp_{number}", previous=previous))
    assert await store.delete(owner, "resp_2")
    chain = await store.chain(owner, "resp_3")
    assert chain is not None and [r.id for r in chain] == ["resp_3"]
    assert await store.history(owner, "resp_2") is None
    history = await store.history(owner, "resp_3")
    assert history is not None and {item["id"][:6] for item in history} == {"resp_3"}


async def test_expired_responses_are_absent_and_purged(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    now = time.time()
    await store.put(make_record(owner, "resp_old", created=now - 100, ttl=50))
    await store.put(make_record(owner, "resp_live", previous="resp_old", created=now - 10))
    await store.put(make_record(owner, "resp_gone", previous="resp_live", created=now - 100, ttl=99))

    for rid in ("resp_old", "resp_gone"):
        assert await store.get(owner, rid) is None
        assert await store.chain(owner, rid) is None
        assert await store.history(owner, rid) is None
        assert await store.item(owner, f"{rid}_in0") is None
        assert await store.input_items(owner, rid, after=None, limit=5, descending=False) is None
        assert await store.delete(owner, rid) is False
    chain = await store.chain(owner, "resp_live")
    assert chain is not None and [r.id for r in chain] == ["resp_live"]

    assert await store.purge(now) == 2
    assert await store.purge(now) == 0
    assert await store.get(owner, "resp_live") is not None
    # A purge "at" a later time takes what will have expired by then.
    assert await store.purge(now + 7200) == 1
    assert await store.get(owner, "resp_live") is None


async def test_the_chain_is_oldest_first_and_branches(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    await store.put(make_record(owner, "resp_1"))
    await store.put(make_record(owner, "resp_2", previous="resp_1"))
    # Two requests continue resp_2: each sees its own history.
    await store.put(make_record(owner, "resp_3a", previous="resp_2", note=" a"))
    await store.put(make_record(owner, "resp_3b", previous="resp_2", note=" b"))
    await store.put(make_record(owner, "resp_4b", previous="resp_3b"))

    first = await store.chain(owner, "resp_3a")
    second = await store.chain(owner, "resp_4b")
    assert first is not None and [r.id for r in first] == ["resp_1", "resp_2", "resp_3a"]
    assert second is not None and [r.id for r in second] == ["resp_1", "resp_2", "resp_3b", "resp_4b"]
    assert first[-1] == await store.get(owner, "resp_3a")
    # Each link is the whole record, its items in order.
    assert [item["id"] for item in second[2].input_items] == ["resp_3b_in0", "resp_3b_in1"]
    assert [item["id"] for item in second[2].output_items] == ["resp_3b_out0"]
    # The history is the same chain's items, each response's inputs then its outputs, oldest first.
    for last, chain in (("resp_3a", first), ("resp_4b", second)):
        history = await store.history(owner, last)
        assert history == [item for link in chain for item in (*link.input_items, *link.output_items)]
    history = await store.history(owner, "resp_4b")
    assert history is not None and [item["id"] for item in history][:6] == [
        "resp_1_in0",
        "resp_1_in1",
        "resp_1_out0",
        "resp_2_in0",
        "resp_2_in1",
        "resp_2_out0",
    ]
    assert [item["id"] for item in history][-3:] == ["resp_4b_in0", "resp_4b_in1", "resp_4b_out0"]
    single = await store.chain(owner, "resp_1")
    assert single is not None and [r.id for r in single] == ["resp_1"]
    assert await store.chain(owner, "resp_9") is None


async def test_a_long_chain(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    previous = None
    for turn in range(60):
        await store.put(make_record(owner, f"resp_{turn}", previous=previous))
        previous = f"resp_{turn}"
    chain = await store.chain(owner, "resp_59")
    assert chain is not None and [r.id for r in chain] == [f"resp_{turn}" for turn in range(60)]


async def test_an_item_by_its_id(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    await store.put(make_record(owner, "resp_1", inputs=2, outputs=2))
    await store.put(make_record(owner, "resp_2", previous="resp_1"))

    found = await store.item(owner, "resp_1_out1")
    assert found == make_record(owner, "resp_1", inputs=2, outputs=2).output_items[1]
    assert await store.item(owner, "resp_2_in1") == {
        "id": "resp_2_in1",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "question 1 of resp_2"}],
    }
    assert await store.item(owner, "resp_1_out7") is None


async def test_input_items_pages_both_ways(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    await store.put(make_record(owner, "resp_1", inputs=5, outputs=3))

    async def page(after: str | None, limit: int, descending: bool) -> tuple[list[str], bool]:
        found = await store.input_items(owner, "resp_1", after=after, limit=limit, descending=descending)
        assert found is not None
        return [item["id"] for item in found.items], found.has_more

    ids = [f"resp_1_in{n}" for n in range(5)]
    assert await page(None, 2, False) == (ids[0:2], True)
    assert await page(ids[1], 2, False) == (ids[2:4], True)
    assert await page(ids[3], 2, False) == (ids[4:5], False)
    assert await page(ids[4], 2, False) == ([], False)
    assert await page(None, 5, False) == (ids, False)
    assert await page(None, 100, False) == (ids, False)

    backwards = ids[::-1]
    assert await page(None, 2, True) == (backwards[0:2], True)
    assert await page(ids[3], 2, True) == (backwards[2:4], True)
    assert await page(ids[1], 2, True) == (backwards[4:5], False)
    assert await page(ids[0], 2, True) == ([], False)
    # An ``after`` that is no input item of this response (an output item, another's): an empty page.
    assert await page("resp_1_out0", 2, False) == ([], False)
    assert await page("nope", 2, True) == ([], False)


async def test_input_items_of_a_response_without_any(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    await store.put(make_record(owner, "resp_1", inputs=0, outputs=1))
    found = await store.input_items(owner, "resp_1", after=None, limit=20, descending=False)
    assert found is not None and list(found.items) == [] and not found.has_more


async def test_put_replaces_a_record_of_the_same_id(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)
    await store.put(make_record(owner, "resp_0"))
    await store.put(make_record(owner, "resp_1", inputs=4, outputs=3, note=" first"))
    replacement = make_record(owner, "resp_1", previous="resp_0", inputs=1, outputs=1, note=" second")
    await store.put(replacement)

    assert await store.get(owner, "resp_1") == replacement
    assert await store.item(owner, "resp_1_in3") is None
    assert await store.item(owner, "resp_1_out2") is None
    page = await store.input_items(owner, "resp_1", after=None, limit=10, descending=False)
    assert page is not None and [item["id"] for item in page.items] == ["resp_1_in0"]
    chain = await store.chain(owner, "resp_1")
    assert chain is not None and [r.id for r in chain] == ["resp_0", "resp_1"]


async def test_concurrent_puts_of_one_id_leave_one_whole_version(store: ResponseStore) -> None:
    """Two updates of one response (a background response's states) racing: the items that remain are
    those of the response that remains, never a mix."""
    owner = await store.owner_of(ALICE)
    versions = [make_record(owner, "resp_1", inputs=n, outputs=n, note=f" v{n}") for n in range(1, 9)]
    await asyncio.gather(*(store.put(version) for version in versions))

    found = await store.get(owner, "resp_1")
    assert found is not None and found in versions
    n = len(found.input_items)
    assert found == versions[n - 1]
    page = await store.input_items(owner, "resp_1", after=None, limit=100, descending=False)
    assert page is not None and len(page.items) == n


async def test_the_store_is_safe_under_concurrent_use(store: ResponseStore) -> None:
    owner = await store.owner_of(ALICE)

    async def conversation(name: str) -> list[str]:
        previous = None
        for turn in range(5):
            rid = f"resp_{name}_{turn}"
            await store.put(make_record(owner, rid, previous=previous))
            chain = await store.chain(owner, rid)
            assert chain is not None and len(chain) == turn + 1
            previous = rid
        chain = await store.chain(owner, previous or "")
        return [r.id for r in chain or ()]

    chains = await asyncio.gather(*(conversation(str(n)) for n in range(8)))
    assert chains == [[f"resp_{n}_{turn}" for turn in range(5)] for n in range(8)]


async def test_a_cancelled_put_leaves_the_record_whole_or_absent(store: ResponseStore) -> None:
    """A client that leaves cancels its request's task mid-put: the record is then whole or absent (here
    whole: the engines finish a transaction they began), and the store goes on working."""
    owner = await store.owner_of(ALICE)
    for number in range(5):
        record = make_record(owner, f"resp_{number}", inputs=30, outputs=10)
        task = asyncio.create_task(store.put(record))
        for _ in range(number):  # cancelled at a different point each time
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0.05)
        found = await store.get(owner, f"resp_{number}")
        assert found is None or found == record
    await store.put(make_record(owner, "resp_after"))
    assert await store.get(owner, "resp_after") is not None
