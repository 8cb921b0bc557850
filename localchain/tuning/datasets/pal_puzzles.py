"""Date and colored-objects templates for PAL training (the chain's ``date`` and
``colored_objects`` tasks), in the style of BIG-Bench's date understanding and colored objects.

Dates are answered as ``MM/DD/YYYY`` strings computed with ``datetime``; object questions ask
for a color, an object, a count, or yes/no.
"""

# ruff: noqa: E501 - tables of phrasings and one-line programs read best unwrapped

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Sequence

from localchain.tuning.datasets.pal_base import Instance, Maker, PALTemplate, program

Person = Callable[[], dict[str, str]]

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip


def _date(rng: random.Random) -> datetime.date:
    return datetime.date(rng.randint(1990, 2030), 1, 1) + datetime.timedelta(rng.randint(0, 364))


def _slots(day: datetime.date) -> dict[str, str]:
    return {
        "date": day.strftime("%m/%d/%Y"),
        "long": f"{_MONTHS[day.month - 1]} {day.day}, {day.year}",
    }


def _shift(name: str, day: datetime.date, lines: list[str]) -> str:
    start = f"{name} = datetime.date({day.year}, {day.month}, {day.day})"
    return program([start, *lines], imports=["datetime"])


def _days_after(rng: random.Random, person: Person) -> Instance:
    day, n = _date(rng), rng.randint(2, 60)
    code = _shift("today", day, [f"later = today + datetime.timedelta(days={n})",
                                 'return later.strftime("%m/%d/%Y")'])  # fmt: skip
    return Instance(
        {**_slots(day), "n": n}, code, (day + datetime.timedelta(n)).strftime("%m/%d/%Y")
    )


def _days_before(rng: random.Random, person: Person) -> Instance:
    day, n = _date(rng), rng.randint(2, 60)
    code = _shift("today", day, [f"earlier = today - datetime.timedelta(days={n})",
                                 'return earlier.strftime("%m/%d/%Y")'])  # fmt: skip
    return Instance(
        {**_slots(day), "n": n}, code, (day - datetime.timedelta(n)).strftime("%m/%d/%Y")
    )


def _weeks_after(rng: random.Random, person: Person) -> Instance:
    day, n = _date(rng), rng.randint(2, 8)
    code = _shift("today", day, [f"later = today + datetime.timedelta(weeks={n})",
                                 'return later.strftime("%m/%d/%Y")'])  # fmt: skip
    answer = (day + datetime.timedelta(weeks=n)).strftime("%m/%d/%Y")
    return Instance({**_slots(day), "n": n}, code, answer)


def _yesterday_tomorrow(rng: random.Random, person: Person) -> Instance:
    day = _date(rng)
    code = _shift("yesterday", day, ["today = yesterday + datetime.timedelta(days=1)",
                                     "tomorrow = today + datetime.timedelta(days=1)",
                                     'return tomorrow.strftime("%m/%d/%Y")'])  # fmt: skip
    return Instance(_slots(day), code, (day + datetime.timedelta(2)).strftime("%m/%d/%Y"))


def _tomorrow_week_ago(rng: random.Random, person: Person) -> Instance:
    day = _date(rng)
    code = _shift("tomorrow", day, ["today = tomorrow - datetime.timedelta(days=1)",
                                    "week_ago = today - datetime.timedelta(weeks=1)",
                                    'return week_ago.strftime("%m/%d/%Y")'])  # fmt: skip
    return Instance(_slots(day), code, (day - datetime.timedelta(8)).strftime("%m/%d/%Y"))


def _postponed(rng: random.Random, person: Person) -> Instance:
    day, n = _date(rng), rng.randint(2, 21)
    code = _shift("planned", day, [f"new_date = planned + datetime.timedelta(days={n})",
                                   'return new_date.strftime("%m/%d/%Y")'])  # fmt: skip
    slots = {**_slots(day), "n": n, "a": person()["name"]}
    return Instance(slots, code, (day + datetime.timedelta(n)).strftime("%m/%d/%Y"))


def _last_day(rng: random.Random, person: Person) -> Instance:
    day, n = _date(rng), rng.randint(3, 20)
    code = _shift("first_day", day, [f"days = {n}",
                                     "last_day = first_day + datetime.timedelta(days=days - 1)",
                                     'return last_day.strftime("%m/%d/%Y")'])  # fmt: skip
    return Instance(
        {**_slots(day), "n": n}, code, (day + datetime.timedelta(n - 1)).strftime("%m/%d/%Y")
    )


def _weeks_and_days_before(rng: random.Random, person: Person) -> Instance:
    day, weeks, days = _date(rng), rng.randint(1, 5), rng.randint(1, 6)
    code = _shift("deadline", day, [f"start = deadline - datetime.timedelta(weeks={weeks}, days={days})",
                                    'return start.strftime("%m/%d/%Y")'])  # fmt: skip
    answer = (day - datetime.timedelta(weeks=weeks, days=days)).strftime("%m/%d/%Y")
    return Instance({**_slots(day), "weeks": weeks, "days": days}, code, answer)


def _day_of_year(rng: random.Random, person: Person) -> Instance:
    year, k = rng.randint(1995, 2030), rng.randint(20, 360)
    code = program([f"first_day = datetime.date({year}, 1, 1)",
                    f"day = first_day + datetime.timedelta(days={k} - 1)",
                    'return day.strftime("%m/%d/%Y")'], imports=["datetime"])  # fmt: skip
    answer = (datetime.date(year, 1, 1) + datetime.timedelta(k - 1)).strftime("%m/%d/%Y")
    return Instance({"year": year, "k": k}, code, answer)


# -- colored objects ----------------------------------------------------------------------------

_COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black",
           "white", "gray", "teal", "magenta", "gold", "silver", "turquoise"]  # fmt: skip
_OBJECTS = ["pen", "cup", "notebook", "stress ball", "keychain", "mug", "plate", "fidget spinner",
            "paperclip", "lamp", "booklet", "envelope", "puzzle", "teddy bear", "scrunchie",
            "crayon", "jug", "bracelet", "necklace", "dog leash", "cat toy", "sheet of paper"]  # fmt: skip
_PLACES = ["On the desk", "On the table", "On the nightstand", "On the floor", "On the shelf",
           "On the counter", "In the drawer"]  # fmt: skip


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _row(rng: random.Random, size: int) -> list[tuple[str, str]]:
    return list(zip(rng.sample(_COLORS, size), rng.sample(_OBJECTS, size), strict=True))


def _listing(objects: list[tuple[str, str]]) -> str:
    words = [f"{_article(c)} {c} {o}" for c, o in objects]
    return ", ".join(words[:-1]) + f" and {words[-1]}"


def _objects_code(objects: list[tuple[str, str]], lines: list[str]) -> str:
    pairs = ", ".join(f'("{c}", "{o}")' for c, o in objects)
    return program([f"objects = [{pairs}]", *lines])


def _base_slots(rng: random.Random, objects: list[tuple[str, str]]) -> dict[str, str]:
    return {"place": rng.choice(_PLACES), "listing": _listing(objects)}


def _color_of(rng: random.Random, person: Person) -> Instance:
    objects = _row(rng, rng.randint(3, 6))
    color, target = rng.choice(objects)
    code = _objects_code(objects, ["for color, name in objects:",
                                   f'    if name == "{target}":', "        return color"])  # fmt: skip
    return Instance({**_base_slots(rng, objects), "target": target}, code, color)


def _neighbour(rng: random.Random, person: Person) -> Instance:
    objects = _row(rng, rng.randint(4, 6))
    side = rng.choice(["right", "left"])
    index = (
        rng.randint(0, len(objects) - 2) if side == "right" else rng.randint(1, len(objects) - 1)
    )
    step = 1 if side == "right" else -1
    code = _objects_code(objects, ["names = [name for color, name in objects]",
                                   f'index = names.index("{objects[index][1]}")',
                                   f"return objects[index {'+' if step == 1 else '-'} 1][0]"])  # fmt: skip
    slots = {**_base_slots(rng, objects), "target": objects[index][1], "side": side}
    return Instance(slots, code, objects[index + step][0])


def _groups(rng: random.Random) -> tuple[list[tuple[int, str, str]], str]:
    colors = rng.sample(_COLORS, 2)
    objects = rng.sample(_OBJECTS, rng.randint(3, 4))
    groups = [(rng.randint(1, 4), rng.choice(colors), o) for o in objects]
    numbers = ["zero", "one", "two", "three", "four"]
    words = [f"{numbers[n]} {c} {o if n == 1 else o + 's'}" for n, c, o in groups]
    return groups, ", ".join(words[:-1]) + f" and {words[-1]}"


def _groups_code(groups: list[tuple[int, str, str]], last: str) -> str:
    lines = ["objects = []"] + [f'objects += [("{c}", "{o}")] * {n}' for n, c, o in groups]
    return program([*lines, last])


def _count_color(rng: random.Random, person: Person) -> Instance:
    groups, listing = _groups(rng)
    color = rng.choice([c for _, c, _ in groups])
    code = _groups_code(
        groups, f'return len([name for color, name in objects if color == "{color}"])'
    )
    slots = {"place": rng.choice(_PLACES), "listing": listing, "color": color}
    return Instance(slots, code, sum(n for n, c, _ in groups if c == color))


def _count_not_color(rng: random.Random, person: Person) -> Instance:
    objects = _row(rng, rng.randint(4, 6))
    color = rng.choice(objects)[0]
    code = _objects_code(
        objects, [f'return len([name for color, name in objects if color != "{color}"])']
    )
    return Instance({**_base_slots(rng, objects), "color": color}, code, len(objects) - 1)


def _is_color(rng: random.Random, person: Person) -> Instance:
    objects = _row(rng, rng.randint(3, 5))
    real, target = rng.choice(objects)
    asked = real if rng.random() < 0.5 else rng.choice([c for c in _COLORS if c != real])
    code = _objects_code(objects, ["for color, name in objects:", f'    if name == "{target}":',
                                   f'        return "yes" if color == "{asked}" else "no"'])  # fmt: skip
    slots = {**_base_slots(rng, objects), "target": target, "asked": asked}
    return Instance(slots, code, "yes" if asked == real else "no")


def _last_in_row(rng: random.Random, person: Person) -> Instance:
    objects = _row(rng, rng.randint(3, 6))
    code = _objects_code(objects, ["return objects[-1][0]"])
    return Instance(_base_slots(rng, objects), code, objects[-1][0])


def _remove_color(rng: random.Random, person: Person) -> Instance:
    groups, listing = _groups(rng)
    color = rng.choice([c for _, c, _ in groups])
    code = _groups_code(
        groups, f'return len([name for color, name in objects if color != "{color}"])'
    )
    slots = {"place": rng.choice(_PLACES), "listing": listing, "color": color}
    return Instance(slots, code, sum(n for n, c, _ in groups if c != color))


def _object_of_color(rng: random.Random, person: Person) -> Instance:
    objects = _row(rng, rng.randint(3, 6))
    color, name = rng.choice(objects)
    code = _objects_code(objects, ["for color, name in objects:", f'    if color == "{color}":',
                                   "        return name"])  # fmt: skip
    return Instance({**_base_slots(rng, objects), "color": color}, code, name)


def _t(
    id_: str,
    task: str,
    make: Maker,
    phrasings: list[str],
    *,
    held: Sequence[int] = (),
    held_out: bool = False,
) -> PALTemplate:
    topic = "dates" if task == "date" else "objects"
    return PALTemplate(id_, task, topic, tuple(phrasings), make, held_out, tuple(held))


DATE_TEMPLATES: tuple[PALTemplate, ...] = (
    _t("days_after", "date", _days_after, [
        "Today is {date}. What is the date {n} days from today in MM/DD/YYYY?",
        "Today is {long}. What will the date be in {n} days? Answer in MM/DD/YYYY.",
        "What is the date {n} days after {date} in MM/DD/YYYY?",
    ], held=[2]),
    _t("days_before", "date", _days_before, [
        "Today is {date}. What was the date {n} days ago in MM/DD/YYYY?",
        "It is {long} today. What was the date {n} days earlier, in MM/DD/YYYY?",
    ]),
    _t("weeks_after", "date", _weeks_after, [
        "Today is {date}. What is the date {n} weeks from today in MM/DD/YYYY?",
        "A parcel was sent on {long} and arrives {n} weeks later. On what date does it arrive, in MM/DD/YYYY?",
    ], held=[1]),
    _t("yesterday_tomorrow", "date", _yesterday_tomorrow, [
        "Yesterday was {date}. What is the date tomorrow in MM/DD/YYYY?",
        "If yesterday was {long}, what is tomorrow's date in MM/DD/YYYY?",
    ]),
    _t("tomorrow_week_ago", "date", _tomorrow_week_ago, [
        "Tomorrow is {date}. What was the date one week ago from today in MM/DD/YYYY?",
        "Tomorrow will be {long}. What was the date a week before today, in MM/DD/YYYY?",
    ], held=[1]),
    _t("postponed", "date", _postponed, [
        "{a}'s meeting was planned for {date} but was moved {n} days later. What is the new date in MM/DD/YYYY?",
        "A concert set for {long} is postponed by {n} days. When is it now, in MM/DD/YYYY?",
    ]),
    _t("last_day", "date", _last_day, [
        "A festival starts on {date} and lasts {n} days. What is the date of its last day in MM/DD/YYYY?",
    ], held_out=True),
    _t("weeks_and_days_before", "date", _weeks_and_days_before, [
        "The deadline is {long}. The project starts {weeks} weeks and {days} days before the deadline. What is the start date in MM/DD/YYYY?",
    ], held_out=True),
    _t("day_of_year", "date", _day_of_year, [
        "What is the date of day number {k} of the year {year}, in MM/DD/YYYY?",
    ], held_out=True),
)  # fmt: skip
"""Date templates, training and held-out."""

COLORED_TEMPLATES: tuple[PALTemplate, ...] = (
    _t("color_of", "colored_objects", _color_of, [
        "{place}, there is {listing}. What color is the {target}?",
        "{place}, I see {listing}. What is the color of the {target}?",
        "What color is the {target}? {place}, you see {listing}.",
    ], held=[2]),
    _t("neighbour", "colored_objects", _neighbour, [
        "{place}, there is a row of objects: {listing}. What is the color of the object directly to the {side} of the {target}?",
        "{place}, arranged in a row, are {listing}. What color is the thing just to the {side} of the {target}?",
    ], held=[1]),
    _t("count_color", "colored_objects", _count_color, [
        "{place}, I see {listing}. How many {color} things are there?",
        "{place}, there are {listing}. How many items are {color}?",
    ]),
    _t("count_not_color", "colored_objects", _count_not_color, [
        "{place}, there is {listing}. How many objects are not {color}?",
        "{place}, I see {listing}. Apart from the {color} one, how many objects are there?",
    ], held=[1]),
    _t("is_color", "colored_objects", _is_color, [
        "{place}, there is {listing}. Is the {target} {asked}? Answer yes or no.",
        "{place}, I see {listing}. Answer yes or no: is the {target} {asked}?",
    ]),
    _t("last_in_row", "colored_objects", _last_in_row, [
        "{place}, there is a row of objects: {listing}. What is the color of the last object in the row?",
    ], held_out=True),
    _t("remove_color", "colored_objects", _remove_color, [
        "{place}, I see {listing}. If I take away all the {color} things, how many things are left?",
    ], held_out=True),
    _t("object_of_color", "colored_objects", _object_of_color, [
        "{place}, there is {listing}. Which object is {color}?",
    ], held_out=True),
)  # fmt: skip
"""Colored-objects templates, training and held-out."""

__all__ = ["COLORED_TEMPLATES", "DATE_TEMPLATES"]
