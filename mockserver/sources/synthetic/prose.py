"""Plausible prose for synthetic answers, drawn from a fixed faker corpus.

Faker is slow next to a request budget of a few hundred microseconds, so a corpus of sentences is written
once (seeded, so every process has the same one) and answers pick from it by the request's seed.
Sentences are pre-cut into token pieces per tokenizer, which makes an answer of any length nearly free.
"""

import functools
import random

from faker import Faker

from mistral_wire import tokens
from mistral_wire.contract.catalogue import Tokenizer
from mockserver.sources.synthetic import seeds

CORPUS_SIZE = 600

_TEMPLATES = (
    "{name} suggested that the team {bs} before the end of the quarter.",
    "The {job} in {city} reviewed the {catch} plan with care.",
    "Most teams in {country} now {bs} without much extra effort.",
    "A short answer: it depends on the context, but {catch} usually helps.",
    "{company} reported that its customers in {city} want to {bs}.",
    "On {day}, the group met to compare notes on the {catch} idea.",
    "One practical step is to {bs}, then measure the result.",
    "Here is a summary of the main points, in plain words.",
    "The data from {month} shows a steady trend, with a few outliers.",
    "{name}, a {job}, explained why the {color} prototype was chosen.",
    "In short, the approach works well when the inputs are clean.",
    "It is worth checking the assumptions before going further.",
    "The result is consistent with what {company} observed last year.",
    "Several factors matter here, and the first is cost.",
    "To {bs}, start small and iterate on what you learn.",
    "The {catch} approach was tested in {city} and {city2}.",
)


def _sentence(fake: Faker) -> str:
    template = fake.random_element(_TEMPLATES)
    return template.format(
        name=fake.name(),
        bs=fake.bs(),
        job=fake.job().lower(),
        city=fake.city(),
        city2=fake.city(),
        country=fake.country(),
        catch=fake.catch_phrase().lower(),
        company=fake.company(),
        day=fake.day_of_week(),
        month=fake.month_name(),
        color=fake.color_name().lower(),
    )


@functools.cache
def corpus() -> tuple[str, ...]:
    fake = Faker("en_US")
    fake.seed_instance(20240101)
    return tuple(_sentence(fake) for _ in range(CORPUS_SIZE))


@tokens.single_flight
def _cut(kind: Tokenizer) -> tuple[tuple[str, ...], ...]:
    """Each corpus sentence as token pieces, with the space that joins it to the previous one."""
    return tuple(tuple(tokens.pieces(" " + sentence, kind)) for sentence in corpus())


def warm() -> None:
    _cut("tekken")


def compose(seed: int, target_tokens: int, kind: Tokenizer = "tekken") -> list[str]:
    """Token pieces of a few whole sentences, about ``target_tokens`` long; no leading space."""
    cut = _cut(kind)
    picks = seeds.numbers(seed)
    out: list[str] = []
    while len(out) < target_tokens:
        out.extend(cut[next(picks) % len(cut)])
    if out:
        out[0] = out[0].lstrip(" ")
        if not out[0]:
            out.pop(0)
    return out


def words(seed: int, count: int) -> str:
    """A few plain words, for short values such as titles."""
    rng = random.Random(seed)
    sentence = corpus()[rng.randrange(CORPUS_SIZE)]
    return " ".join(sentence.rstrip(".").split()[:count])
