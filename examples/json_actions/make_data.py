"""Make the JSON-action dataset: short requests -> one-line compact JSON actions.

Deterministic (seeded). Writes ``data/train.jsonl``, ``data/val.jsonl`` and ``data/test.jsonl``
as chat records (``messages``: system, user, assistant) so that tuning and evaluation see the
same system prompt. The test split uses only slot values (cities, names, tasks, numbers, times,
genres, items...) that never occur in training, and about half of its requests use phrasings
that are never used in training either.

    python examples/json_actions/make_data.py
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

SEED = 1234
SYSTEM = "Turn the request into a JSON action."
N_TRAIN, N_VAL, N_TEST = 405, 63, 63
OUT = Path(__file__).resolve().parent / "data"


def dump(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# -- slot pools: (train values, held-out values for val/test) --------------------------------

CITIES = (
    [
        "Lyon",
        "Paris",
        "Berlin",
        "Madrid",
        "Rome",
        "London",
        "Tokyo",
        "Boston",
        "Chicago",
        "Seattle",
        "Denver",
        "Oslo",
        "Vienna",
        "Prague",
        "Dublin",
        "Lisbon",
        "Sydney",
        "Toronto",
        "Austin",
        "Miami",
        "Munich",
        "Geneva",
        "Milan",
        "Athens",
    ],
    [
        "Marseille",
        "Hamburg",
        "Kyoto",
        "Nairobi",
        "Lima",
        "Helsinki",
        "Porto",
        "Calgary",
        "Osaka",
        "Seville",
        "Zurich",
    ],
)
NAMES = (
    [
        "Anna",
        "Ben",
        "Carlos",
        "Diana",
        "Emma",
        "Felix",
        "Grace",
        "Hugo",
        "Ines",
        "Jack",
        "Liam",
        "Maya",
        "Noah",
        "Olivia",
        "Paul",
        "Sofia",
        "Tom",
        "Nina",
        "Leo",
        "Eva",
    ],
    ["Zoe", "Omar", "Priya", "Yuki", "Ravi", "Clara", "Mateo", "Lena", "Tariq", "Greta"],
)
TASKS = (
    [
        "call mom",
        "buy milk",
        "water the plants",
        "take my pills",
        "email the landlord",
        "pick up the kids",
        "pay the rent",
        "book a dentist appointment",
        "feed the cat",
        "charge my phone",
        "walk the dog",
        "pack my lunch",
        "back up my laptop",
        "renew my passport",
        "start the laundry",
        "call the bank",
    ],
    [
        "call grandpa",
        "buy bread",
        "take out the trash",
        "send the invoice",
        "check the oven",
        "return the library books",
        "call the plumber",
        "order flowers",
    ],
)
MESSAGES = (
    [
        "I'm running late",
        "see you soon",
        "call me back",
        "dinner is ready",
        "happy birthday",
        "I'm on my way",
        "the meeting moved to 3",
        "good luck today",
        "I miss you",
        "where are you",
    ],
    ["thanks for lunch", "the door is open", "bring an umbrella", "I'll be home early"],
)
GENRES = (
    [
        "jazz",
        "rock",
        "classical",
        "blues",
        "reggae",
        "country",
        "metal",
        "techno",
        "folk",
        "soul",
        "funk",
        "disco",
        "punk",
    ]
    + ["hip hop"],
    ["salsa", "bluegrass", "k-pop", "ambient", "gospel", "house"],
)
ITEMS = (
    [
        "eggs",
        "milk",
        "apples",
        "rice",
        "coffee",
        "butter",
        "cheese",
        "bananas",
        "flour",
        "tomatoes",
        "onions",
        "carrots",
    ],
    ["lemons", "yogurt", "pasta", "honey", "olive oil", "batteries"],
)
LISTS = ["shopping", "grocery", "todo"]
TIMER_MINUTES = (
    [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 20, 25, 30, 40, 45, 60, 90],
    [7, 9, 11, 14, 35, 50, 75],
)
CONVERT_VALUES = ([1, 2, 3, 5, 10, 12, 20, 25, 50, 100, 2.5, 1.5], [4, 6, 8, 15, 30, 42, 7.5])
UNITS = {  # code -> spoken forms
    "km": ["km", "kilometers"],
    "mi": ["miles", "mi"],
    "kg": ["kg", "kilograms"],
    "lb": ["pounds", "lbs"],
    "c": ["Celsius", "degrees Celsius"],
    "f": ["Fahrenheit", "degrees Fahrenheit"],
    "m": ["meters", "m"],
    "ft": ["feet", "ft"],
    "l": ["liters", "l"],
    "gal": ["gallons", "gal"],
    "cm": ["cm", "centimeters"],
    "in": ["inches", "in"],
}
PAIRS = [
    ("km", "mi"),
    ("mi", "km"),
    ("kg", "lb"),
    ("lb", "kg"),
    ("c", "f"),
    ("f", "c"),
    ("m", "ft"),
    ("ft", "m"),
    ("l", "gal"),
    ("gal", "l"),
    ("cm", "in"),
    ("in", "cm"),
]
DAYS = [("today", "today"), ("tomorrow", "tomorrow")] + [
    (f"on {d}", d.lower())
    for d in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
]


def _all_times() -> list[tuple[int, int, str]]:
    return [(h, m, ap) for h in range(1, 13) for m in (0, 15, 30, 45) for ap in ("am", "pm")]


_times = _all_times()
random.Random(SEED + 1).shuffle(_times)
TIMES = (_times[: int(len(_times) * 0.75)], _times[int(len(_times) * 0.75) :])


def say_time(rng: random.Random, t: tuple[int, int, str]) -> tuple[str, str]:
    """Spoken time and its 24-hour "HH:MM" value."""
    h, m, ap = t
    hour24 = (h % 12) + (12 if ap == "pm" else 0)
    value = f"{hour24:02d}:{m:02d}"
    if m == 0:
        spoken = rng.choice([f"{h}{ap}", f"{h} {ap}", f"{h}:00 {ap}"])
    else:
        spoken = rng.choice([f"{h}:{m:02d}{ap}", f"{h}:{m:02d} {ap}"])
    return spoken, value


def fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


# -- intents: (seen phrasings, held-out phrasings, slot filler) -------------------------------
# A filler takes (rng, pool index 0=train/1=held-out) and returns (slots for the phrasing, action).

Filler = Callable[[random.Random, int], tuple[dict[str, str], dict]]


def f_reminder(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    spoken, value = say_time(rng, rng.choice(TIMES[p]))
    task = rng.choice(TASKS[p])
    return {"time": spoken, "task": task}, {"action": "reminder", "time": value, "text": task}


def f_alarm(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    spoken, value = say_time(rng, rng.choice(TIMES[p]))
    return {"time": spoken}, {"action": "alarm", "time": value}


def f_timer(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    n = rng.choice(TIMER_MINUTES[p])
    return {"n": str(n)}, {"action": "timer", "minutes": n}


def f_weather(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    city = rng.choice(CITIES[p])
    spoken, day = rng.choice(DAYS)
    return {"city": city, "day": spoken}, {"action": "weather", "city": city, "day": day}


def f_convert(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    v = rng.choice(CONVERT_VALUES[p])
    src, dst = rng.choice(PAIRS)
    slots = {"v": fmt_num(v), "src": rng.choice(UNITS[src]), "dst": rng.choice(UNITS[dst])}
    return slots, {"action": "convert", "value": v, "from": src, "to": dst}


def f_music(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    g = rng.choice(GENRES[p])
    return {"g": g}, {"action": "play_music", "genre": g}


def f_message(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    name, text = rng.choice(NAMES[p]), rng.choice(MESSAGES[p])
    return {"name": name, "msg": text}, {"action": "send_message", "to": name, "text": text}


def f_call(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    name = rng.choice(NAMES[p])
    return {"name": name}, {"action": "call", "contact": name}


def f_list(rng: random.Random, p: int) -> tuple[dict[str, str], dict]:
    item, lst = rng.choice(ITEMS[p]), rng.choice(LISTS)
    return {"item": item, "list": lst}, {"action": "add_to_list", "item": item, "list": lst}


INTENTS: list[tuple[list[str], list[str], Filler]] = [
    (
        [
            "Remind me to {task} at {time}",
            "Set a reminder to {task} at {time}",
            "At {time}, remind me to {task}",
            "Can you remind me to {task} at {time}?",
            "Please remind me at {time} to {task}",
            "Don't let me forget to {task} at {time}",
        ],
        ["I need a reminder at {time} to {task}", "Ping me at {time} so I {task}"],
        f_reminder,
    ),
    (
        [
            "Wake me up at {time}",
            "Set an alarm for {time}",
            "Alarm at {time} please",
            "I need to get up at {time}",
            "Set my alarm to {time}",
        ],
        ["Can you get me up at {time}?", "Make sure I'm awake by {time}"],
        f_alarm,
    ),
    (
        [
            "Set a timer for {n} minutes",
            "Start a {n} minute timer",
            "Timer for {n} minutes please",
            "Count down {n} minutes",
            "Can you set a {n}-minute timer?",
        ],
        ["I need a timer of {n} minutes", "Give me {n} minutes on the clock"],
        f_timer,
    ),
    (
        [
            "What's the weather in {city} {day}?",
            "How's the weather going to be in {city} {day}?",
            "Weather forecast for {city} {day}",
            "Will it rain in {city} {day}?",
            "Tell me the weather in {city} {day}",
            "Is it going to be sunny in {city} {day}?",
        ],
        ["Do I need an umbrella in {city} {day}?", "Check the forecast for {city} {day}"],
        f_weather,
    ),
    (
        [
            "Convert {v} {src} to {dst}",
            "How many {dst} is {v} {src}?",
            "What is {v} {src} in {dst}?",
            "{v} {src} to {dst}",
            "Change {v} {src} into {dst}",
        ],
        ["How much is {v} {src} in {dst}?", "I have {v} {src}, what is that in {dst}?"],
        f_convert,
    ),
    (
        [
            "Play some {g}",
            "Put on some {g} music",
            "I want to listen to {g}",
            "Can you play {g}?",
            "Start a {g} playlist",
        ],
        ["Throw on some {g}", "I'm in the mood for {g}"],
        f_music,
    ),
    (
        [
            "Send a message to {name} saying {msg}",
            "Text {name}: {msg}",
            "Message {name} that {msg}",
            "Send {name} a text: {msg}",
        ],
        ["Shoot {name} a text saying {msg}", "Let {name} know: {msg}"],
        f_message,
    ),
    (
        [
            "Call {name}",
            "Phone {name}",
            "Give {name} a call",
            "Can you call {name}?",
            "Dial {name} for me",
        ],
        ["Ring {name}", "Get {name} on the phone"],
        f_call,
    ),
    (
        [
            "Add {item} to my {list} list",
            "Put {item} on the {list} list",
            "Can you add {item} to the {list} list?",
            "Write {item} on my {list} list",
        ],
        ["Please note {item} on my {list} list", "Stick {item} on the {list} list"],
        f_list,
    ),
]


def vary(rng: random.Random, text: str) -> str:
    """Small surface noise: sometimes all lower case, sometimes no final '?'."""
    if rng.random() < 0.15:
        text = text.lower()
    if text.endswith("?") and rng.random() < 0.2:
        text = text[:-1]
    return text


def make_split(
    rng: random.Random, n: int, pool: int, heldout_share: float, seen: set[str]
) -> list[dict]:
    """``n`` records spread evenly over the intents, with unique prompts not in ``seen``."""
    records: list[dict] = []
    per_intent = n // len(INTENTS)
    for known, heldout, filler in INTENTS:
        made, tries = 0, 0
        while made < per_intent and tries < 10_000:
            tries += 1
            phrasings = heldout if rng.random() < heldout_share else known
            slots, action = filler(rng, pool)
            prompt = vary(rng, rng.choice(phrasings).format(**slots))
            if prompt.lower() in seen:
                continue
            seen.add(prompt.lower())
            records.append(
                {
                    "messages": [
                        {"role": "system", "content": SYSTEM},
                        {"role": "user", "content": prompt},
                        {"role": "assistant", "content": dump(action)},
                    ]
                }
            )
            made += 1
    rng.shuffle(records)
    return records


def main() -> None:
    rng = random.Random(SEED)
    seen: set[str] = set()
    train = make_split(rng, N_TRAIN, pool=0, heldout_share=0.0, seen=seen)
    val = make_split(rng, N_VAL, pool=1, heldout_share=0.0, seen=seen)
    test = make_split(rng, N_TEST, pool=1, heldout_share=0.5, seen=seen)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, records in (("train", train), ("val", val), ("test", test)):
        path = OUT / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"{path}: {len(records)} records")  # noqa: T201


if __name__ == "__main__":
    main()
