"""The verdict and answer caches keep a value from its key's second put: what repeats is computed once
more, what never repeats never fills the cache."""

from mockserver.cache import DOORKEEPER_FACTOR, LRU


def test_a_value_is_kept_from_its_keys_second_put() -> None:
    cache: LRU[str, int] = LRU(4)
    cache.put("a", 1)
    assert cache.get("a") is None and len(cache) == 0
    cache.put("a", 1)
    assert cache.get("a") == 1 and len(cache) == 1
    cache.put("a", 2)  # kept already: replaced at once
    assert cache.get("a") == 2


def test_keys_that_never_repeat_leave_the_cache_empty_and_the_doorkeeper_bounded() -> None:
    cache: LRU[bytes, int] = LRU(8)
    for n in range(10_000):
        cache.put(f"request {n}".encode(), n)
    assert len(cache) == 0
    assert len(cache._seen_once) == 8 * DOORKEEPER_FACTOR
    # The doorkeeper forgets the oldest first: a recent key is admitted on its second put, an old one not.
    cache.put(b"request 9999", 9999)
    cache.put(b"request 0", 0)
    assert cache.get(b"request 9999") == 9999 and cache.get(b"request 0") is None


def test_repeated_keys_are_kept_up_to_the_size_least_recently_used_out_first() -> None:
    cache: LRU[str, int] = LRU(3)
    for _ in range(2):
        for key in ("a", "b", "c"):
            cache.put(key, ord(key))
    assert [cache.get(k) for k in "abc"] == [97, 98, 99]
    cache.get("a")  # a is now the most recently used
    for _ in range(2):
        cache.put("d", 100)
    assert len(cache) == 3
    assert cache.get("b") is None and cache.get("a") == 97 and cache.get("d") == 100
