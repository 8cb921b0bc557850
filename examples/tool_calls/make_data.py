"""Make training data for a tool-calling LoRA adapter: requests -> the replies ChatLocal expects.

Everything here is written for this project: the tool schemas, the requests, the slot values
and the answers. Nothing comes from BFCL or any other evaluation set.

Each record is a chat record (``messages``: system, user, assistant...) that
``localchain tune`` reads (``localchain.datasets.load_examples``), rendered exactly as
``ChatLocal.bind_tools(tools, tool_choice="auto")`` renders a request:

* the system message is ``tools_system_prompt(tools, "auto")`` (after the caller's own system
  message, when the record has one, as ``ChatLocal`` merges them);
* a history with tool calls and results is rendered by ``render_tool_messages`` (a call as the
  JSON the model emits, a result as a ``Tool result (name, id): ...`` user turn);
* the completion is what the grammar lets the model write: one call
  ``{"name": ..., "arguments": {...}}`` (``render_tool_call``, arguments in the schema's
  property order), several calls as a JSON list of them, or ``{"response": "..."}``.

Record kinds: ``single`` (one tool offered, one call), ``choose`` (the right tool among several),
``parallel`` (two or three calls in one reply), ``no_call`` (small talk and general questions,
or a request no offered tool can serve: answer in text) and ``answer`` (a call, its result, then
an answer written from the result). Each record keeps its ``kind`` and ``tools`` beside the
messages (extra keys the loader keeps and tuning ignores).

Splits: ``train`` uses the training tools, slot values and phrasings; ``val`` the same tools
and phrasings with held-out slot values; ``test`` adds tools, and phrasings, never seen in
training. Deterministic (seeded)::

    python examples/tool_calls/make_data.py            # build/tool_calls/{train,val,test}.jsonl
    python examples/tool_calls/make_data.py --train 200 --out /tmp/tc
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from localchain.models.tool_calling import (
    render_tool_call,
    render_tool_messages,
    tools_system_prompt,
)

SEED = 4321
OUT = Path(__file__).resolve().parents[2] / "build" / "tool_calls"
N_TRAIN, N_VAL, N_TEST = 2000, 60, 150
KINDS = {"single": 0.15, "choose": 0.2, "parallel": 0.15, "no_call": 0.3, "answer": 0.2}
USER_SYSTEMS = [
    "You are a helpful assistant.",
    "You are a concise assistant. Keep answers short.",
    "You help people get things done.",
]

# -- slot pools: (training values, held-out values) ------------------------------------------

CITIES = (
    ["Lyon", "Berlin", "Madrid", "Rome", "Tokyo", "Boston", "Denver", "Oslo", "Vienna", "Dublin",
     "Lisbon", "Sydney", "Toronto", "Munich", "Athens", "Cairo", "Seoul", "Chicago"],
    ["Marseille", "Kyoto", "Nairobi", "Lima", "Helsinki", "Porto", "Calgary", "Seville"],
)  # fmt: skip
NAMES = (
    ["Anna", "Ben", "Carlos", "Diana", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jack", "Liam",
     "Maya", "Noah", "Olivia", "Paul", "Sofia"],
    ["Zoe", "Omar", "Priya", "Yuki", "Ravi", "Clara", "Mateo", "Greta"],
)  # fmt: skip
CURRENCIES = (["USD", "EUR", "GBP", "JPY", "CHF", "CAD"], ["AUD", "SEK", "NOK", "INR"])
LANGUAGES = (["French", "German", "Spanish", "Italian", "Japanese"], ["Dutch", "Korean", "Greek"])
PHRASES = (
    ["good morning", "where is the station", "thank you very much", "how much is this",
     "I would like a coffee", "see you tomorrow"],
    ["the museum is closed", "I lost my keys", "happy new year"],
)  # fmt: skip
DISHES = (
    ["lasagna", "pancakes", "tomato soup", "fried rice", "apple pie", "guacamole", "risotto"],
    ["paella", "banana bread", "ramen"],
)  # fmt: skip
CUISINES = (["Italian", "Thai", "Mexican", "Indian", "Japanese", "vegan"], ["Greek", "Korean"])
GENRES = (["jazz", "rock", "classical", "blues", "reggae", "folk"], ["salsa", "ambient", "soul"])
TOPICS = (
    ["technology", "sports", "science", "economy", "health", "travel"],
    ["climate", "space", "education"],
)  # fmt: skip
SYMBOLS = (["AAPL", "MSFT", "TSLA", "AMZN", "NVDA", "IBM"], ["ORCL", "SAP", "INTC"])
TEAMS = (
    ["the Lions", "the Hawks", "Real Rivera", "the Comets", "FC Northbridge"],
    ["the Otters", "Atletico Sol"],
)  # fmt: skip
WORDS = (["serendipity", "ephemeral", "ubiquitous", "resilient", "candid"], ["laconic", "verbose"])
SUBJECTS = (
    ["the meeting", "lunch on Friday", "the project plan", "the invoice", "my trip"],
    ["the party", "the new schedule"],
)  # fmt: skip
TASKS = (
    ["call the bank", "buy milk", "water the plants", "pay the rent", "feed the cat",
     "renew my passport", "back up my laptop"],
    ["return the library books", "call the plumber", "order flowers"],
)  # fmt: skip
DATES = (
    ["2025-03-14", "2025-04-02", "2025-05-20", "2025-06-11", "2025-07-01", "2025-08-23"],
    ["2025-09-09", "2025-10-31", "2025-12-05"],
)  # fmt: skip
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy"]
UNITS = [("km", "miles", 0.621371), ("kg", "pounds", 2.20462), ("liters", "gallons", 0.264172),
         ("meters", "feet", 3.28084), ("miles", "km", 1.609344)]  # fmt: skip


def pick(rng: random.Random, pool: tuple[list[Any], list[Any]], p: int) -> Any:
    """A value from the training (``p=0``) or held-out (``p=1``) half of ``pool``."""
    return rng.choice(pool[p])


def num(value: float) -> str:
    """A number as people write it: no trailing ``.0``, two decimals at most."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


# -- tools ----------------------------------------------------------------------------------


@dataclass
class Sample:
    """One use of a tool: its arguments, the request's slots, a result and an answer."""

    args: dict[str, Any]
    slots: dict[str, str]
    result: Any
    answer: str


@dataclass(eq=False)
class Tool:
    """A synthetic tool: its OpenAI schema, phrasings (seen, held-out) and a sampler."""

    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    required: list[str]
    phrasings: tuple[list[str], list[str]]
    sample: Callable[[random.Random, int], Sample]
    capability: str
    """What it does, for "I cannot ..." answers, e.g. "check the weather"."""

    def schema(self) -> dict[str, Any]:
        """The OpenAI tool dict, as ``convert_to_openai_tool`` gives for a function."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": self.properties,
                    "required": self.required,
                },
            },
        }


def S(description: str, **extra: Any) -> dict[str, Any]:  # noqa: N802
    """A string property."""
    return {"type": "string", "description": description, **extra}


def N(description: str, kind: str = "number") -> dict[str, Any]:  # noqa: N802
    """A number (or integer) property."""
    return {"type": kind, "description": description}


def ordered(tool_properties: dict[str, Any], **args: Any) -> dict[str, Any]:
    """``args`` in the schema's property order (the grammar writes them in that order)."""
    return {key: args[key] for key in tool_properties if key in args}


def _weather(rng: random.Random, p: int) -> Sample:
    city, temp, cond = pick(rng, CITIES, p), rng.randint(-5, 34), rng.choice(CONDITIONS)
    unit = rng.choice([None, "celsius", "fahrenheit"])
    args = {"city": city} if unit is None else {"city": city, "unit": unit}
    shown = temp if unit != "fahrenheit" else round(temp * 9 / 5 + 32)
    suffix = "" if unit is None else f" in {unit}"
    result = {"city": city, "temperature": shown, "condition": cond}
    answer = f"It is {shown} degrees and {cond} in {city} right now."
    return Sample(args, {"city": city, "unit": suffix}, result, answer)


def _currency(rng: random.Random, p: int) -> Sample:
    src, dst = rng.sample(CURRENCIES[p], 2)
    amount = rng.choice([10, 25, 50, 100, 250, 1000, 12.5, 75])
    rate = round(rng.uniform(0.5, 1.6), 4)
    value = round(amount * rate, 2)
    args = {"amount": amount, "from_currency": src, "to_currency": dst}
    result = {"amount": value, "currency": dst, "rate": rate}
    answer = f"{num(amount)} {src} is about {num(value)} {dst} (rate {rate})."
    return Sample(args, {"amount": num(amount), "src": src, "dst": dst}, result, answer)


def _units(rng: random.Random, p: int) -> Sample:
    src, dst, factor = rng.choice(UNITS)
    value = rng.choice([1, 2, 5, 10, 12, 42, 100] if p == 0 else [3, 7, 15, 60])
    out = round(value * factor, 2)
    args = {"value": value, "from_unit": src, "to_unit": dst}
    answer = f"{num(value)} {src} is {num(out)} {dst}."
    return Sample(args, {"v": num(value), "src": src, "dst": dst}, {"result": out}, answer)


def _timer(rng: random.Random, p: int) -> Sample:
    minutes = rng.choice([2, 5, 10, 15, 20, 30, 45] if p == 0 else [7, 12, 25])
    args = {"minutes": minutes}
    result = {"status": "started", "minutes": minutes}
    return Sample(args, {"n": str(minutes)}, result, f"Your {minutes}-minute timer is running.")


def _reminder(rng: random.Random, p: int) -> Sample:
    task, hour, minute = pick(rng, TASKS, p), rng.randint(6, 21), rng.choice([0, 15, 30, 45])
    time = f"{hour:02d}:{minute:02d}"
    spoken = f"{hour % 12 or 12}:{minute:02d} {'pm' if hour >= 12 else 'am'}"
    args = {"text": task, "time": time}
    answer = f"I set a reminder to {task} at {spoken}."
    return Sample(args, {"task": task, "time": spoken}, {"id": rng.randint(100, 999)}, answer)


def _email(rng: random.Random, p: int) -> Sample:
    name, subject = pick(rng, NAMES, p), pick(rng, SUBJECTS, p)
    to = f"{name.lower()}@example.com"
    body = f"Hi {name}, can we talk about {subject}?"
    args = {"to": to, "subject": subject.capitalize(), "body": body}
    answer = f"I sent the email about {subject} to {to}."
    return Sample(args, {"to": to, "subject": subject, "name": name}, {"sent": True}, answer)


def _restaurants(rng: random.Random, p: int) -> Sample:
    city, cuisine = pick(rng, CITIES, p), pick(rng, CUISINES, p)
    words = rng.sample(["Olive", "Lotus", "Harbor", "Garden", "Ember", "Saffron"], 2)
    places = [f"{rng.choice(['Casa', 'Chez', 'The', 'Little'])} {w}" for w in words]
    args = {"city": city, "cuisine": cuisine}
    answer = f"Two {cuisine} places in {city}: {places[0]} and {places[1]}."
    return Sample(args, {"city": city, "cuisine": cuisine}, {"results": places}, answer)


def _stock(rng: random.Random, p: int) -> Sample:
    symbol, price = pick(rng, SYMBOLS, p), round(rng.uniform(20, 900), 2)
    answer = f"{symbol} is trading at {price} dollars."
    return Sample({"symbol": symbol}, {"symbol": symbol}, {"price": price}, answer)


def _translate(rng: random.Random, p: int) -> Sample:
    text, lang = pick(rng, PHRASES, p), pick(rng, LANGUAGES, p)
    out = f"[{lang} for '{text}']"
    args = {"text": text, "target_language": lang}
    answer = f"In {lang}, '{text}' is {out}."
    return Sample(args, {"text": text, "lang": lang}, {"translation": out}, answer)


def _flights(rng: random.Random, p: int) -> Sample:
    origin, dest = rng.sample(CITIES[p], 2)
    date = pick(rng, DATES, p)
    price = rng.randint(60, 900)
    args = {"origin": origin, "destination": dest, "date": date}
    result = {"flights": [{"depart": "08:40", "price": price}]}
    answer = f"The cheapest flight from {origin} to {dest} on {date} leaves at 08:40 for {price}."
    return Sample(args, {"o": origin, "d": dest, "date": date}, result, answer)


def _recipe(rng: random.Random, p: int) -> Sample:
    dish = pick(rng, DISHES, p)
    servings = rng.choice([None, 2, 4, 6])
    args = {"dish": dish} if servings is None else {"dish": dish, "servings": servings}
    minutes = rng.randint(15, 90)
    extra = "" if servings is None else f" for {servings}"
    answer = f"The {dish} recipe{extra} takes about {minutes} minutes."
    return Sample(args, {"dish": dish, "for": extra}, {"minutes": minutes}, answer)


def _music(rng: random.Random, p: int) -> Sample:
    genre = pick(rng, GENRES, p)
    shuffle = rng.choice([True, False])
    args = {"genre": genre, "shuffle": shuffle}
    answer = f"Playing {genre}{' on shuffle' if shuffle else ''}."
    words = " on shuffle" if shuffle else ""
    return Sample(args, {"g": genre, "shuffle": words}, {"playing": genre}, answer)


def _circle(rng: random.Random, p: int) -> Sample:
    radius = rng.choice([1, 2, 3.5, 4, 10] if p == 0 else [6, 2.5, 12])
    area = round(3.14159265 * radius * radius, 2)
    answer = f"A circle of radius {num(radius)} has an area of about {num(area)}."
    return Sample({"radius": radius}, {"r": num(radius)}, {"area": area}, answer)


def _interest(rng: random.Random, p: int) -> Sample:
    principal = rng.choice([1000, 2500, 5000, 10000])
    rate, years = rng.choice([0.02, 0.03, 0.05]), rng.choice([2, 5, 10] if p == 0 else [3, 7])
    total = round(principal * (1 + rate) ** years, 2)
    args = {"principal": principal, "rate": rate, "years": years}
    slots = {"pr": num(principal), "rate": f"{round(rate * 100)}%", "y": str(years)}
    answer = f"After {years} years, {num(principal)} grows to {num(total)}."
    return Sample(args, slots, {"total": total}, answer)


def _news(rng: random.Random, p: int) -> Sample:
    topic = pick(rng, TOPICS, p)
    limit = rng.choice([None, 3, 5])
    args = {"topic": topic} if limit is None else {"topic": topic, "limit": limit}
    head = f"New {topic} report published this week"
    slots = {"topic": topic, "n": "" if limit is None else f"{limit} "}
    return Sample(args, slots, {"headlines": [head]}, f"The top {topic} headline: {head}.")


def _score(rng: random.Random, p: int) -> Sample:
    team, a, b = pick(rng, TEAMS, p), rng.randint(0, 5), rng.randint(0, 5)
    answer = f"{team[0].upper() + team[1:]} played last night; the score was {a} to {b}."
    return Sample({"team": team}, {"team": team}, {"score": f"{a}-{b}"}, answer)


def _define(rng: random.Random, p: int) -> Sample:
    word = pick(rng, WORDS, p)
    meaning = f"the dictionary meaning of {word}"
    answer = f"'{word}' means {meaning}."
    return Sample({"word": word}, {"w": word}, {"definition": meaning}, answer)


def _hotels(rng: random.Random, p: int) -> Sample:
    city, date, nights = pick(rng, CITIES, p), pick(rng, DATES, p), rng.randint(1, 6)
    price = rng.randint(70, 300)
    args = {"city": city, "check_in": date, "nights": nights}
    answer = (
        f"Hotel Central in {city} has a room from {date} for {nights} nights at {price} a night."
    )
    return Sample(args, {"city": city, "date": date, "n": str(nights)}, {"price": price}, answer)


def _air(rng: random.Random, p: int) -> Sample:
    city, aqi = pick(rng, CITIES, p), rng.randint(10, 180)
    answer = f"The air quality index in {city} is {aqi}."
    return Sample({"city": city}, {"city": city}, {"aqi": aqi}, answer)


def _dice(rng: random.Random, p: int) -> Sample:
    count, sides = rng.randint(1, 4), rng.choice([6, 8, 10, 20])
    rolls = [rng.randint(1, sides) for _ in range(count)]
    answer = f"You rolled {', '.join(map(str, rolls))}."
    args = {"sides": sides, "count": count}
    return Sample(args, {"n": str(count), "s": str(sides)}, {"rolls": rolls}, answer)


def _package(rng: random.Random, p: int) -> Sample:
    number = f"{rng.choice(['PK', 'TR', 'ZX'])}{rng.randint(100000, 999999)}"
    status = rng.choice(["in transit", "out for delivery", "delivered"])
    answer = f"Package {number} is {status}."
    return Sample({"tracking_number": number}, {"no": number}, {"status": status}, answer)


TOOLS: list[Tool] = [
    Tool(
        "get_weather",
        "Get the current weather in a city.",
        {
            "city": S("City name, e.g. 'Paris'."),
            "unit": S("Temperature unit.", enum=["celsius", "fahrenheit"]),
        },
        ["city"],
        (
            [
                "What's the weather in {city}{unit}?",
                "How warm is it in {city} today{unit}?",
                "Tell me the weather for {city}{unit}.",
                "Is it raining in {city}?",
            ],
            ["Do I need a jacket in {city} today?", "Weather check for {city}{unit}, please."],
        ),
        _weather,
        "check the weather",
    ),
    Tool(
        "convert_currency",
        "Convert an amount of money from one currency to another.",
        {
            "amount": N("The amount to convert."),
            "from_currency": S("ISO code, e.g. 'USD'."),
            "to_currency": S("ISO code, e.g. 'EUR'."),
        },
        ["amount", "from_currency", "to_currency"],
        (
            [
                "Convert {amount} {src} to {dst}.",
                "How much is {amount} {src} in {dst}?",
                "What are {amount} {src} worth in {dst}?",
            ],
            ["I have {amount} {src}; what is that in {dst}?"],
        ),
        _currency,
        "convert currencies",
    ),
    Tool(
        "convert_units",
        "Convert a value between units of length, mass or volume.",
        {
            "value": N("The value."),
            "from_unit": S("Unit of the value."),
            "to_unit": S("Unit to convert to."),
        },
        ["value", "from_unit", "to_unit"],
        (
            ["Convert {v} {src} to {dst}.", "How many {dst} is {v} {src}?", "{v} {src} in {dst}?"],
            ["What do {v} {src} come to in {dst}?"],
        ),
        _units,
        "convert units",
    ),
    Tool(
        "set_timer",
        "Start a countdown timer.",
        {"minutes": N("Length of the timer in minutes.", "integer")},
        ["minutes"],
        (
            ["Set a timer for {n} minutes.", "Start a {n} minute timer.", "Timer, {n} minutes."],
            ["Count down {n} minutes for me."],
        ),
        _timer,
        "set timers",
    ),
    Tool(
        "create_reminder",
        "Create a reminder at a time of day.",
        {"text": S("What to remind about."), "time": S("Time of day as HH:MM, 24-hour.")},
        ["text", "time"],
        (
            [
                "Remind me to {task} at {time}.",
                "At {time}, remind me to {task}.",
                "Set a reminder to {task} at {time}.",
            ],
            ["Don't let me forget to {task} at {time}."],
        ),
        _reminder,
        "set reminders",
    ),
    Tool(
        "send_email",
        "Send an email.",
        {"to": S("Recipient address."), "subject": S("Subject line."), "body": S("Message text.")},
        ["to", "subject", "body"],
        (
            [
                "Email {to} about {subject} and ask {name} if we can talk about it.",
                "Send an email to {to} with the subject {subject}, asking {name} to talk about it.",
            ],
            ["Write to {to} about {subject}; ask {name} for a chat about it."],
        ),
        _email,
        "send emails",
    ),
    Tool(
        "search_restaurants",
        "Find restaurants in a city by cuisine.",
        {"city": S("City name."), "cuisine": S("Kind of food, e.g. 'Thai'.")},
        ["city", "cuisine"],
        (
            [
                "Find {cuisine} restaurants in {city}.",
                "Where can I eat {cuisine} food in {city}?",
                "Any good {cuisine} places in {city}?",
            ],
            ["I'm in {city} and craving {cuisine}; suggestions?"],
        ),
        _restaurants,
        "find restaurants",
    ),
    Tool(
        "get_stock_price",
        "Get the latest price of a stock by its ticker symbol.",
        {"symbol": S("Ticker symbol, e.g. 'AAPL'.")},
        ["symbol"],
        (
            [
                "What is {symbol} trading at?",
                "Stock price of {symbol}?",
                "How much is one {symbol} share?",
            ],
            ["Quote me {symbol}."],
        ),
        _stock,
        "look up stock prices",
    ),
    Tool(
        "translate_text",
        "Translate text into another language.",
        {"text": S("Text to translate."), "target_language": S("Language to translate into.")},
        ["text", "target_language"],
        (
            [
                "Translate '{text}' into {lang}.",
                "How do you say '{text}' in {lang}?",
                "Say '{text}' in {lang}.",
            ],
            ["What's '{text}' in {lang}?"],
        ),
        _translate,
        "translate text",
    ),
    Tool(
        "search_flights",
        "Search flights between two cities on a date.",
        {
            "origin": S("Departure city."),
            "destination": S("Arrival city."),
            "date": S("Date as YYYY-MM-DD."),
        },
        ["origin", "destination", "date"],
        (
            [
                "Find flights from {o} to {d} on {date}.",
                "Are there flights {o} to {d} on {date}?",
                "I need to fly from {o} to {d} on {date}.",
            ],
            ["Flights {o} -> {d}, {date}?"],
        ),
        _flights,
        "search flights",
    ),
    Tool(
        "get_recipe",
        "Get a recipe for a dish.",
        {"dish": S("Name of the dish."), "servings": N("Number of servings.", "integer")},
        ["dish"],
        (
            [
                "Give me a recipe for {dish}{for}.",
                "How do I make {dish}{for}?",
                "Recipe for {dish}{for}, please.",
            ],
            ["I want to cook {dish}{for}; how?"],
        ),
        _recipe,
        "find recipes",
    ),
    Tool(
        "play_music",
        "Play music of a genre.",
        {"genre": S("Music genre."), "shuffle": {"type": "boolean", "description": "Shuffle."}},
        ["genre", "shuffle"],
        (
            [
                "Play some {g}{shuffle}.",
                "Put on {g} music{shuffle}.",
                "I want to hear {g}{shuffle}.",
            ],
            ["Music time: {g}{shuffle}."],
        ),
        _music,
        "play music",
    ),
    Tool(
        "circle_area",
        "Compute the area of a circle from its radius.",
        {"radius": N("Radius of the circle.")},
        ["radius"],
        (
            [
                "What is the area of a circle with radius {r}?",
                "Area of a circle of radius {r}?",
                "Compute the area of a circle whose radius is {r}.",
            ],
            ["A circle has radius {r}; how big is its area?"],
        ),
        _circle,
        "compute circle areas",
    ),
    Tool(
        "compound_interest",
        "Compute savings after compound interest.",
        {
            "principal": N("Starting amount."),
            "rate": N("Yearly rate as a fraction, e.g. 0.05."),
            "years": N("Number of years.", "integer"),
        },
        ["principal", "rate", "years"],
        (
            [
                "If I save {pr} at {rate} a year for {y} years, how much will I have?",
                "Compound interest on {pr} at {rate} over {y} years?",
            ],
            ["What does {pr} become after {y} years at {rate}?"],
        ),
        _interest,
        "compute interest",
    ),
    Tool(
        "get_news",
        "Get the latest news headlines on a topic.",
        {"topic": S("News topic."), "limit": N("How many headlines.", "integer")},
        ["topic"],
        (
            [
                "Show me the {n}latest {topic} headlines.",
                "What's new in {topic}?",
                "Any {topic} news today?",
            ],
            ["Catch me up on {topic} news."],
        ),
        _news,
        "fetch news",
    ),
    Tool(
        "get_sports_score",
        "Get the latest match score of a team.",
        {"team": S("Team name.")},
        ["team"],
        (
            [
                "How did {team} do last night?",
                "What was the score of {team}'s last game?",
                "Did {team} win?",
            ],
            ["Score for {team}?"],
        ),
        _score,
        "look up sports scores",
    ),
    Tool(
        "find_hotels",
        "Find a hotel room in a city.",
        {
            "city": S("City name."),
            "check_in": S("Check-in date as YYYY-MM-DD."),
            "nights": N("Number of nights.", "integer"),
        },
        ["city", "check_in", "nights"],
        (
            [
                "Find a hotel in {city} from {date} for {n} nights.",
                "I need a room in {city}, checking in {date}, {n} nights.",
            ],
            ["Book-search: {city}, {date}, {n} nights."],
        ),
        _hotels,
        "find hotels",
    ),
]
HELD_OUT_TOOLS: list[Tool] = [
    Tool("define_word", "Look up the meaning of an English word.",
         {"word": S("The word.")}, ["word"],
         (["What does '{w}' mean?", "Define {w}."], ["Meaning of the word {w}?"]),
         _define, "look up words"),
    Tool("check_air_quality", "Get the air quality index of a city.",
         {"city": S("City name.")}, ["city"],
         (["How is the air quality in {city}?", "Air quality index for {city}?"],
          ["Is the air clean in {city} today?"]),
         _air, "check air quality"),
    Tool("roll_dice", "Roll dice.",
         {"sides": N("Sides per die.", "integer"), "count": N("Number of dice.", "integer")},
         ["sides", "count"],
         (["Roll {n} dice with {s} sides.", "Throw {n} d{s}."], ["Give me {n} rolls of a d{s}."]),
         _dice, "roll dice"),
    Tool("track_package", "Track a parcel by its tracking number.",
         {"tracking_number": S("The tracking number.")}, ["tracking_number"],
         (["Where is my package {no}?", "Track {no}."], ["Any news on parcel {no}?"]),
         _package, "track packages"),
]  # fmt: skip

# -- generated tools: many schemas of one shape, so the model learns to read a schema --------
# Each spec gives a function name, its description, request phrasings ({params} is replaced by
# the spoken arguments) and its parameters; a parameter is (name, type, description, spoken
# form, training values, held-out values); one marked optional is left out of some requests
# (and then out of the call: a value the user did not give is not invented).


@dataclass
class Param:
    """A parameter of a generated tool."""

    name: str
    type: str
    description: str
    spoken: str
    values: tuple[list[Any], list[Any]]
    optional: bool = False


def P(name: str, kind: str, description: str, spoken: str, train: list[Any],  # noqa: N802
      heldout: list[Any], *, optional: bool = False) -> Param:  # fmt: skip
    """A parameter (see ``Param``)."""
    return Param(name, kind, description, spoken, (train, heldout), optional)


def _spoken_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_spoken_value(v) for v in value) + "]"
    return (
        num(value) if isinstance(value, float | int) and not isinstance(value, bool) else str(value)
    )


def generated_tool(
    name: str, description: str, requests: tuple[list[str], list[str]], params: list[Param],
    what: str, capability: str,
) -> Tool:  # fmt: skip
    """A tool whose sample fills ``params`` and speaks them in one of ``requests``."""

    def sample(rng: random.Random, p: int) -> Sample:
        args: dict[str, Any] = {}
        spoken: list[str] = []
        for param in params:
            if param.optional and rng.random() < 0.5:
                continue
            value = rng.choice(param.values[p])
            args[param.name] = value
            spoken.append(param.spoken.format(v=_spoken_value(value)))
        text = spoken[0] if len(spoken) == 1 else ", ".join(spoken[:-1]) + " and " + spoken[-1]
        value = round(rng.uniform(1, 500), 2)
        answer = f"The {what} is {num(value)}."
        return Sample(args, {"params": text}, {"result": value}, answer)

    properties: dict[str, dict[str, Any]] = {}
    for param in params:
        prop: dict[str, Any] = {"type": param.type, "description": param.description}
        if param.type == "array":
            prop["items"] = {"type": "number"}
        properties[param.name] = prop
    required = [p.name for p in params if not p.optional]
    return Tool(name, description, properties, required, requests, sample, capability)


INTS = ([2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30], [7, 9, 11, 14, 18, 40])
SMALL = ([3, 4, 5, 6, 8, 10, 12], [7, 9, 11, 13])
FLOATS = ([1.5, 2.5, 3.2, 4.8, 0.5, 9.81, 12.5], [6.4, 7.25, 0.75])
LISTS = ([[2, 4, 6], [1, 3, 5, 7], [10, 20, 30], [5, 15], [3, 9, 12, 6]],
         [[8, 16, 24], [2, 7, 11], [4, 4, 9]])  # fmt: skip
COUNTRIES = (["France", "Japan", "Brazil", "Canada", "India", "Kenya", "Spain", "Mexico"],
             ["Chile", "Norway", "Egypt", "Vietnam"])  # fmt: skip
YEARS = ([1990, 2000, 2005, 2010, 2015, 2020], [1995, 2012, 2018])
GEN = generated_tool
GENERATED_TOOLS: list[Tool] = [
    GEN("calculate_rectangle_area", "Calculate the area of a rectangle.",
        (["Calculate the area of a rectangle with {params}.",
          "What is the area of a rectangle with {params}?"],
         ["A rectangle has {params}. Find its area."]),
        [P("length", "integer", "Length of the rectangle.", "a length of {v}", *INTS),
         P("width", "integer", "Width of the rectangle.", "a width of {v}", *INTS)],
        "area", "compute rectangle areas"),
    GEN("triangle_area", "Compute the area of a triangle from its base and height.",
        (["Find the area of a triangle with {params}.", "Triangle area for {params}?"],
         ["How big is a triangle with {params}?"]),
        [P("base", "integer", "The base of the triangle.", "base {v}", *INTS),
         P("height", "integer", "The height of the triangle.", "height {v}", *INTS),
         P("unit", "string", "Unit of measure, e.g. 'cm'.", "in {v}", ["cm", "m", "inches"],
           ["mm", "feet"], optional=True)],
        "area", "compute triangle areas"),
    GEN("get_hypotenuse", "Length of the hypotenuse of a right triangle from its two sides.",
        (["What is the hypotenuse of a right triangle with {params}?",
          "Compute the hypotenuse given {params}."],
         ["Right triangle with {params}: how long is the hypotenuse?"]),
        [P("side_a", "number", "First side.", "one side {v}", *SMALL),
         P("side_b", "number", "Second side.", "the other side {v}", *SMALL)],
        "hypotenuse", "compute hypotenuses"),
    GEN("sphere_volume", "Calculate the volume of a sphere.",
        (["What is the volume of a sphere with {params}?",
          "Compute the volume of a sphere of {params}."],
         ["A ball has {params}; what volume is that?"]),
        [P("radius", "number", "Radius of the sphere.", "radius {v}", *FLOATS),
         P("unit", "string", "Unit of the radius.", "in {v}", ["cm", "m"], ["inches"],
           optional=True)],
        "volume", "compute sphere volumes"),
    GEN("cylinder_volume", "Volume of a cylinder from its radius and height.",
        (["Calculate the volume of a cylinder with {params}.", "Cylinder volume, {params}?"],
         ["I have a can with {params}; how much does it hold?"]),
        [P("radius", "number", "Radius of the base.", "radius {v}", *FLOATS),
         P("height", "number", "Height of the cylinder.", "height {v}", *INTS)],
        "volume", "compute cylinder volumes"),
    GEN("calculate_speed", "Average speed from distance and time.",
        (["What is the speed of a car that covers {params}?", "Calculate the speed for {params}."],
         ["A runner does {params}. How fast is that?"]),
        [P("distance", "number", "Distance travelled in km.", "{v} km", *INTS),
         P("time", "number", "Time taken in hours.", "in {v} hours", *SMALL)],
        "speed", "compute speeds"),
    GEN("kinetic_energy", "Calculate the kinetic energy of a moving object.",
        (["Find the kinetic energy of an object with {params}.",
          "What is the kinetic energy for {params}?"],
         ["Kinetic energy, {params}?"]),
        [P("mass", "number", "Mass in kg.", "a mass of {v} kg", *INTS),
         P("velocity", "number", "Velocity in m/s.", "a velocity of {v} m/s", *INTS)],
        "kinetic energy", "compute kinetic energy"),
    GEN("calculate_force", "Force from mass and acceleration (Newton's second law).",
        (["What force is needed to accelerate {params}?", "Calculate the force for {params}."],
         ["Newton's second law with {params}: what is the force?"]),
        [P("mass", "number", "Mass in kg.", "a mass of {v} kg", *INTS),
         P("acceleration", "number", "Acceleration in m/s^2.", "at {v} m/s^2", *FLOATS)],
        "force", "compute forces"),
    GEN("calculate_density", "Density of an object from its mass and volume.",
        (["What is the density of an object with {params}?", "Calculate density given {params}."],
         ["Find the density: {params}."]),
        [P("mass", "number", "Mass in kg.", "mass {v} kg", *INTS),
         P("volume", "number", "Volume in cubic meters.", "volume {v} m^3", *SMALL)],
        "density", "compute densities"),
    GEN("loan_monthly_payment", "Monthly payment of a loan.",
        (["What is the monthly payment on a loan of {params}?",
          "Calculate the monthly payment for {params}."],
         ["I borrow {params}; what do I pay each month?"]),
        [P("principal", "integer", "Loan amount.", "{v} dollars", [5000, 10000, 20000, 150000],
           [30000, 250000]),
         P("annual_rate", "number", "Yearly interest rate in percent.", "at {v}% a year",
           [3.5, 4, 5, 6.5], [4.25, 7]),
         P("years", "integer", "Length of the loan in years.", "over {v} years", [5, 10, 15, 30],
           [20, 25])],
        "monthly payment", "compute loan payments"),
    GEN("calculate_tip", "Tip for a restaurant bill.",
        (["How much should I tip on a bill of {params}?", "Calculate the tip for {params}."],
         ["Work out the tip: {params}."]),
        [P("bill_amount", "number", "The bill in dollars.", "{v} dollars", [40, 55.5, 80, 120],
           [64, 99.9]),
         P("tip_percent", "integer", "Tip in percent.", "{v} percent", [10, 15, 18, 20],
           [12, 22], optional=True)],
        "tip", "compute tips"),
    GEN("discounted_price", "Price after a percentage discount.",
        (["What does an item cost at {params}?", "Apply a discount: {params}."],
         ["Sale price for {params}?"]),
        [P("price", "number", "Original price.", "{v} dollars", [20, 49.99, 80, 150],
           [35, 240]),
         P("discount", "integer", "Discount in percent.", "{v}% off", [10, 20, 25, 50],
           [15, 30])],
        "discounted price", "compute discounts"),
    GEN("compute_bmi", "Body mass index from weight and height.",
        (["Compute the BMI of someone with {params}.", "What is the BMI for {params}?"],
         ["BMI check: {params}."]),
        [P("weight_kg", "number", "Weight in kilograms.", "weight {v} kg", [55, 62, 70, 85, 95],
           [58, 77]),
         P("height_m", "number", "Height in meters.", "height {v} m", [1.6, 1.7, 1.75, 1.85],
           [1.65, 1.9])],
        "BMI", "compute BMI"),
    GEN("factorial", "Factorial of a non-negative integer.",
        (["What is the factorial of {params}?", "Compute {params} factorial."],
         ["Factorial of {params}, please."]),
        [P("n", "integer", "The number.", "{v}", *SMALL)],
        "factorial", "compute factorials"),
    GEN("greatest_common_divisor", "Greatest common divisor of two integers.",
        (["Find the greatest common divisor of {params}.", "What is the GCD of {params}?"],
         ["Largest number dividing both {params}?"]),
        [P("a", "integer", "First number.", "{v}", [12, 18, 24, 36, 48], [27, 45]),
         P("b", "integer", "Second number.", "{v}", [8, 30, 42, 60], [21, 81])],
        "greatest common divisor", "compute divisors"),
    GEN("power", "Raise a number to a power.",
        (["What is {params}?", "Compute the power: {params}."], ["Calculate {params}."]),
        [P("base", "number", "The base.", "{v}", [2, 3, 5, 10], [4, 7]),
         P("exponent", "integer", "The exponent.", "to the power of {v}", [2, 3, 4, 8], [5, 6])],
        "result", "compute powers"),
    GEN("mean_of_numbers", "Average of a list of numbers.",
        (["What is the average of {params}?", "Compute the mean of {params}."],
         ["Mean value of {params}?"]),
        [P("numbers", "array", "The numbers.", "{v}", *LISTS)],
        "average", "compute averages"),
    GEN("standard_deviation", "Standard deviation of a list of numbers.",
        (["Calculate the standard deviation of {params}.", "Std dev of {params}?"],
         ["How spread out are {params}?"]),
        [P("numbers", "array", "The data values.", "{v}", *LISTS)],
        "standard deviation", "compute standard deviations"),
    GEN("get_population", "Population of a country in a given year.",
        (["What was the population of {params}?", "Population of {params}?"],
         ["How many people lived in {params}?"]),
        [P("country", "string", "Country name.", "{v}", *COUNTRIES),
         P("year", "integer", "The year.", "in {v}", *YEARS, optional=True)],
        "population", "look up populations"),
    GEN("city_distance", "Driving distance between two cities.",
        (["How far is it from {params}?", "Get the distance between {params}."],
         ["Distance from {params}, please."]),
        [P("origin", "string", "Starting city.", "{v}", *CITIES),
         P("destination", "string", "Destination city.", "to {v}", CITIES[0][::-1],
           CITIES[1][::-1]),
         P("unit", "string", "Unit, 'km' or 'miles'.", "in {v}", ["km", "miles"], ["miles"],
           optional=True)],
        "distance", "measure distances"),
    GEN("get_time_zone", "Time zone of a city.",
        (["What time zone is {params} in?", "Time zone of {params}?"],
         ["Which time zone does {params} use?"]),
        [P("city", "string", "City name.", "{v}", *CITIES)],
        "UTC offset", "look up time zones"),
    GEN("find_movie", "Find a movie by its title and year.",
        (["Find the movie {params}.", "Look up the film {params}."],
         ["Info on the movie {params}?"]),
        [P("title", "string", "Movie title.", "'{v}'", ["Blue Harbor", "Night Train", "Iron Sky",
           "The Long Summer"], ["Paper Moon Rising", "Cold River"]),
         P("year", "integer", "Release year.", "from {v}", *YEARS, optional=True)],
        "rating", "find movies"),
    GEN("nutrition_facts", "Calories and nutrients of a food.",
        (["How many calories are in {params}?", "Nutrition facts for {params}."],
         ["What's the calorie count of {params}?"]),
        [P("food", "string", "The food.", "{v}", ["an apple", "a banana", "rice", "oatmeal",
           "an egg"], ["a pear", "yogurt"]),
         P("grams", "integer", "Portion in grams.", "{v} grams of it", [50, 100, 150, 200],
           [120, 250], optional=True)],
        "calorie count", "look up nutrition"),
    GEN("convert_temperature", "Convert a temperature between celsius, fahrenheit and kelvin.",
        (["Convert {params}.", "What is {params}?"], ["Temperature conversion: {params}."]),
        [P("value", "number", "The temperature.", "{v} degrees", [0, 25, 37, 100, -10], [18, 60]),
         P("from_scale", "string", "Scale of the value.", "{v}", ["celsius", "fahrenheit"],
           ["kelvin"]),
         P("to_scale", "string", "Scale to convert to.", "to {v}", ["fahrenheit", "kelvin"],
           ["celsius"])],
        "temperature", "convert temperatures"),
    GEN("get_elevation", "Elevation of a mountain or place in meters.",
        (["How high is {params}?", "Elevation of {params}?"], ["What's the altitude of {params}?"]),
        [P("place", "string", "Name of the place.", "{v}", ["Mont Blanc", "Mount Fuji",
           "Table Mountain", "Ben Nevis"], ["Kilimanjaro", "Mount Cook"])],
        "elevation", "look up elevations"),
    GEN("book_search", "Search books by author and optional genre.",
        (["Find books by {params}.", "Search for books written by {params}."],
         ["Any books from {params}?"]),
        [P("author", "string", "Author's name.", "{v}", ["Jane Austen", "Mark Twain",
           "Agatha Christie", "Leo Tolstoy"], ["Toni Morrison", "Jules Verne"]),
         P("genre", "string", "Genre filter.", "in {v}", ["mystery", "fiction", "history"],
           ["poetry"], optional=True)],
        "number of books", "search books"),
]  # fmt: skip
HELD_OUT_GENERATED: list[Tool] = [
    GEN("circle_circumference", "Circumference of a circle from its radius.",
        (["What is the circumference of a circle with {params}?"],
         ["Perimeter of a circle of {params}?"]),
        [P("radius", "number", "Radius.", "radius {v}", *FLOATS)], "circumference",
        "compute circumferences"),
    GEN("least_common_multiple", "Least common multiple of two integers.",
        (["Find the least common multiple of {params}."], ["LCM of {params}?"]),
        [P("a", "integer", "First number.", "{v}", [4, 6, 8], [9, 10]),
         P("b", "integer", "Second number.", "{v}", [10, 14], [15, 12])],
        "least common multiple", "compute multiples"),
    GEN("simple_interest", "Simple interest on a principal.",
        (["Calculate the simple interest on {params}."], ["Interest earned on {params}?"]),
        [P("principal", "number", "Principal amount.", "{v} dollars", [1000, 2000], [5000, 800]),
         P("rate", "number", "Yearly rate in percent.", "at {v}%", [3, 5], [4, 6]),
         P("time", "integer", "Years.", "for {v} years", [2, 3], [4, 7])],
        "interest", "compute interest"),
    GEN("get_capital", "Capital city of a country.",
        (["What is the capital of {params}?"], ["Capital city of {params}?"]),
        [P("country", "string", "Country name.", "{v}", *COUNTRIES)], "capital code",
        "look up capitals"),
]  # fmt: skip

TRAINING_TOOLS = TOOLS + GENERATED_TOOLS
ALL_HELD_OUT = HELD_OUT_TOOLS + HELD_OUT_GENERATED

# Small talk and general questions no tool is for, with the answers to learn.
CHAT = (
    [("Hi!", "Hello! How can I help you today?"),
     ("Thanks, that's all.", "You're welcome! Have a nice day."),
     ("What is the capital of Italy?", "The capital of Italy is Rome."),
     ("How many days are in a week?", "A week has seven days."),
     ("Who wrote Romeo and Juliet?", "William Shakespeare wrote Romeo and Juliet."),
     ("What color is the sky on a clear day?", "On a clear day the sky is blue."),
     ("What is 2 plus 2?", "2 plus 2 is 4."),
     ("Can you tell me a fun fact?", "Honey keeps for a very long time without spoiling."),
     ("What do bees make?", "Bees make honey and wax."),
     ("How are you?", "I'm doing well, thanks for asking. What can I do for you?"),
     ("What is the boiling point of water in Celsius?", "Water boils at 100 degrees Celsius."),
     ("Name a primary color.", "Red is a primary color."),
     ("What language is spoken in Brazil?", "Portuguese is the main language of Brazil."),
     ("How many legs does a spider have?", "A spider has eight legs.")],
    [("Good evening!", "Good evening! What can I help you with?"),
     ("What is the largest planet?", "Jupiter is the largest planet in the solar system."),
     ("Who painted the Mona Lisa?", "Leonardo da Vinci painted the Mona Lisa."),
     ("How many minutes are in an hour?", "An hour has 60 minutes.")],
)  # fmt: skip
CANNOT = [
    "I can't {capability} with the tools I have here.",
    "Sorry, none of my tools can {capability}.",
    "I'm not able to {capability} right now; my tools don't cover that.",
]


# -- records --------------------------------------------------------------------------------


def render_reply(calls: list[dict[str, Any]]) -> str:
    """The completion for ``calls``: one call object, or a JSON list of several."""
    if len(calls) == 1:
        return render_tool_call(calls[0])
    return "[" + ", ".join(render_tool_call(c) for c in calls) + "]"


def render_text(text: str) -> str:
    """The completion for a text answer, as the grammar writes it."""
    return json.dumps({"response": text}, ensure_ascii=False)


def phrase(rng: random.Random, tool: Tool, sample: Sample, heldout_share: float) -> str:
    """A request for ``sample`` in one of ``tool``'s phrasings."""
    seen, heldout = tool.phrasings
    options = heldout if heldout and rng.random() < heldout_share else seen
    text = rng.choice(options).format(**sample.slots)
    return text.lower() if rng.random() < 0.1 else text


def new_id(rng: random.Random) -> str:
    """A call id shaped like the ones ChatLocal makes."""
    return f"call_{rng.getrandbits(96):024x}"


_STOP = {"the", "and", "from", "with", "into", "that", "this", "given", "list", "number", "value"}


def _words(tool: Tool) -> set[str]:
    text = f"{tool.name.replace('_', ' ')} {tool.description}".lower()
    return {w.strip(".,'()") for w in text.split() if len(w) > 3} - _STOP


def related(tool: Tool, pool: list[Tool]) -> list[Tool]:
    """Tools of ``pool`` that share a content word with ``tool``'s name or description (a
    request for ``tool`` looks servable by them, and is not: the model must still answer)."""
    mine = _words(tool)
    return [other for other in pool if mine & _words(other)]


def offered(rng: random.Random, needed: list[Tool], pool: list[Tool], extra: int) -> list[Tool]:
    """``needed`` plus ``extra`` other tools from ``pool``, shuffled."""
    others = [t for t in pool if t not in needed]
    tools = needed + rng.sample(others, min(extra, len(others)))
    rng.shuffle(tools)
    return tools


def make_record(
    rng: random.Random, kind: str, pool: list[Tool], slots: int, heldout_share: float
) -> dict[str, Any]:
    """One record of ``kind`` using tools from ``pool`` and slot values from half ``slots``."""
    history: list[Any] = []
    if kind == "no_call":
        if rng.random() < 0.5:
            question, answer = rng.choice(CHAT[slots])
            tools = offered(rng, [], pool, rng.randint(1, 4))
        else:  # a request for a tool that is not offered, often beside a related one
            missing = rng.choice(pool)
            question = phrase(rng, missing, missing.sample(rng, slots), heldout_share)
            others = [t for t in pool if t is not missing]
            near = related(missing, others)
            if near and rng.random() < 0.7:  # a near miss: same words, another job
                tools = offered(rng, rng.sample(near, min(len(near), rng.randint(1, 2))),
                                others, rng.randint(0, 2))  # fmt: skip
            else:
                tools = offered(rng, [], others, rng.randint(1, 3))
            answer = rng.choice(CANNOT).format(capability=missing.capability)
        history.append(HumanMessage(question))
        completion = render_text(answer)
    elif kind == "parallel":
        count = rng.choice([2, 2, 3])
        chosen = [rng.choice(pool) for _ in range(count)]
        samples = [tool.sample(rng, slots) for tool in chosen]
        parts = [phrase(rng, t, s, heldout_share) for t, s in zip(chosen, samples, strict=True)]
        joiners = [" Also, ", " And ", " Then: "]
        request = parts[0] + "".join(rng.choice(joiners) + part for part in parts[1:])
        tools = offered(rng, list(dict.fromkeys(chosen)), pool, rng.randint(0, 2))
        history.append(HumanMessage(request))
        calls = [
            {"name": t.name, "args": ordered(t.properties, **s.args)}
            for t, s in zip(chosen, samples, strict=True)
        ]
        completion = render_reply(calls)
    else:
        tool = rng.choice(pool)
        sample = tool.sample(rng, slots)
        extra = 0 if kind == "single" else rng.randint(2, 5)
        tools = offered(rng, [tool], pool, extra)
        history.append(HumanMessage(phrase(rng, tool, sample, heldout_share)))
        call = {"name": tool.name, "args": ordered(tool.properties, **sample.args), "id": ""}
        if kind == "answer":
            call["id"] = new_id(rng)
            history.append(AIMessage("", tool_calls=[call]))
            result = json.dumps(sample.result, ensure_ascii=False)
            history.append(ToolMessage(result, tool_call_id=call["id"], name=tool.name))
            completion = render_text(sample.answer)
        else:
            completion = render_reply([call])
    schemas = [t.schema() for t in tools]
    system = tools_system_prompt(schemas, "auto", parallel_tool_calls=True)
    if rng.random() < 0.3:  # a caller's own system message comes first, as ChatLocal merges it
        system = rng.choice(USER_SYSTEMS) + "\n\n" + system
    messages = render_tool_messages([SystemMessage(system), *history])
    messages.append({"role": "assistant", "content": completion})
    return {"messages": messages, "kind": kind, "tools": schemas}


def make_split(
    rng: random.Random, n: int, pool: list[Tool], slots: int, heldout_share: float
) -> list[dict[str, Any]]:
    """``n`` records with kinds in the ``KINDS`` proportions, no duplicate prompts."""
    records, seen = [], set()
    targets = {kind: round(n * share) for kind, share in KINDS.items()}
    targets[max(KINDS, key=KINDS.__getitem__)] += n - sum(targets.values())  # rounding
    for kind, target in targets.items():
        made = tries = 0
        while made < target and tries < 50 * n:
            tries += 1
            record = make_record(rng, kind, pool, slots, heldout_share)
            key = json.dumps(record["messages"][1:])
            if key in seen:
                continue
            seen.add(key)
            records.append(record)
            made += 1
    rng.shuffle(records)
    return records


def main(argv: list[str] | None = None) -> None:
    """Write the three splits."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--train", type=int, default=N_TRAIN)
    parser.add_argument("--val", type=int, default=N_VAL)
    parser.add_argument("--test", type=int, default=N_TEST)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    splits = {
        "train": make_split(rng, args.train, TRAINING_TOOLS, slots=0, heldout_share=0.0),
        "val": make_split(rng, args.val, TRAINING_TOOLS, slots=1, heldout_share=0.0),
        "test": make_split(
            rng, args.test, TRAINING_TOOLS + ALL_HELD_OUT, slots=1, heldout_share=0.5
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, records in splits.items():
        path = args.out / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"{path}: {len(records)} records")  # noqa: T201


if __name__ == "__main__":
    main()
