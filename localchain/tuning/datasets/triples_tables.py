"""Tables for the triple-extraction generator: entities by type and relation phrasings.

Entities are invented (so the model cannot lean on world knowledge) and split into training
and test pools. A :class:`Phrasing` is a predicate about a subject of some type: its text (with
``{o}`` for the object and optional ``{year}``), the relation phrase a reader takes from it (the
verb phrase without auxiliaries and articles: "was born in" gives "born in"), the fact sentence
that states it with full names, and, where English allows, an apposition form. Relations are
copied from the wording, as in the project's gold set (``born_in``, ``directed_by``...).
"""

# ruff: noqa: E501 - tables of phrasings and one-line programs read best unwrapped

from __future__ import annotations

from dataclasses import dataclass

ENTITIES: dict[str, tuple[list[str], list[str]]] = {
    "person_f": (
        ["Elena Marsh", "Ada Whitlock", "Nora Castell", "Ines Varga", "Maya Lindqvist",
         "Clara Odum", "Julia Ferreira", "Lena Hartmann", "Sofia Brandt", "Amara Okafor",
         "Helen Kowal", "Rita Sandoval", "Vera Holm", "Iris Calloway", "Tessa Moreau"],
        ["Greta Solberg", "Paloma Reyes", "Wanda Kiel", "Odile Faure", "Zainab Mensah",
         "Petra Novak"],
    ),
    "person_m": (
        ["Tomas Berg", "Victor Hale", "Oscar Lindgren", "Marco Bellini", "Daniel Okoro",
         "Henrik Vos", "Samuel Achebe", "Felix Arden", "Jonas Weller", "Rafael Duarte",
         "Leo Castaneda", "Arthur Penrose", "Niko Salo", "Ivan Petrov", "Caleb Stroud"],
        ["Anders Moe", "Bruno Caldera", "Kofi Asante", "Lars Eklund", "Dario Fonte",
         "Emil Raske"],
    ),
    "city": (
        ["Lyon", "Porto", "Graz", "Tampere", "Leeds", "Bergen", "Utrecht", "Ghent", "Bilbao",
         "Krakow", "Aarhus", "Turin", "Seville", "Cork", "Basel", "Malmo", "Brno", "Split"],
        ["Trondheim", "Nantes", "Gdansk", "Salzburg", "Coimbra", "Bologna"],
    ),
    "country": (
        ["France", "Portugal", "Austria", "Finland", "Norway", "Belgium", "Spain", "Poland",
         "Denmark", "Italy", "Ireland", "Sweden", "Czechia", "Croatia"],
        ["Estonia", "Slovenia", "Latvia", "Iceland"],
    ),
    "company": (
        ["Northwind Labs", "Bluepeak Foods", "Corvid Systems", "Harbor Robotics",
         "Silverline Motors", "Tandem Health", "Quarry Software", "Lumen Textiles",
         "Ferro Dynamics", "Kestrel Airways", "Marigold Media", "Orbis Pharma"],
        ["Zenith Looms", "Copperfield Analytics", "Driftwood Games", "Halcyon Batteries"],
    ),
    "university": (
        ["Westbridge University", "the University of Arlen", "Carrow Institute of Technology",
         "Hollis College", "Easton University", "the Royal Academy of Tarn"],
        ["Brightwater University", "the Delmont Institute"],
    ),
    "team": (
        ["Riverside Rovers", "Northgate United", "Ashford Athletic", "Valley Falcons",
         "Harbour City FC"],
        ["Stonebridge Wanderers", "Lakeshore Comets"],
    ),
    "film": (
        ["The Silent Harbor", "Paper Moons", "Glass Orchard", "The Last Lighthouse",
         "Winter Circuit", "Salt and Ember", "The Quiet Engine", "Red Meridian"],
        ["Hollow Crown Road", "The Amber Signal", "Night Ferry"],
    ),
    "book": (
        ["The Cartographer's Daughter", "Iron Tides", "A Season of Wolves", "The Copper Key",
         "Letters from Ostend", "The Garden Ledger"],
        ["The Ninth Lantern", "Saltwind"],
    ),
    "award": (
        ["Golden Quill Award", "Meridian Prize", "Aster Medal", "Harlow Prize for Fiction",
         "Silver Reel Award"],
        ["Lodestar Prize", "Corona Medal"],
    ),
    "event": (
        ["Harvest Jazz Festival", "Northern Lights Marathon", "Summer Robotics Fair",
         "Coastal Film Week", "Winter Book Fair"],
        ["Open Waters Regatta", "Spring Lantern Parade"],
    ),
    "river": (["Ember River", "Vell River", "Corran River"], ["Silt River", "Aldra River"]),
}  # fmt: skip
"""Entity pools by type: (training names, test names)."""

PRONOUNS = {"person_f": "She", "person_m": "He"}
"""Subject pronouns; every other type is "It"."""

PERSON = ("person_f", "person_m")


@dataclass(frozen=True)
class Phrasing:
    """One way to state one relation about a subject."""

    id: str
    subject: tuple[str, ...]
    """Entity types the subject may have."""
    object: str
    """Entity type of the object ("year" for a year)."""
    text: str
    """The predicate: ``"was born in {o}"``; may use ``{year}`` for an extra, unextracted year."""
    relation: str
    """The relation phrase read from the text, e.g. "born in"."""
    fact: str
    """The fact sentence with full names: ``"{s} was born in {o}."``."""
    appositive: str | None = None
    """A form for ``"<subject>, <appositive>, <predicate>"``: ``"born in {o}"``."""
    multi: bool = False
    """Several objects may be coordinated (``"stars {o} and {o2}"``)."""
    held_out: bool = False
    """Used only in the test set."""


def _p(id_: str, subject: tuple[str, ...] | str, obj: str, text: str, relation: str, fact: str,
       **kw: object) -> Phrasing:  # fmt: skip
    subjects = (subject,) if isinstance(subject, str) else subject
    return Phrasing(id_, subjects, obj, text, relation, fact, **kw)  # type: ignore[arg-type]


PHRASINGS: tuple[Phrasing, ...] = (
    # people
    _p("born_in", PERSON, "city", "was born in {o}", "born in", "{s} was born in {o}.", appositive="born in {o}"),
    _p("born_in_year", PERSON, "city", "was born in {o} in {year}", "born in", "{s} was born in {o}."),
    _p("native_of", PERSON, "city", "is a native of {o}", "native of", "{s} is a native of {o}.", appositive="a native of {o}", held_out=True),
    _p("lives_in", PERSON, "city", "lives in {o}", "lives in", "{s} lives in {o}."),
    _p("moved_to", PERSON, "city", "moved to {o} in {year}", "moved to", "{s} moved to {o}."),
    _p("settled_in", PERSON, "city", "settled in {o}", "settled in", "{s} settled in {o}.", held_out=True),
    _p("works_for", PERSON, "company", "works for {o}", "works for", "{s} works for {o}."),
    _p("works_at", PERSON, "company", "works at {o}", "works at", "{s} works at {o}."),
    _p("employed_by", PERSON, "company", "is employed by {o}", "employed by", "{s} is employed by {o}.", held_out=True),
    _p("studied_at", PERSON, "university", "studied at {o}", "studied at", "{s} studied at {o}."),
    _p("graduated_from", PERSON, "university", "graduated from {o} in {year}", "graduated from", "{s} graduated from {o}."),
    _p("attended", PERSON, "university", "attended {o}", "attended", "{s} attended {o}.", held_out=True),
    _p("married", PERSON, "person", "married {o} in {year}", "married", "{s} married {o}."),
    _p("married_to", PERSON, "person", "is married to {o}", "married to", "{s} is married to {o}.", held_out=True),
    _p("founded", PERSON, "company", "founded {o}", "founded", "{s} founded {o}."),
    _p("co_founded", PERSON, "company", "co-founded {o} in {year}", "co-founded", "{s} co-founded {o}.", held_out=True),
    _p("chief_executive_of", PERSON, "company", "is the chief executive of {o}", "chief executive of", "{s} is the chief executive of {o}.", appositive="the chief executive of {o}"),
    _p("leads", PERSON, "company", "leads {o}", "leads", "{s} leads {o}."),
    _p("runs", PERSON, "company", "runs {o}", "runs", "{s} runs {o}.", held_out=True),
    _p("wrote", PERSON, "book", "wrote {o}", "wrote", "{s} wrote {o}.", multi=True),
    _p("author_of", PERSON, "book", "is the author of {o}", "author of", "{s} is the author of {o}.", appositive="the author of {o}", held_out=True),
    _p("directed", PERSON, "film", "directed {o}", "directed", "{s} directed {o}.", multi=True),
    _p("won", PERSON, "award", "won the {o} in {year}", "won", "{s} won the {o}."),
    _p("won_plain", PERSON, "award", "won the {o}", "won", "{s} won the {o}."),
    _p("received", PERSON, "award", "received the {o}", "received", "{s} received the {o}.", held_out=True),
    _p("plays_for", PERSON, "team", "plays for {o}", "plays for", "{s} plays for {o}."),
    _p("joined", PERSON, "team", "joined {o} in {year}", "joined", "{s} joined {o}."),
    _p("signed_with", PERSON, "team", "signed with {o}", "signed with", "{s} signed with {o}.", held_out=True),
    # companies
    _p("based_in", "company", "city", "is based in {o}", "based in", "{s} is based in {o}.", appositive="based in {o}"),
    _p("headquartered_in", "company", "city", "is headquartered in {o}", "headquartered in", "{s} is headquartered in {o}.", appositive="headquartered in {o}"),
    _p("located_in_co", "company", "city", "has its head office in {o}", "head office in", "{s} has its head office in {o}.", held_out=True),
    _p("bought", "company", "company", "bought {o}", "bought", "{s} bought {o}."),
    _p("acquired", "company", "company", "acquired {o} in {year}", "acquired", "{s} acquired {o}."),
    _p("took_over", "company", "company", "took over {o}", "took over", "{s} took over {o}.", held_out=True),
    _p("founded_in", ("company", "team", "university"), "year", "was founded in {o}", "founded in", "{s} was founded in {o}."),
    _p("sponsors", "company", "event", "sponsors the {o}", "sponsors", "{s} sponsors the {o}."),
    _p("supplies", "company", "company", "supplies {o}", "supplies", "{s} supplies {o}.", held_out=True),
    # teams, universities
    _p("plays_in", "team", "city", "plays its home games in {o}", "plays home games in", "{s} plays home games in {o}."),
    _p("univ_located_in", "university", "city", "is located in {o}", "located in", "{s} is located in {o}.", appositive="located in {o}"),
    # works
    _p("directed_by", "film", "person", "was directed by {o}", "directed by", "{s} was directed by {o}.", appositive="directed by {o}"),
    _p("stars", "film", "person", "stars {o}", "stars", "{s} stars {o}.", multi=True),
    _p("released_in", "film", "year", "was released in {o}", "released in", "{s} was released in {o}."),
    _p("premiered_in", "film", "year", "premiered in {o}", "premiered in", "{s} premiered in {o}.", held_out=True),
    _p("features", "film", "person", "features {o}", "features", "{s} features {o}.", multi=True, held_out=True),
    _p("written_by", "book", "person", "was written by {o}", "written by", "{s} was written by {o}.", appositive="written by {o}"),
    _p("published_in", "book", "year", "was published in {o}", "published in", "{s} was published in {o}."),
    _p("set_in", ("book", "film"), "city", "is set in {o}", "set in", "{s} is set in {o}."),
    _p("takes_place_in", ("book", "film"), "city", "takes place in {o}", "takes place in", "{s} takes place in {o}.", held_out=True),
    # places
    _p("capital_of", "city", "country", "is the capital of {o}", "capital of", "{s} is the capital of {o}.", appositive="the capital of {o}"),
    _p("city_in", "city", "country", "is a city in {o}", "city in", "{s} is a city in {o}."),
    _p("lies_in", "city", "country", "lies in {o}", "lies in", "{s} lies in {o}.", held_out=True),
    _p("flows_through", "river", "city", "flows through {o}", "flows through", "{s} flows through {o}.", multi=True),
    _p("runs_through", "river", "city", "runs through {o}", "runs through", "{s} runs through {o}.", multi=True, held_out=True),
    # events
    _p("held_in", "event", "city", "is held in {o} every year", "held in", "{s} is held in {o}."),
    _p("organised_by", "event", "company", "is organised by {o}", "organised by", "{s} is organised by {o}.", appositive="organised by {o}"),
    _p("hosted_by", "event", "company", "is hosted by {o}", "hosted by", "{s} is hosted by {o}.", held_out=True),
)  # fmt: skip
"""Every relation phrasing, training and held-out."""

DISTRACTORS: tuple[list[str], list[str]] = (
    ["Many people still talk about it.", "The news spread quickly.", "It was a cold winter.",
     "Nobody expected that.", "Critics were divided at first.", "The weather was mild that year.",
     "Few details are known.", "It rained for most of the week."],
    ["Reactions were mixed.", "Nobody remembers the exact day.", "The streets were quiet."],
)  # fmt: skip
"""Sentences that state no extractable fact: (training, test)."""

__all__ = ["DISTRACTORS", "ENTITIES", "PERSON", "PHRASINGS", "PRONOUNS", "Phrasing"]
