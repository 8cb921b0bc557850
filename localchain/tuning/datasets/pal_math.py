"""Math word-problem templates for PAL training: money, time, rates, fractions, percentages,
ages, geometry and counting, one to four steps each.

Every maker computes the gold answer in its own arithmetic and writes a PAL-style program
(one variable per quantity, as the chain's few-shot examples do); the generator keeps an
instance only when the sandbox runs the program to that answer. Templates marked
``held_out`` and the ``held_out_phrasings`` feed the test set only.
"""

# ruff: noqa: E501 - tables of phrasings and one-line programs read best unwrapped

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from localchain.tuning.datasets.pal_base import Instance, Maker, PALTemplate, ident, program, who

Person = Callable[[], dict[str, str]]

_ITEMS = [("notebook", "notebooks"), ("sandwich", "sandwiches"), ("ticket", "tickets"),
          ("pencil", "pencils"), ("candle", "candles"), ("mug", "mugs"), ("scarf", "scarves"),
          ("plant", "plants"), ("comic", "comics"), ("kite", "kites")]  # fmt: skip
_THINGS = [("marble", "marbles"), ("sticker", "stickers"), ("stamp", "stamps"),
           ("shell", "shells"), ("card", "cards"), ("bead", "beads"), ("coin", "coins")]  # fmt: skip


def _money_left(rng: random.Random, person: Person) -> Instance:
    n, price = rng.randint(2, 9), rng.randint(2, 15)
    money = n * price + rng.randint(1, 60)
    item, items = rng.choice(_ITEMS)
    code = program([f"money_initial = {money}", f"{ident(items)} = {n}",
                    f"{ident(item)}_cost = {price}",
                    f"money_spent = {ident(items)} * {ident(item)}_cost",
                    "return money_initial - money_spent"])  # fmt: skip
    slots = {**who("a", person()), "money": money, "n": n, "price": price, "items": items}
    return Instance(slots, code, money - n * price)


def _two_purchases(rng: random.Random, person: Person) -> Instance:
    (i1, s1), (i2, s2) = rng.sample(_ITEMS, 2)
    n1, n2, p1, p2 = rng.randint(2, 8), rng.randint(2, 8), rng.randint(1, 12), rng.randint(1, 12)
    code = program([f"{ident(s1)} = {n1}", f"{ident(i1)}_price = {p1}", f"{ident(s2)} = {n2}",
                    f"{ident(i2)}_price = {p2}",
                    f"return {ident(s1)} * {ident(i1)}_price + {ident(s2)} * {ident(i2)}_price"])  # fmt: skip
    slots = {**who("a", person()), "n1": n1, "n2": n2, "p1": p1, "p2": p2, "s1": s1, "s2": s2}
    return Instance(slots, code, n1 * p1 + n2 * p2)


def _savings(rng: random.Random, person: Person) -> Instance:
    per_week, weeks, start = rng.randint(3, 25), rng.randint(3, 20), rng.randint(0, 50)
    code = program([f"savings_initial = {start}", f"saved_per_week = {per_week}",
                    f"weeks = {weeks}", "return savings_initial + saved_per_week * weeks"])  # fmt: skip
    slots = {**who("a", person()), "per_week": per_week, "weeks": weeks, "start": start}
    return Instance(slots, code, start + per_week * weeks)


def _weeks_to_goal(rng: random.Random, person: Person) -> Instance:
    per_week, weeks = rng.randint(4, 30), rng.randint(3, 15)
    start = rng.randint(0, per_week - 1) * 2
    goal = start + per_week * weeks
    code = program([f"goal = {goal}", f"savings_initial = {start}",
                    f"saved_per_week = {per_week}",
                    "return (goal - savings_initial) // saved_per_week"])  # fmt: skip
    slots = {**who("a", person()), "per_week": per_week, "goal": goal, "start": start}
    return Instance(slots, code, weeks)


def _movie_minutes(rng: random.Random, person: Person) -> Instance:
    hours, minutes, count = (
        rng.randint(1, 3),
        rng.choice([5, 10, 15, 20, 25, 40, 45, 50]),
        rng.randint(2, 4),
    )
    code = program([f"hours_each = {hours}", f"minutes_each = {minutes}", f"movies = {count}",
                    "minutes_per_movie = hours_each * 60 + minutes_each",
                    "return minutes_per_movie * movies"])  # fmt: skip
    slots = {**who("a", person()), "hours": hours, "minutes": minutes, "count": count}
    return Instance(slots, code, (hours * 60 + minutes) * count)


def _hours_worked(rng: random.Random, person: Person) -> Instance:
    start, end, brk, days = (
        rng.randint(6, 10),
        rng.randint(14, 19),
        rng.choice([30, 60]),
        rng.randint(2, 6),
    )
    code = program([f"start_hour = {start}", f"end_hour = {end}", f"break_minutes = {brk}",
                    f"days = {days}", "hours_per_day = end_hour - start_hour - break_minutes / 60",
                    "return hours_per_day * days"])  # fmt: skip
    slots = {**who("a", person()), "start": start, "end": end - 12, "brk": brk, "days": days}
    return Instance(slots, code, (end - start - brk / 60) * days)


def _distance(rng: random.Random, person: Person) -> Instance:
    speed, hours, extra = rng.randint(20, 90), rng.randint(2, 6), rng.randint(5, 40)
    code = program([f"speed = {speed}", f"hours = {hours}", f"extra_miles = {extra}",
                    "return speed * hours + extra_miles"])  # fmt: skip
    slots = {**who("a", person()), "speed": speed, "hours": hours, "extra": extra}
    return Instance(slots, code, speed * hours + extra)


def _travel_time(rng: random.Random, person: Person) -> Instance:
    speed, hours = rng.choice([30, 40, 45, 50, 60, 75, 80]), rng.randint(2, 8)
    code = program([f"distance = {speed * hours}", f"speed = {speed}", "return distance / speed"])
    slots = {**who("a", person()), "speed": speed, "distance": speed * hours}
    return Instance(slots, code, hours)


def _work_rate(rng: random.Random, person: Person) -> Instance:
    per_hour, hours, days = rng.randint(3, 20), rng.randint(2, 8), rng.randint(2, 6)
    thing, things = rng.choice([("bowl", "bowls"), ("chair", "chairs"), ("basket", "baskets"),
                                ("poster", "posters"), ("vase", "vases")])  # fmt: skip
    code = program([f"{ident(things)}_per_hour = {per_hour}", f"hours_per_day = {hours}",
                    f"days = {days}", f"return {ident(things)}_per_hour * hours_per_day * days"])  # fmt: skip
    slots = {
        **who("a", person()),
        "per_hour": per_hour,
        "hours": hours,
        "days": days,
        "things": things,
    }
    return Instance(slots, code, per_hour * hours * days)


def _fraction_given(rng: random.Random, person: Person) -> Instance:
    k = rng.choice([2, 3, 4, 5])
    total = k * rng.randint(3, 12)
    kept_extra = rng.randint(1, total - total // k - 1)
    thing, things = rng.choice(_THINGS)
    word = {2: "half", 3: "a third", 4: "a quarter", 5: "a fifth"}[k]
    code = program([f"{ident(things)}_initial = {total}",
                    f"given_away = {ident(things)}_initial // {k}", f"lost = {kept_extra}",
                    f"return {ident(things)}_initial - given_away - lost"])  # fmt: skip
    slots = {
        **who("a", person()),
        "total": total,
        "word": word,
        "lost": kept_extra,
        "things": things,
    }
    return Instance(slots, code, total - total // k - kept_extra)


def _fraction_of_fraction(rng: random.Random, person: Person) -> Instance:
    a, b = rng.choice([(1, 2), (2, 3), (3, 4), (3, 5), (1, 3)])
    c, d = rng.choice([(1, 2), (1, 4), (2, 5), (1, 3)])
    total = b * d * rng.randint(2, 6)
    code = program([f"students = {total}", f"in_club = students * {a} // {b}",
                    f"play_chess = in_club * {c} // {d}", "return play_chess"])  # fmt: skip
    slots = {"total": total, "a": a, "b": b, "c": c, "d": d}
    return Instance(slots, code, total * a // b * c // d)


def _discount(rng: random.Random, person: Person) -> Instance:
    price, pct = rng.randint(8, 120), rng.choice([10, 15, 20, 25, 30, 40, 50])
    item, _ = rng.choice(_ITEMS)
    code = program([f"price = {price}", f"discount_percent = {pct}",
                    "discount = price * discount_percent / 100", "return price - discount"])  # fmt: skip
    slots = {**who("a", person()), "price": price, "pct": pct, "item": item}
    return Instance(slots, code, price * (100 - pct) / 100)


def _percent_of(rng: random.Random, person: Person) -> Instance:
    pct = rng.choice([10, 20, 25, 40, 50, 60, 75, 80])
    total = 20 * rng.randint(1, 10)
    code = program([f"total_trees = {total}", f"apple_percent = {pct}",
                    "apple_trees = total_trees * apple_percent // 100",
                    "return total_trees - apple_trees"])  # fmt: skip
    return Instance({"total": total, "pct": pct}, code, total - total * pct // 100)


def _percent_increase(rng: random.Random, person: Person) -> Instance:
    rent, pct = 10 * rng.randint(40, 150), rng.choice([2, 4, 5, 10, 12, 15])
    code = program([f"rent_initial = {rent}", f"increase_percent = {pct}",
                    "increase = rent_initial * increase_percent / 100",
                    "return rent_initial + increase"])  # fmt: skip
    return Instance(
        {**who("a", person()), "rent": rent, "pct": pct}, code, rent * (100 + pct) / 100
    )


def _age_times(rng: random.Random, person: Person) -> Instance:
    age, k, years = rng.randint(3, 12), rng.randint(2, 5), rng.randint(2, 10)
    a, b = person(), person()
    code = program([f"{ident(a['name'].lower())}_age = {age}",
                    f"{ident(b['name'].lower())}_age = {ident(a['name'].lower())}_age * {k}",
                    f"years_later = {years}",
                    f"return {ident(b['name'].lower())}_age + years_later"])  # fmt: skip
    return Instance({**who("a", a), **who("b", b), "age": age, "k": k, "years": years},
                    code, age * k + years)  # fmt: skip


def _age_sum(rng: random.Random, person: Person) -> Instance:
    age, diff = rng.randint(5, 40), rng.randint(2, 30)
    a, b = person(), person()
    code = program([f"{a['name'].lower()}_age = {age}", f"age_difference = {diff}",
                    f"{b['name'].lower()}_age = {a['name'].lower()}_age + age_difference",
                    f"return {a['name'].lower()}_age + {b['name'].lower()}_age"])  # fmt: skip
    return Instance({**who("a", a), **who("b", b), "age": age, "diff": diff}, code, 2 * age + diff)


def _age_ago(rng: random.Random, person: Person) -> Instance:
    years = rng.randint(2, 9)
    age_then = rng.randint(3, 15)
    k = rng.randint(2, 4)
    a, b = person(), person()
    code = program([f"years_ago = {years}", f"{a['name'].lower()}_age_then = {age_then}",
                    f"{b['name'].lower()}_age_then = {a['name'].lower()}_age_then * {k}",
                    f"return {b['name'].lower()}_age_then + years_ago"])  # fmt: skip
    slots = {**who("a", a), **who("b", b), "years": years, "age_then": age_then, "k": k}
    return Instance(slots, code, age_then * k + years)


def _rectangle(rng: random.Random, person: Person) -> Instance:
    length, width, cost = rng.randint(3, 30), rng.randint(2, 20), rng.randint(2, 15)
    code = program([f"length = {length}", f"width = {width}", f"cost_per_square_meter = {cost}",
                    "area = length * width", "return area * cost_per_square_meter"])  # fmt: skip
    return Instance({"length": length, "width": width, "cost": cost}, code, length * width * cost)


def _fence(rng: random.Random, person: Person) -> Instance:
    length, width = rng.randint(5, 40), rng.randint(3, 30)
    code = program([f"length = {length}", f"width = {width}", "return 2 * (length + width)"])
    return Instance({**who("a", person()), "length": length, "width": width}, code,
                    2 * (length + width))  # fmt: skip


def _box_volume(rng: random.Random, person: Person) -> Instance:
    l, w, h = rng.randint(2, 12), rng.randint(2, 12), rng.randint(2, 12)  # noqa: E741
    code = program(
        [f"length = {l}", f"width = {w}", f"height = {h}", "return length * width * height"]
    )
    return Instance({"l": l, "w": w, "h": h}, code, l * w * h)


def _triangle(rng: random.Random, person: Person) -> Instance:
    base, height = 2 * rng.randint(2, 15), rng.randint(3, 20)
    code = program([f"base = {base}", f"height = {height}", "return base * height / 2"])
    return Instance({"base": base, "height": height}, code, base * height // 2)


def _grid(rng: random.Random, person: Person) -> Instance:
    rows, cols, missing = rng.randint(3, 15), rng.randint(3, 15), rng.randint(1, 9)
    code = program([f"rows = {rows}", f"seats_per_row = {cols}", f"broken_seats = {missing}",
                    "return rows * seats_per_row - broken_seats"])  # fmt: skip
    return Instance({"rows": rows, "cols": cols, "missing": missing}, code, rows * cols - missing)


def _legs(rng: random.Random, person: Person) -> Instance:
    hens, goats = rng.randint(2, 20), rng.randint(2, 15)
    code = program([f"hens = {hens}", f"goats = {goats}", "hen_legs = 2", "goat_legs = 4",
                    "return hens * hen_legs + goats * goat_legs"])  # fmt: skip
    return Instance(
        {**who("a", person()), "hens": hens, "goats": goats}, code, 2 * hens + 4 * goats
    )


def _share(rng: random.Random, person: Person) -> Instance:
    friends, each = rng.randint(2, 8), rng.randint(2, 9)
    total = friends * each
    packs = rng.choice([d for d in range(2, 9) if total % d == 0])
    per_pack = total // packs
    thing, things = rng.choice(_THINGS)
    code = program([f"packs = {packs}", f"{ident(things)}_per_pack = {per_pack}",
                    f"friends = {friends}",
                    f"total_{ident(things)} = packs * {ident(things)}_per_pack",
                    f"return total_{ident(things)} // friends"])  # fmt: skip
    slots = {**who("a", person()), "packs": packs, "per_pack": per_pack, "friends": friends,
             "things": things}  # fmt: skip
    return Instance(slots, code, each)


def _average(rng: random.Random, person: Person) -> Instance:
    count = rng.randint(3, 5)
    values = [rng.randint(2, 30) for _ in range(count)]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"][:count]
    listing = ", ".join(f"{v} on {d}" for v, d in zip(values[:-1], days[:-1], strict=True))
    code = program([f"scores = {values}", "return sum(scores) / len(scores)"])
    slots = {**who("a", person()), "listing": listing, "last": values[-1], "last_day": days[-1],
             "count": count}  # fmt: skip
    return Instance(slots, code, sum(values) / count)


def _leftover_boxes(rng: random.Random, person: Person) -> Instance:
    per_box, boxes, left = rng.randint(4, 12), rng.randint(3, 12), 0
    left = rng.randint(1, per_box - 1)
    total = per_box * boxes + left
    code = program([f"eggs = {total}", f"eggs_per_box = {per_box}",
                    "return eggs % eggs_per_box"])  # fmt: skip
    return Instance({"total": total, "per_box": per_box}, code, left)


# -- held-out templates (test only) -----------------------------------------------------------


def _tickets(rng: random.Random, person: Person) -> Instance:
    adults, kids, adult_p, kid_p = (
        rng.randint(1, 4),
        rng.randint(1, 5),
        rng.randint(8, 20),
        rng.randint(3, 9),
    )
    code = program([f"adults = {adults}", f"adult_price = {adult_p}", f"children = {kids}",
                    f"child_price = {kid_p}",
                    "return adults * adult_price + children * child_price"])  # fmt: skip
    slots = {
        **who("a", person()),
        "adults": adults,
        "kids": kids,
        "adult_p": adult_p,
        "kid_p": kid_p,
    }
    return Instance(slots, code, adults * adult_p + kids * kid_p)


def _tank(rng: random.Random, person: Person) -> Instance:
    fill, leak, minutes = rng.randint(6, 20), rng.randint(1, 5), rng.randint(5, 30)
    code = program([f"fill_rate = {fill}", f"leak_rate = {leak}", f"minutes = {minutes}",
                    "return (fill_rate - leak_rate) * minutes"])  # fmt: skip
    return Instance({"fill": fill, "leak": leak, "minutes": minutes}, code, (fill - leak) * minutes)


def _recipe(rng: random.Random, person: Person) -> Instance:
    people, cups = rng.choice([2, 3, 4, 6]), rng.randint(2, 5)
    factor = rng.randint(2, 5)
    code = program([f"recipe_people = {people}", f"recipe_cups = {cups}",
                    f"guests = {people * factor}",
                    "return recipe_cups * guests / recipe_people"])  # fmt: skip
    slots = {**who("a", person()), "people": people, "cups": cups, "guests": people * factor}
    return Instance(slots, code, cups * factor)


def _overtime(rng: random.Random, person: Person) -> Instance:
    wage, extra = rng.randint(10, 30), rng.randint(2, 10)
    code = program([f"hourly_wage = {wage}", "regular_hours = 40", f"overtime_hours = {extra}",
                    "overtime_wage = hourly_wage * 1.5",
                    "return regular_hours * hourly_wage + overtime_hours * overtime_wage"])  # fmt: skip
    return Instance({**who("a", person()), "wage": wage, "extra": extra}, code,
                    40 * wage + extra * wage * 3 / 2)  # fmt: skip


def _bill_tip(rng: random.Random, person: Person) -> Instance:
    friends, tip = rng.randint(2, 6), rng.choice([10, 15, 20])
    bill = friends * rng.randint(10, 40)
    code = program([f"bill = {bill}", f"tip_percent = {tip}", f"people = {friends}",
                    "total = bill + bill * tip_percent / 100", "return total / people"])  # fmt: skip
    return Instance({"bill": bill, "tip": tip, "friends": friends}, code,
                    bill * (100 + tip) / 100 / friends)  # fmt: skip


def _border(rng: random.Random, person: Person) -> Instance:
    side, path = rng.randint(4, 20), rng.randint(1, 3)
    code = program([f"garden_side = {side}", f"path_width = {path}",
                    "outer_side = garden_side + 2 * path_width",
                    "return outer_side * outer_side - garden_side * garden_side"])  # fmt: skip
    return Instance({"side": side, "path": path}, code, (side + 2 * path) ** 2 - side * side)


def _pages_left(rng: random.Random, person: Person) -> Instance:
    first, per_day, days = rng.randint(10, 40), rng.randint(10, 30), rng.randint(2, 5)
    total = first + per_day * days + rng.randint(10, 150)
    code = program([f"book_pages = {total}", f"pages_first_day = {first}",
                    f"pages_per_day = {per_day}", f"days = {days}",
                    "return book_pages - pages_first_day - pages_per_day * days"])  # fmt: skip
    slots = {**who("a", person()), "total": total, "first": first, "per_day": per_day, "days": days}
    return Instance(slots, code, total - first - per_day * days)


def _t(
    id_: str,
    topic: str,
    make: Maker,
    phrasings: list[str],
    *,
    held: Sequence[int] = (),
    held_out: bool = False,
) -> PALTemplate:
    return PALTemplate(id_, "math", topic, tuple(phrasings), make, held_out, tuple(held))


MATH_TEMPLATES: tuple[PALTemplate, ...] = (
    _t("money_left", "money", _money_left, [
        "{a} has ${money}. {a_He} buys {n} {items} for ${price} each. How much money does {a_he} have left?",
        "{a} went shopping with {money} dollars and bought {n} {items} that cost {price} dollars each. How many dollars remain?",
        "After buying {n} {items} at ${price} apiece, how much is left of {a}'s ${money}?",
        "{a} spends ${price} on each of {n} {items}. If {a_he} started with ${money}, how much money is left over?",
    ], held=[3]),
    _t("two_purchases", "money", _two_purchases, [
        "{a} buys {n1} {s1} at ${p1} each and {n2} {s2} at ${p2} each. How much does {a_he} spend in total?",
        "What is the total cost of {n1} {s1} costing ${p1} each and {n2} {s2} costing ${p2} each?",
        "In a shop, {s1} cost ${p1} each and {s2} cost ${p2} each. {a} wants {n1} {s1} and {n2} {s2}. How many dollars does {a_he} need?",
    ], held=[2]),
    _t("savings", "money", _savings, [
        "{a} has ${start} saved and adds ${per_week} every week. How much will {a_he} have after {weeks} weeks?",
        "Every week {a} puts {per_week} dollars in a jar that already holds {start} dollars. How many dollars are in the jar after {weeks} weeks?",
    ]),
    _t("weeks_to_goal", "money", _weeks_to_goal, [
        "{a} wants to save ${goal}. {a_He} already has ${start} and saves ${per_week} a week. How many weeks will it take?",
        "How many weeks does {a} need to reach ${goal} if {a_he} starts with ${start} and saves ${per_week} each week?",
    ], held=[1]),
    _t("movie_minutes", "time", _movie_minutes, [
        "{a} watches {count} movies that are each {hours} hours and {minutes} minutes long. How many minutes does {a_he} spend watching?",
        "Each episode of a show lasts {hours} h {minutes} min. How many minutes do {count} episodes last?",
    ]),
    _t("hours_worked", "time", _hours_worked, [
        "{a} works from {start} am to {end} pm with a {brk}-minute break, {days} days a week. How many hours does {a_he} work in a week?",
        "With a {brk} minute lunch break, how many hours does {a} work in {days} days if {a_he} starts at {start} am and stops at {end} pm?",
    ], held=[1]),
    _t("distance", "rates", _distance, [
        "{a} drives at {speed} miles per hour for {hours} hours, then another {extra} miles. How many miles does {a_he} drive?",
        "A train goes {speed} km per hour for {hours} hours and then {extra} km more. How far does it go in km?",
        "How many miles does a bus cover at {speed} mph in {hours} hours, plus {extra} extra miles at the end?",
    ], held=[2]),
    _t("travel_time", "rates", _travel_time, [
        "{a} cycles {distance} km at {speed} km per hour. How many hours does the trip take?",
        "A car travels {distance} miles at a steady {speed} miles per hour. How long does the trip take in hours?",
    ]),
    _t("work_rate", "rates", _work_rate, [
        "{a} makes {per_hour} {things} an hour and works {hours} hours a day. How many {things} does {a_he} make in {days} days?",
        "In {days} days of {hours} hours each, how many {things} can {a} paint at {per_hour} {things} per hour?",
    ], held=[1]),
    _t("fraction_given", "fractions", _fraction_given, [
        "{a} had {total} {things}. {a_He} gave {word} of them to a friend and lost {lost}. How many {things} does {a_he} have now?",
        "Out of {total} {things}, {a} gives away {word} and then loses {lost}. How many are left?",
    ]),
    _t("fraction_of_fraction", "fractions", _fraction_of_fraction, [
        "A school has {total} students. {a}/{b} of them are in a club, and {c}/{d} of the club members play chess. How many students play chess?",
        "Of {total} students, {a}/{b} joined the club; {c}/{d} of those play chess. How many chess players are there?",
    ], held=[1]),
    _t("discount", "percentages", _discount, [
        "A {item} costs ${price}. It is on sale for {pct}% off. What is the sale price?",
        "{a} buys a {item} priced at ${price} with a {pct} percent discount. How much does {a_he} pay?",
        "How much is a ${price} {item} after a {pct}% discount?",
    ], held=[2]),
    _t("percent_of", "percentages", _percent_of, [
        "An orchard has {total} trees and {pct}% of them are apple trees. How many trees are not apple trees?",
        "{pct} percent of the {total} trees in an orchard are apple trees. How many of the trees are something else?",
    ]),
    _t("percent_increase", "percentages", _percent_increase, [
        "{a} pays ${rent} rent a month. The rent goes up by {pct}%. What is the new rent?",
        "The monthly rent of {a}'s flat is {rent} dollars and rises {pct} percent. How many dollars is it now?",
    ], held=[1]),
    _t("age_times", "ages", _age_times, [
        "{a} is {age} years old. {b} is {k} times as old as {a}. How old will {b} be in {years} years?",
        "{b} is {k} times {a}'s age, and {a} is {age}. How old is {b} {years} years from now?",
    ]),
    _t("age_sum", "ages", _age_sum, [
        "{a} is {age} years old and {b} is {diff} years older. What is the sum of their ages?",
        "{b} is {diff} years older than {a}, who is {age}. How old are they together?",
    ], held=[1]),
    _t("age_ago", "ages", _age_ago, [
        "{years} years ago, {a} was {age_then} and {b} was {k} times as old. How old is {b} now?",
        "When {a} was {age_then}, {b} was {k} times {a_his} age. That was {years} years ago. How old is {b} today?",
    ], held=[1]),
    _t("rectangle_cost", "geometry", _rectangle, [
        "A room is {length} meters long and {width} meters wide. Carpet costs ${cost} per square meter. How much does carpet for the room cost?",
        "How much does it cost to tile a {length} m by {width} m floor at {cost} dollars per square meter?",
    ]),
    _t("fence", "geometry", _fence, [
        "{a}'s garden is a rectangle {length} feet long and {width} feet wide. How many feet of fence go all around it?",
        "What is the perimeter of a rectangular field that is {length} m long and {width} m wide?",
    ], held=[1]),
    _t("box_volume", "geometry", _box_volume, [
        "A box is {l} cm long, {w} cm wide and {h} cm high. What is its volume in cubic cm?",
        "How many cubic inches does a crate of {l} by {w} by {h} inches hold?",
    ]),
    _t("triangle", "geometry", _triangle, [
        "A triangle has a base of {base} cm and a height of {height} cm. What is its area in square cm?",
        "Find the area of a triangular sail with base {base} m and height {height} m, in square meters.",
    ], held=[1]),
    _t("grid", "counting", _grid, [
        "A hall has {rows} rows of {cols} seats, but {missing} seats are broken. How many seats can be used?",
        "There are {rows} rows with {cols} chairs in each row. {missing} chairs are taken away. How many chairs are left?",
    ]),
    _t("legs", "counting", _legs, [
        "{a} has {hens} hens and {goats} goats. How many legs do the animals have in total?",
        "On a farm there are {goats} goats and {hens} hens. How many legs are there altogether?",
    ], held=[1]),
    _t("share", "counting", _share, [
        "{a} buys {packs} packs of {things} with {per_pack} in each pack and shares them equally among {friends} friends. How many does each friend get?",
        "{packs} packs hold {per_pack} {things} each. If {friends} friends split them evenly, how many {things} does each one get?",
    ]),
    _t("average", "counting", _average, [
        "{a} scored {listing} and {last} on {last_day}. What was {a_his} average score?",
        "What is the mean of {a}'s {count} scores: {listing} and {last} on {last_day}?",
    ], held=[1]),
    _t("leftover_boxes", "counting", _leftover_boxes, [
        "A farm packs {total} eggs into boxes of {per_box}. How many eggs are left over?",
        "If {total} eggs go into cartons holding {per_box} each, how many eggs do not fit in a full carton?",
    ]),
    # held-out templates: never in training
    _t("tickets", "money", _tickets, [
        "{a} takes {adults} adults and {kids} children to a show. Adult tickets cost ${adult_p} and child tickets ${kid_p}. What is the total?",
        "Tickets are ${adult_p} for adults and ${kid_p} for kids. How much do {adults} adult and {kids} kid tickets cost?",
    ], held_out=True),
    _t("tank", "rates", _tank, [
        "A tank fills at {fill} liters a minute but leaks {leak} liters a minute. How much water is in it after {minutes} minutes, starting empty?",
    ], held_out=True),
    _t("recipe", "fractions", _recipe, [
        "A recipe for {people} people needs {cups} cups of flour. {a} is cooking for {guests} people. How many cups does {a_he} need?",
    ], held_out=True),
    _t("overtime", "money", _overtime, [
        "{a} earns ${wage} an hour for the first 40 hours a week and 1.5 times that for overtime. How much does {a_he} earn in a week with {extra} hours of overtime?",
    ], held_out=True),
    _t("bill_tip", "percentages", _bill_tip, [
        "{friends} friends share a ${bill} bill and add a {tip}% tip. How much does each friend pay?",
    ], held_out=True),
    _t("border", "geometry", _border, [
        "A square garden {side} m on a side has a path {path} m wide all around it. What is the area of the path in square meters?",
    ], held_out=True),
    _t("pages_left", "time", _pages_left, [
        "{a}'s book has {total} pages. {a_He} read {first} pages on the first day and {per_day} pages a day for the next {days} days. How many pages are left?",
    ], held_out=True),
)  # fmt: skip
"""The math templates, training and held-out."""

__all__ = ["MATH_TEMPLATES"]
