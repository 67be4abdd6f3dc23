"""Patients with planted duplicates, deterministic for a seed: the matcher's quality set.

    python -m bench.duplicates --count 20000 --seed 26
    python -m bench.duplicates --patients 1000000 --seed 26

prints the precision and recall of carebook's matcher (blocking keys then scoring, the same
functions the database scan runs, here in memory) on a generated set. Every planted duplicate is
a copy of one patient with one or two of the variations people and clerks make: a nickname
("Bob" for "Robert"), accents dropped, a mistyped or respelt last name, first and last names
transposed, the date of birth with day and month swapped or one digit off, a new email or
phone, or none (never the same email: Carebook keeps a patient's email unique in the
practice). Hard negatives are planted too: twins (same last name, birthday, phone and
address, another first name) and namesakes (same names, another birthday and contacts).

``--patients N`` generates the set of ``python -m bench.dedupe --patients N`` instead (a
duplicate and a hard negative for 5 % of the people each), without a database: how precision
holds up as an organization grows, in a minute or two even at a million.
"""

from __future__ import annotations

import argparse
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from bench import names
from carebook.duplicates.keys import key_texts, tally_text
from carebook.duplicates.matcher import Person, compare

# Common English first names and one nickname each (all in the nicknames package's table).
NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Katherine": "Kate",
    "Margaret": "Peggy", "James": "Jim", "Michael": "Mike", "Richard": "Dick",
    "Jennifer": "Jen", "Thomas": "Tom", "Christopher": "Chris", "Patricia": "Patty",
    "Joseph": "Joe", "Susan": "Sue", "Daniel": "Dan", "Deborah": "Debbie", "Anthony": "Tony",
    "Rebecca": "Becky", "Edward": "Ted", "Alexander": "Alex", "Nicholas": "Nick",
    "Victoria": "Vicky", "Samuel": "Sam", "Abigail": "Abby",
}  # fmt: skip
FIRST_NAMES = (*names.FIRST_NAMES, *NICKNAMES)
STREETS = ("Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Park Ave")
NAME_VARIATIONS = ("nickname", "accents", "last_typo", "last_respelt", "transposed")
DOB_VARIATIONS = ("dob_swapped", "dob_digit")
CONTACT_VARIATIONS = ("new_email", "no_email", "new_phone", "no_phone")
RESPELLINGS = (("ph", "f"), ("y", "i"), ("ck", "k"), ("th", "t"), ("ss", "s"), ("ll", "l"))


@dataclass
class Generated:
    """The people (ids from 1), the planted duplicate pairs and the hard negatives' count."""

    people: list[Person] = field(default_factory=list)
    duplicates: set[tuple[int, int]] = field(default_factory=set)
    hard_negatives: int = 0


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _syllables(rng: random.Random) -> str:
    return "".join(rng.choice(names.SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()


def _phone(rng: random.Random) -> str:
    return f"+1{rng.choice(names.US_AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def _person(rng: random.Random, number: int) -> Person:
    first = rng.choice(FIRST_NAMES) if rng.random() < 0.7 else _syllables(rng)
    last = rng.choice(names.LAST_NAMES) if rng.random() < 0.5 else _syllables(rng)
    dob = date.fromordinal(date(1935, 1, 1).toordinal() + rng.randrange(80 * 365))
    email = f"{_plain(first).lower()}.{number}@example.com" if rng.random() < 0.8 else None
    phone = _phone(rng) if rng.random() < 0.8 else None
    street = f"{rng.randint(1, 9999)}{rng.choice(STREETS).replace(' ', '').lower()}"
    address = f"{street}|{rng.randint(10000, 99999)}" if rng.random() < 0.6 else None
    return Person(number, first, last, dob, email, phone, address)


def _typo(rng: random.Random, text: str) -> str:
    """One letter replaced by a neighbour's, or two neighbours swapped (never the first)."""
    if len(text) < 4:
        return text + "e"
    at = rng.randrange(1, len(text) - 1)
    if rng.random() < 0.5:
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text[:at] + rng.choice("aeiou") + text[at + 1 :]


def _respelt(rng: random.Random, text: str) -> str:
    for old, new in rng.sample(RESPELLINGS, len(RESPELLINGS)):
        if old in text.lower()[1:]:
            return text[0] + text[1:].replace(old, new, 1)
    return _typo(rng, text)


def _dob_digit(rng: random.Random, dob: date) -> date:
    while True:
        text = list(dob.isoformat())
        at = rng.choice((2, 3, 6, 8, 9))  # the decade, year, month's unit, day
        text[at] = str(rng.randrange(10))
        try:
            changed = date.fromisoformat("".join(text))
        except ValueError:
            continue
        if changed != dob:
            return changed


def _vary(rng: random.Random, person: Person, variation: str, number: int) -> Person:
    if variation == "nickname":
        nickname = NICKNAMES.get(person.first_name)
        return (
            replace(person, first_name=nickname)
            if nickname
            else _vary(rng, person, "accents", number)
        )
    if variation == "accents":
        return replace(
            person, first_name=_plain(person.first_name).upper(), last_name=_plain(person.last_name)
        )
    if variation == "last_typo":
        return replace(person, last_name=_typo(rng, person.last_name))
    if variation == "last_respelt":
        return replace(person, last_name=_respelt(rng, person.last_name))
    if variation == "transposed":
        return replace(person, first_name=person.last_name, last_name=person.first_name)
    if (
        variation == "dob_swapped"
        and person.dob
        and person.dob.day <= 12
        and person.dob.day != person.dob.month
    ):
        return replace(person, dob=date(person.dob.year, person.dob.day, person.dob.month))
    if variation in DOB_VARIATIONS and person.dob:
        return replace(person, dob=_dob_digit(rng, person.dob))
    if variation == "new_email":
        return replace(person, email=f"{_plain(person.last_name).lower()}.{number}@example.org")
    if variation == "new_phone":
        return replace(person, phone=_phone(rng))
    if variation == "no_email":
        return replace(person, email=None)
    return replace(person, phone=None)


def _duplicate(rng: random.Random, person: Person, number: int) -> Person:
    """A second record of ``person``: one or two variations, perhaps new contact details."""
    chosen = [rng.choice((*NAME_VARIATIONS, *DOB_VARIATIONS))]
    if rng.random() < 0.4:
        chosen.append(rng.choice([v for v in NAME_VARIATIONS if v not in chosen]))
    if rng.random() < 0.5:
        chosen.append(rng.choice(CONTACT_VARIATIONS))
    copy = replace(person, id=number)
    for variation in chosen:
        copy = _vary(rng, copy, variation, number)
    if copy.email == person.email:
        # Carebook keeps a patient's email unique in the practice: a second record has another.
        copy = _vary(rng, copy, rng.choice(("new_email", "no_email")), number)
    return copy


def _twin(rng: random.Random, person: Person, number: int) -> Person:
    other = rng.choice([n for n in FIRST_NAMES if n != person.first_name])
    return replace(person, id=number, first_name=other, email=None)


def _namesake(rng: random.Random, person: Person, number: int) -> Person:
    stranger = _person(rng, number)
    return replace(stranger, first_name=person.first_name, last_name=person.last_name)


def generate(count: int, seed: int, duplicate_share: float = 0.1) -> Generated:
    """``count`` distinct people, then a duplicate of ``duplicate_share`` of them and as many
    hard negatives (half twins, half namesakes); ids are shuffled positions from 1."""
    rng = random.Random(seed)
    originals = [_person(rng, number) for number in range(1, count + 1)]
    out = Generated(people=list(originals))
    extra = int(count * duplicate_share)
    for person in rng.sample(originals, extra):
        copy = _duplicate(rng, person, len(out.people) + 1)
        out.people.append(copy)
        out.duplicates.add((person.id, copy.id))
    for index, person in enumerate(rng.sample(originals, extra)):
        make = _twin if index % 2 else _namesake
        out.people.append(make(rng, person, len(out.people) + 1))
        out.hard_negatives += 1
    return out


def blocked_pairs(people: Iterable[Person], max_block: int) -> set[tuple[int, int]]:
    """The pairs sharing a blocking key (blocks over ``max_block`` skipped), as the scan's SQL."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for p in people:
        email = p.email.lower() if p.email else None
        for key in key_texts(p.first_name, p.last_name, p.dob, email, p.phone):
            blocks[key].append(p.id)
    pairs: set[tuple[int, int]] = set()
    for ids in blocks.values():
        if 2 <= len(ids) <= max_block:
            pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return pairs


@dataclass(frozen=True)
class Quality:
    """Precision and recall of found pairs against the planted ones."""

    planted: int
    found: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0


def quality(generated: Generated, found: Iterable[tuple[int, int]]) -> Quality:
    """How well ``found`` (pairs of ids, any order) matches the planted duplicates."""
    pairs = {(min(a, b), max(a, b)) for a, b in found}
    return Quality(len(generated.duplicates), len(pairs), len(pairs & generated.duplicates))


def with_namesakes(people: list[Person]) -> list[Person]:
    """The people, each with how many of them share their names (the database's name tallies,
    duplicates/keys.py), as the scan loads them."""
    tallies = [tally_text(p.first_name, p.last_name) for p in people]
    counts = Counter(t for t in tallies if t is not None)
    return [
        replace(p, namesakes=counts[t] if t is not None else 1)
        for p, t in zip(people, tallies, strict=True)
    ]


def in_memory(generated: Generated, max_block: int) -> Quality:
    """The matcher's quality with the blocking done in memory (the scan does it in SQL)."""
    by_id = {p.id: p for p in with_namesakes(generated.people)}
    candidates = blocked_pairs(generated.people, max_block)
    found = [(a, b) for a, b in candidates if compare(by_id[a], by_id[b]) is not None]
    return quality(generated, found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument(
        "--patients", type=int, help="the set of bench.dedupe --patients N (overrides --count)"
    )
    args = parser.parse_args()
    if args.patients:
        # As bench/dedupe.py generates its organization.
        generated = generate(round(args.patients / 1.1), args.seed, duplicate_share=0.05)
    else:
        generated = generate(args.count, args.seed)
    result = in_memory(generated, max_block=50)
    print(
        f"people={len(generated.people)} planted={result.planted} found={result.found} "
        f"true={result.true_positives} precision={result.precision:.4f} "
        f"recall={result.recall:.4f}"
    )


if __name__ == "__main__":
    main()
