"""Fill a database with Pagila-shaped data at any scale, fast, on SQLite, PostgreSQL and MySQL/MariaDB.

    generate_pagila("postgresql+psycopg2://postgres@127.0.0.1/mydb", scale=10, seed=0)
    datakits generate pagila --scale 10 --target URL|NAME [--seed N] [--keep]

Scale 1 gives the real Pagila's row counts (16,044 rentals); scale S gives about S times as many
of every table but ``language`` (6) and ``category`` (16), and at least one row of each. The rows
are plain dicts made with a seeded ``random.Random`` (the same seed gives the same rows on every
engine), inserted with SQLAlchemy Core ``insert()`` in chunks (executemany), in foreign-key order,
in one transaction: all or nothing. No factory_boy here, so no per-row ORM cost (see
``factories.py`` for objects in tests).

What holds, as in Pagila: every foreign key points at a row that exists; ``rental`` (rental_date,
inventory_id, customer_id) is unique; ``store.manager_staff_id`` is a staff id, unique per store;
``payment`` rows carry their rental's customer and staff, one payment per rental plus a few
second payments; rentals are made by a staff member of the inventory's store (where that store
has staff); ids of ``store`` and ``staff`` start at 0, the others at 1; payment dates fall in
2022-01..2022-07 (the real partitions) and rental dates in 2022-02 (unreturned, about 1%) and
2022-05-24..2022-08-23. Texts are made up from syllables and word lists; ``film.fulltext`` is a
tsvector literal of the title's words.

The target's ``pagila_source`` tables are deployed first when missing; they must be empty
(``generate`` does not add to existing data). On PostgreSQL the id sequences are moved past the
generated ids afterwards, so factories and plain inserts can follow.
"""

from __future__ import annotations

import csv
import io
import random
import string
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Integer, Table, exists, insert, select, text
from sqlalchemy.engine import Connection

from framework.errors import DatakitError
from framework.kits.deploy import Target, connected, deploy_data_objects
from framework.loading.generators import MAX_SCALE

from .models import (
    Actor,
    Address,
    Category,
    City,
    Country,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    Inventory,
    Language,
    Payment,
    Rental,
    Staff,
    Store,
)

__all__ = ["CHUNK", "REAL_COUNTS", "TABLES", "generate_pagila", "pagila_rows", "row_counts"]

#: The source tables in foreign-key order (parents first).
TABLES: list[Table] = [
    cls.__table__  # type: ignore[union-attr]
    for cls in (
        Language,
        Category,
        Country,
        City,
        Address,
        Actor,
        Film,
        FilmActor,
        FilmCategory,
        Store,
        Staff,
        Customer,
        Inventory,
        Rental,
        Payment,
    )
]

#: Row counts of the real Pagila (scale 1).
REAL_COUNTS: dict[str, int] = {
    "language": 6,
    "category": 16,
    "country": 109,
    "city": 600,
    "address": 603,
    "actor": 200,
    "film": 1000,
    "film_actor": 5462,
    "film_category": 2367,
    "store": 500,
    "staff": 1500,
    "customer": 599,
    "inventory": 4581,
    "rental": 16044,
    "payment": 16049,
}

#: Rows per INSERT executemany call.
CHUNK = 5000

_FIXED = ("language", "category")


def _words(text: str) -> list[str]:
    return text.split()


LANGUAGES = ["English", "Italian", "Japanese", "Mandarin", "French", "German"]
CATEGORIES = [
    "Action",
    "Animation",
    "Children",
    "Classics",
    "Comedy",
    "Documentary",
    "Drama",
    "Family",
    "Foreign",
    "Games",
    "Horror",
    "Music",
    "New",
    "Sci-Fi",
    "Sports",
    "Travel",
]
FIRST_NAMES = _words(
    "MARY PATRICIA LINDA BARBARA ELIZABETH JENNIFER MARIA SUSAN MARGARET DOROTHY LISA NANCY KAREN BETTY HELEN "
    "SANDRA DONNA CAROL RUTH SHARON JAMES JOHN ROBERT MICHAEL WILLIAM DAVID RICHARD CHARLES JOSEPH THOMAS "
    "CHRISTOPHER DANIEL PAUL MARK DONALD GEORGE KENNETH STEVEN EDWARD BRIAN PENELOPE NICK ED JENNIFER JOHNNY"
)
LAST_NAMES = _words(
    "SMITH JOHNSON WILLIAMS JONES BROWN DAVIS MILLER WILSON MOORE TAYLOR ANDERSON THOMAS JACKSON WHITE HARRIS "
    "MARTIN THOMPSON GARCIA MARTINEZ ROBINSON CLARK RODRIGUEZ LEWIS LEE WALKER HALL ALLEN YOUNG HERNANDEZ KING "
    "GUINESS WAHLBERG CHASE DAVIS LOLLOBRIGIDA NICHOLSON MOSTEL JOHANSSON SWANK GALLAGHER BERRY WOOD BERGEN"
)
TITLE_WORDS = _words(
    "academy ace adaptation affair african agent airplane airport alabama aladdin alamo alaska ali alice alien "
    "alley alone amadeus amelie american amistad anaconda angels annie anthem antitrust anything apache apocalypse "
    "arabia arachnophobia argonauts arizona armageddon army arsenic artist attacks attraction baby backlash badman "
    "bang banger basic beach bear beast beauty bed behavior bells berets betrayed beverly bikini bill birch bird "
    "blade blanket blindness blood blues boiled bonnie boogie bound bowfinger brannigan braveheart breakfast bride "
    "bright brotherhood bubble bucket bugsy bull bunch butch cabin cadillac calendar camelot campus candles canyon "
    "caper cape carol casablanca casper cassidy castle cat center chamber champion chaplin chariots chasing cheaper"
)
DESCRIPTION_WORDS = _words(
    "epic drama feminist mad scientist teacher canadian rockies astounding epistle database administrator "
    "explorer car ancient china awe-inspiring reflection cat boat gulf mexico fanciful documentary crocodile "
    "pioneer monkey shark dentist moose lumberjack robot squirrel composer technical writer hunter boy girl"
)
FEATURES = ["Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"]
RATINGS = ["G", "PG", "PG-13", "R", "NC-17"]
SYLLABLES = _words("ka ri to na me lo sa vi du ra mo ne li ta po ze bu fi ga lu")
#: Payment amounts and how often the real Pagila has each.
AMOUNTS = [Decimal(a) for a in _words("4.99 2.99 0.99 5.99 6.99 3.99 7.99 1.99 8.99 9.99 10.99 0.00 11.99")]
AMOUNT_WEIGHTS = [3789, 3542, 2979, 1299, 1119, 1109, 670, 640, 485, 256, 104, 24, 10]
RENTAL_RATES = [Decimal("0.99"), Decimal("2.99"), Decimal("4.99")]
PASSWORD = "8cb2237d0679ca88db6464eac60da96345513964"  # Pagila's staff password hash

LAST_UPDATE = datetime(2022, 2, 15, 9, 34, 33, tzinfo=UTC)
CREATE_DATE = date(2022, 2, 14)
RENTAL_START = datetime(2022, 5, 24, tzinfo=UTC)
RENTAL_SECONDS = 92 * 86400
UNRETURNED_START = datetime(2022, 2, 14, tzinfo=UTC)
UNRETURNED_SHARE = 182 / 16044
PAYMENT_START = datetime(2022, 1, 1, tzinfo=UTC)
PAYMENT_SECONDS = (datetime(2022, 8, 1, tzinfo=UTC) - PAYMENT_START).total_seconds()

Rows = Iterator[dict[str, Any]]


def row_counts(scale: float) -> dict[str, int]:
    """Rows per table at ``scale``: the real counts times ``scale``, rounded, at least 1."""
    if not (0 < scale <= MAX_SCALE):
        raise DatakitError(f"scale must be a number above 0 and at most {MAX_SCALE:g}, not {scale!r}")
    counts = {name: real if name in _FIXED else max(1, round(real * scale)) for name, real in REAL_COUNTS.items()}
    counts["staff"] = max(counts["staff"], counts["store"])  # every store has a manager of its own
    counts["film_actor"] = min(counts["film_actor"], counts["actor"] * counts["film"])
    counts["film_category"] = min(counts["film_category"], counts["film"] * counts["category"])
    return counts


class _Pagila:
    """The rows of one generation: each table's rows from one seeded stream, parents first."""

    def __init__(self, counts: dict[str, int], seed: int) -> None:
        self.n = counts
        self.rng = random.Random(seed)
        self.staff_by_store: dict[int, list[int]] = {}
        self.rental_customer: list[int] = []
        self.rental_staff: list[int] = []

    # --- helpers -------------------------------------------------------------------------------

    def word(self) -> str:
        rng = self.rng
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()

    def phone(self) -> str:
        return "".join(self.rng.choices(string.digits, k=12))

    def pick(self, table: str, first: int = 1) -> int:
        return self.rng.randrange(first, first + self.n[table])

    def pairs(self, left: str, right: str, table: str) -> Iterator[tuple[int, int]]:
        """``n[table]`` distinct (left id, right id) pairs, sorted."""
        width = self.n[right]
        chosen = sorted(self.rng.sample(range(self.n[left] * width), self.n[table]))
        return ((k // width + 1, k % width + 1) for k in chosen)

    # --- tables, in foreign-key order ------------------------------------------------------------

    def language(self) -> Rows:
        for i, name in enumerate(LANGUAGES, 1):
            yield {"language_id": i, "name": name, "last_update": LAST_UPDATE}

    def category(self) -> Rows:
        for i, name in enumerate(CATEGORIES, 1):
            yield {"category_id": i, "name": name, "last_update": LAST_UPDATE}

    def country(self) -> Rows:
        for i in range(1, self.n["country"] + 1):
            yield {"country_id": i, "country": self.word(), "last_update": LAST_UPDATE}

    def city(self) -> Rows:
        for i in range(1, self.n["city"] + 1):
            yield {"city_id": i, "city": self.word(), "country_id": self.pick("country"), "last_update": LAST_UPDATE}

    def address(self) -> Rows:
        rng = self.rng
        for i in range(1, self.n["address"] + 1):
            yield {
                "address_id": i,
                "address": f"{rng.randint(1, 1999)} {self.word()} {rng.choice(['Street', 'Avenue', 'Drive', 'Way'])}",
                "address2": None,
                "district": self.word(),
                "city_id": self.pick("city"),
                "postal_code": f"{rng.randint(0, 99999):05d}",
                "phone": self.phone(),
                "last_update": LAST_UPDATE,
            }

    def actor(self) -> Rows:
        rng = self.rng
        for i in range(1, self.n["actor"] + 1):
            yield {
                "actor_id": i,
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "last_update": LAST_UPDATE,
            }

    def film(self) -> Rows:
        rng = self.rng
        for i in range(1, self.n["film"] + 1):
            words = rng.sample(TITLE_WORDS, 2)
            described = rng.sample(DESCRIPTION_WORDS, 4)
            yield {
                "film_id": i,
                "title": " ".join(words).upper(),
                "description": f"A {described[0].capitalize()} {described[1]} of a {described[2]} who must "
                f"meet a {described[3]}",
                "release_year": rng.randint(2000, 2024),
                "language_id": rng.randint(1, self.n["language"]),
                "original_language_id": None,
                "rental_duration": rng.randint(3, 7),
                "rental_rate": rng.choice(RENTAL_RATES),
                "length": rng.randint(46, 185),
                "replacement_cost": Decimal(rng.randint(9, 29)) + Decimal("0.99"),
                "rating": rng.choice(RATINGS),
                "last_update": LAST_UPDATE,
                "special_features": rng.sample(FEATURES, rng.randint(1, 3)),
                "fulltext": " ".join(f"'{w}':{k}" for k, w in enumerate(words, 1)),
            }

    def film_actor(self) -> Rows:
        for actor_id, film_id in self.pairs("actor", "film", "film_actor"):
            yield {"actor_id": actor_id, "film_id": film_id, "last_update": LAST_UPDATE}

    def film_category(self) -> Rows:
        for film_id, category_id in self.pairs("film", "category", "film_category"):
            yield {"film_id": film_id, "category_id": category_id, "last_update": LAST_UPDATE}

    def store(self) -> Rows:
        for i in range(self.n["store"]):  # store i is managed by staff i
            yield {"store_id": i, "manager_staff_id": i, "address_id": self.pick("address"), "last_update": LAST_UPDATE}

    def staff(self) -> Rows:
        rng = self.rng
        for i in range(self.n["staff"]):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            store_id = self.pick("store", first=0)
            self.staff_by_store.setdefault(store_id, []).append(i)
            yield {
                "staff_id": i,
                "first_name": first.capitalize(),
                "last_name": last.capitalize(),
                "address_id": self.pick("address"),
                "email": f"{first}.{last}{i}@sakilastaff.com".lower(),
                "store_id": store_id,
                "active": True,
                "username": f"{first}.{last}{i}".lower(),
                "password": PASSWORD,
                "last_update": LAST_UPDATE,
                "picture": None,
            }

    def customer(self) -> Rows:
        rng = self.rng
        for i in range(1, self.n["customer"] + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            active = 0 if rng.random() < 0.025 else 1
            yield {
                "customer_id": i,
                "store_id": self.pick("store", first=0),
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}{i}@sakilacustomer.org",
                "address_id": self.pick("address"),
                "activebool": True,
                "create_date": CREATE_DATE,
                "last_update": LAST_UPDATE,
                "active": active,
            }

    def inventory(self) -> Rows:
        self.inventory_store: list[int] = []
        for i in range(1, self.n["inventory"] + 1):
            store_id = self.pick("store", first=0)
            self.inventory_store.append(store_id)
            yield {"inventory_id": i, "film_id": self.pick("film"), "store_id": store_id, "last_update": LAST_UPDATE}

    def rental(self) -> Rows:
        rng, count = self.rng, self.n["rental"]
        unreturned = sorted(rng.randrange(86400) for _ in range(round(count * UNRETURNED_SHARE)))
        returned = sorted(rng.randrange(RENTAL_SECONDS) for _ in range(count - len(unreturned)))
        starts = [(UNRETURNED_START, s, False) for s in unreturned] + [(RENTAL_START, s, True) for s in returned]
        seen: set[tuple[int, int, int]] = set()
        for i, (base, second, comes_back) in enumerate(starts, 1):
            inventory_id = self.pick("inventory")
            customer_id = self.pick("customer")
            while (second, inventory_id, customer_id) in seen:  # the unique index; next second instead
                second += 1
            seen.add((second, inventory_id, customer_id))
            crew = self.staff_by_store.get(self.inventory_store[inventory_id - 1])
            staff_id = rng.choice(crew) if crew else self.pick("staff", first=0)
            rented = base + timedelta(seconds=second)
            self.rental_customer.append(customer_id)
            self.rental_staff.append(staff_id)
            yield {
                "rental_id": i,
                "rental_date": rented,
                "inventory_id": inventory_id,
                "customer_id": customer_id,
                "return_date": rented + timedelta(seconds=rng.randrange(86400, 10 * 86400)) if comes_back else None,
                "staff_id": staff_id,
                "last_update": LAST_UPDATE,
            }

    def payment(self) -> Rows:
        rng, rentals = self.rng, self.n["rental"]
        for i in range(1, self.n["payment"] + 1):
            rental_index = i - 1 if i <= rentals else rng.randrange(rentals)  # one each, then a few seconds
            yield {
                "payment_id": i,
                "customer_id": self.rental_customer[rental_index],
                "staff_id": self.rental_staff[rental_index],
                "rental_id": rental_index + 1,
                "amount": rng.choices(AMOUNTS, weights=AMOUNT_WEIGHTS)[0],
                "payment_date": PAYMENT_START + timedelta(microseconds=rng.randrange(int(PAYMENT_SECONDS * 1e6))),
            }


def pagila_rows(scale: float = 1.0, seed: int = 0) -> Iterator[tuple[Table, Rows]]:
    """Each table with its rows (a lazy stream), parents first: what :func:`generate_pagila` inserts.

    Consume each table's rows before asking for the next table: children draw on their parents.
    """
    data = _Pagila(row_counts(scale), seed)
    return ((table, getattr(data, table.name)()) for table in TABLES)


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _copy_value(value: Any) -> Any:
    """A value as PostgreSQL's COPY (CSV, NULL ``\\N``) reads it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):  # text[]
        return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value) + "}"
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL with psycopg2: COPY the rows in (about 5 times as fast as INSERT), in the same transaction."""
    quote = conn.dialect.identifier_preparer.quote
    columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([_copy_value(row[c]) for c in columns] for row in rows)
    buffer.seek(0)
    name = quote(table.name) if not table.schema else f"{quote(table.schema)}.{quote(table.name)}"
    statement = f"COPY {name} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(statement, buffer)
    finally:
        cursor.close()


def _check_empty(conn: Connection, label: str) -> None:
    full = [t.name for t in TABLES if conn.execute(select(exists().select_from(t))).scalar()]
    if full:
        raise DatakitError(
            f"{label}: pagila_source tables already hold rows ({', '.join(full)}); generate fills empty "
            "tables: use a fresh database, or drop them first (datakits deploy pagila_source --cleanup)"
        )


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move each serial key's sequence past the generated ids."""
    for table in TABLES:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer) or key[0].autoincrement is False:
            continue
        name, column = table.name, key[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({column}), 0) + 1, false) "
                f"FROM {name}"
            ),
            {"table": name, "column": column},
        )


def generate_pagila(
    target: Target,
    scale: float = 1.0,
    seed: int = 0,
    *,
    chunk: int = CHUNK,
    copy: bool | None = None,
    progress: Callable[[str, int, float], None] | None = None,
) -> dict[str, int]:
    """Fill ``target``'s (empty) pagila_source tables with about ``scale`` times Pagila; return rows per table.

    ``target``: any target (``framework.targets.resolve``): a :class:`framework.Database`, an ``Engine``, a URL, a name.
    ``copy``: load with COPY instead of INSERT; by default where it can (PostgreSQL through psycopg2).
    ``progress(table, rows, seconds)`` is called after each table.
    """
    streams = pagila_rows(scale, seed)  # refuses a bad scale before anything is touched
    written: dict[str, int] = {}
    with connected(target, TABLES) as (engine, label):
        deploy_data_objects(TABLES, engine)  # raises DeployError when the database refuses
        with engine.begin() as conn:
            _check_empty(conn, label)
            mode = None
            if conn.dialect.name == "mysql":  # store and staff ids start at 0, which MySQL would renumber
                mode = conn.execute(text("SELECT @@SESSION.sql_mode")).scalar()
                conn.execute(text("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"))
            can_copy = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"
            if copy and not can_copy:
                raise DatakitError(f"{label}: COPY needs PostgreSQL through psycopg2; leave copy=None")
            use_copy = can_copy if copy is None else copy
            try:
                for table, rows in streams:
                    started = time.perf_counter()
                    written[table.name] = 0
                    for part in _chunks(rows, chunk * 10 if use_copy else chunk):
                        if use_copy:
                            _copy(conn, table, part)
                        else:
                            conn.execute(insert(table), part)
                        written[table.name] += len(part)
                    if progress:
                        progress(table.name, written[table.name], time.perf_counter() - started)
            finally:
                # the connection goes back to the pool as it came (unless an interrupt broke it: then it is closed)
                if mode is not None and not conn.invalidated:
                    conn.execute(text("SET SESSION sql_mode = :mode"), {"mode": mode})
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn)
    return written
