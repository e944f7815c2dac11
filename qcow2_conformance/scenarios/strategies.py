"""Scenarios drawn from the whole space the model describes, with hypothesis.

chains() is a hypothesis strategy over bottom-to-top tuples of Images: depth 1
to 6; raw, qcow2 v2 and v3 images anywhere; virtual sizes from 512 B to 4 TiB
in multiples of 512; every cluster size and granularity; every state; 0 to a
few bitmaps usually, tens or hundreds now and then; names from every Unicode
scalar value (hostile ones and byte-exact 1023-byte ones among them), some
shared between depths; written ranges anywhere, the very end included.

commit_chains() draws a chain of two images or more and marks COMMIT_BASE
and COMMIT_TOP on two of them, for the commit procedure.

Drawing is reproducible: draw(count, seed, procedure) runs the procedure's
strategy in a @given function under @seed, in the generate phase only, round
after round of BATCH examples, so one seed and one hypothesis version give
the same scenarios. The procedure (procedures/base.py; nothing here imports
it) says which strategy draws its chains and which are not kept: what qemu refuses, or what
would cost a two-core machine minutes (procedure.refusal, from
scenarios/filters.py); the reason is counted. The shrinker
(conformance/shrink.py) replays a round to start from a failing scenario.
"""

import gc
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from multiprocessing import get_context
from queue import SimpleQueue

import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from qcow2_conformance.scenarios.filters import crowding
from qcow2_conformance.scenarios.isolation import without_local_constants
from qcow2_conformance.scenarios.loader import MAX_GRANULARITY, MAX_NAME_BYTES, MIN_GRANULARITY
from qcow2_conformance.scenarios.model import (
    COMMIT_BASE,
    COMMIT_TOP,
    FORMATS,
    STATES,
    Bitmap,
    Image,
    Scenario,
)

BATCH = 100  # examples per round of drawing; rounds go on until enough are kept
PARALLEL_ROUNDS = 2  # rounds drawn at once, one per core
MAX_DEPTH = 6
# Chain depth by a draw from 0 to 99, of which hypothesis makes about a
# quarter 0 (depth 1): a chain costs about its depth to judge, so shallow
# chains come more often, and every depth up to MAX_DEPTH still comes.
DEPTHS = (1,) * 20 + (2,) * 25 + (3,) * 20 + (4,) * 15 + (5,) * 10 + (MAX_DEPTH,) * 10
SECTOR = 512
MAX_SIZE = 4 << 40
CLUSTER_SIZES = tuple(1 << bits for bits in range(9, 22))
GRANULARITIES = tuple(
    1 << bits for bits in range(MIN_GRANULARITY.bit_length() - 1, MAX_GRANULARITY.bit_length())
)
# What a run on two cores can afford per write.
COST_MAX_EXTENT = 1 << 20
# States by a draw from 0 to 99 (0, what shrinking goes to, is recording): an
# image with an inconsistent bitmap costs a writer that dies to build.
STATE_SHARES = (STATES[0],) * 55 + (STATES[1],) * 15 + (STATES[2],) * 15 + (STATES[3],) * 15

HOSTILE_NAMES = (
    " ",
    "a b",
    "it's",
    '"double"',
    "back\\slash",
    "line\nbreak",
    "tab\there",
    "$(touch HARNESS-CANARY-generated)",
    "`touch HARNESS-CANARY-generated`",
    "-g",
    "--remove",
    "-",
    "*",
    "Ωμέγα",
    "日本語",
    "😀",
    "\u202eevil",
    "\x7f",
)
PLAIN_NAMES = ("b0", "b1", "b2", "daily", "weekly", "cp")


@dataclass
class Drawing:
    seed: int
    scenarios: list
    filtered: Counter = field(default_factory=Counter)
    rounds: dict = field(default_factory=dict)  # scenario name -> round it was drawn in
    hypothesis_version: str = hypothesis.__version__


def draw(count, seed, procedure):
    """The first count scenarios of procedure that are kept, drawn from seed, named
    PREFIX-SEED-NNNN (procedure.drawn_prefix: gen, gen-commit).

    Rounds are seeded each on their own, so several are drawn at once, one per
    core, and taken in order: the same scenarios as one after the other. A
    process that ends a round starts the next one at once, without waiting for
    the others to end theirs (rounds take from 0.5 to 0.9 s: waiting for the
    slower of each pair cost about a tenth of the drawing).
    """
    drawing = Drawing(seed, [])
    width = max(4, len(str(count - 1)))
    ended = SimpleQueue()  # rounds that ended, in the order they did
    rounds = {}
    # fork: the children inherit hypothesis and the strategies, already imported.
    # Leaving the block terminates them: a round still drawn then is not needed.
    with get_context("fork").Pool(PARALLEL_ROUNDS) as pool:

        def start(round_):
            # The procedure travels to the pool by pickle: by its class's name.
            rounds[round_] = pool.apply_async(
                _drawn_round,
                (seed, round_, procedure),
                callback=lambda _: ended.put(round_),
                error_callback=lambda _: ended.put(round_),
            )

        for round_ in range(PARALLEL_ROUNDS):
            start(round_)
        started, taken = PARALLEL_ROUNDS, 0
        while len(drawing.scenarios) < count:
            ended.get()
            while taken in rounds and rounds[taken].ready():
                found = rounds.pop(taken).get()
                _keep(drawing, found, count, seed, taken, width, procedure)
                taken += 1
            if len(drawing.scenarios) < count:
                start(started)
                started += 1
    return drawing


def _keep(drawing, drawn, count, seed, round_, width, procedure):
    """Take round_'s chains into drawing, in order, until it holds count scenarios."""
    if len(drawing.scenarios) < count:
        for images in drawn:
            if len(drawing.scenarios) == count:
                break
            index = len(drawing.scenarios)
            name = f"{procedure.drawn_prefix}-{seed}-{index:0{width}}"
            scenario = scenario_of(
                name,
                f"drawn with seed {seed}, round {round_}, by hypothesis {hypothesis.__version__}",
                images,
                procedure,
            )
            reason = procedure.refusal(scenario) or crowding(scenario, drawing.scenarios)
            if reason:
                drawing.filtered[reason] += 1
                continue
            drawing.scenarios.append(scenario)
            drawing.rounds[name] = round_


def scenario_of(name, description, images, procedure):
    """The Scenario of drawn images, for procedure."""
    return Scenario(name, "generated", description, images, "", procedure=procedure.name)


def examples(seed, round_, procedure, test=None, shrink=False):
    """The chains hypothesis draws in one round; test(images), if given, is called on each.

    Only the generate phase runs, without a database: the same seed, round and
    hypothesis version draw the same chains in the same order. With shrink,
    hypothesis shrinks the first chain on which test raises, then raises it.
    """
    drawn = []
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]

    @hypothesis.settings(
        database=None,
        derandomize=False,
        max_examples=BATCH,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.seed(round_seed(seed, round_))
    @hypothesis.given(procedure.chains())
    def collect(images):
        drawn.append(images)
        if test is not None:
            test(images)

    with without_local_constants():
        collect()
    return drawn


def _drawn_round(seed, round_, procedure):
    """examples() in a child of draw(), without the cyclic garbage collector.

    Its passes over hypothesis's many long-lived objects cost about an eighth
    of a round's CPU; a round's garbage is small, and the next collection frees it.
    The collector decides nothing hypothesis draws.
    """
    gc.disable()
    try:
        return examples(seed, round_, procedure)
    finally:
        gc.enable()


def round_seed(seed, round_):
    return seed * 1000 + round_


# Strategies are built once, here or in a cache per argument, not for each
# draw: hypothesis validates every new strategy object on its first draw,
# and that was most of the drawing's CPU. The same strategies drawn in the
# same order make the same choices (and spans, which the generate phase
# mutates by label): the scenarios drawn are the same, byte for byte.
# Caches are bounded: sizes vary widely, and a size repeats mostly within a chain.
CACHED = 4096
PERCENT = st.integers(0, 99)
TENTH = st.integers(0, 9)
FIFTH = st.integers(0, 4)
THIRD = st.integers(0, 2)
FEW = st.integers(1, 4)
SOME = st.integers(5, 20)
RUNS = st.integers(1, 3)
RUN_LENGTH = st.integers(34, 100)
SIZE_BITS = st.integers(0, (MAX_SIZE // SECTOR).bit_length() - 1)
# Sectors in [2**bits, 2**(bits+1)), for each bits SIZE_BITS draws, to MAX_SIZE.
SIZES_BY_BITS = tuple(
    st.integers(1 << bits, min((2 << bits) - 1, MAX_SIZE // SECTOR))
    for bits in range((MAX_SIZE // SECTOR).bit_length())
)
# st.integers caches too, but its cache costs more per call than this one.
between = lru_cache(CACHED)(st.integers)
MAYBE_CLUSTER = st.one_of(st.none(), st.sampled_from(CLUSTER_SIZES))
MAYBE_GRANULARITY = st.one_of(st.none(), st.sampled_from(GRANULARITIES))
MAYBE_SERIES_GRANULARITY = st.one_of(st.none(), st.sampled_from(GRANULARITIES[7:]))
ANY_STATE = st.sampled_from(STATES)
PLAIN = st.sampled_from(PLAIN_NAMES)
# Mostly qcow2 v3; the first choice is what shrinking goes to.
FORMAT_SHARES = ("qcow2",) * 7 + ("qcow2-v2",) * 2 + ("raw",)


@st.composite
def chains(draw, min_depth=1):
    """A chain, bottom to top, as a tuple of Images; shrinks to one small image."""
    pool = tuple(draw(POOLS))
    images = [draw(image(pool, None))]
    for _ in range(max(min_depth, DEPTHS[draw(PERCENT)]) - 1):
        size = next(i.size for i in reversed(images) if i.size is not None)
        images.append(draw(image(pool, size)))
    return tuple(images)


@st.composite
def commit_chains(draw):
    """A chain of two images or more with COMMIT_BASE below COMMIT_TOP marked."""
    images = list(draw(chains(min_depth=2)))
    base = draw(between(0, len(images) - 2))
    top = draw(between(base + 1, len(images) - 1))
    images[base] = replace(images[base], commit_role=COMMIT_BASE)
    images[top] = replace(images[top], commit_role=COMMIT_TOP)
    return tuple(images)


@lru_cache(CACHED)
@st.composite
def image(draw, pool, below_size):
    """An Image over pool (a tuple of bitmap names) on top of an image of below_size."""
    fmt = FORMAT_SHARES[draw(TENTH)]
    size = draw(SIZES if below_size is None else MAYBE_SIZE)
    virtual = below_size if size is None else size
    cluster = None if fmt == "raw" else draw(MAYBE_CLUSTER)
    data = tuple(draw(_data(virtual)))
    # Bitmaps in raw or v2 images are drawn now and then, to be refused and counted.
    wants = fmt == "qcow2" or draw(TENTH) == 0
    bitmaps = draw(bitmap_lists(virtual, pool)) if wants else ()
    assert fmt in FORMATS
    return Image(fmt, size, cluster, data, bitmaps)


@st.composite
def sizes(draw):
    """Multiples of 512 from 512 B to 4 TiB, spread over every power of two."""
    return SECTOR * draw(SIZES_BY_BITS[draw(SIZE_BITS)])


SIZES = sizes()
MAYBE_SIZE = st.one_of(st.none(), SIZES)


@lru_cache(CACHED)
def _data(size):
    """The ranges written in an image of size."""
    return st.lists(extents(size), max_size=3)


@lru_cache(CACHED)
def _dirty(size):
    """The ranges dirty in a bitmap of an image of size."""
    return st.lists(extents(size), min_size=1, max_size=2)


@lru_cache(CACHED)
@st.composite
def extents(draw, size):
    """An (offset, length) range inside size: anywhere, at the very end, or just before it."""
    sectors = size // SECTOR
    most = min(sectors, COST_MAX_EXTENT // SECTOR)
    bits = draw(between(0, most.bit_length() - 1))
    length = draw(between(1 << bits, min(2 << bits, most + 1) - 1))
    where = draw(THIRD)
    if where == 0:
        start = draw(between(0, sectors - length))
    else:
        start = sectors - length - (draw(between(0, sectors - length)) if where == 2 else 0)
    return start * SECTOR, length * SECTOR


@lru_cache(None)
def names():
    """Bitmap names: plain, hostile, any characters, long, or exactly 1023 bytes."""
    return st.one_of(
        PLAIN,
        st.sampled_from(HOSTILE_NAMES),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=24),
        # Long: a drawn piece repeated to a drawn length (drawing each of a
        # thousand characters one by one costs seconds per 200 scenarios).
        st.tuples(
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=16),
            st.integers(200, MAX_NAME_BYTES + 8),
        ).map(_repeated),
        st.characters(codec="utf-8", exclude_characters="\0").map(_filled),
    )


def _repeated(piece_and_length):
    piece, length = piece_and_length
    return (piece * (length // len(piece) + 1))[:length]


def _filled(char):
    """A name of exactly MAX_NAME_BYTES bytes made of char, padded with 'x'."""
    width = len(char.encode("utf-8"))
    return char * (MAX_NAME_BYTES // width) + "x" * (MAX_NAME_BYTES % width)


POOLS = st.lists(names(), min_size=1, max_size=6)


@lru_cache(CACHED)
def _pooled(pool):
    return st.sampled_from(pool)


@lru_cache(CACHED)
@st.composite
def bitmap_lists(draw, size, pool):
    """None or a few bitmaps usually; 5 to 20 now and then; 34 to 300 rarely."""
    # hypothesis favours the ends of a range: 0 (where shrinking goes too) is a few bitmaps.
    band = draw(PERCENT)
    if band < 75:
        found = [draw(bitmaps(size, pool)) for _ in range(draw(FEW))]
    elif band < 86:
        found = []
    elif band < 94:
        found = [draw(bitmaps(size, pool)) for _ in range(draw(SOME))]
    else:
        found = draw(series(size))
    unique = list({b.name: b for b in reversed(found)}.values())[::-1]
    # qemu marks every bitmap then on disk when a writer dies: inconsistent ones come first.
    return tuple(sorted(unique, key=lambda b: not b.inconsistent))


@lru_cache(CACHED)
@st.composite
def bitmaps(draw, size, pool):
    # Mostly names of the chain's pool: checkpoints that span several images.
    name = draw(_pooled(pool) if draw(FIFTH) < 4 else names())
    state = STATE_SHARES[draw(PERCENT)]
    granularity = draw(MAYBE_GRANULARITY)
    # Each dirty bitmap costs three commands to build: one in three or so is.
    dirty = tuple(draw(_dirty(size)) if draw(THIRD) == 2 else ())
    return Bitmap(name, state, granularity, dirty)


@lru_cache(CACHED)
@st.composite
def series(draw, size):
    """34 to 300 bitmaps named PREFIX-NNN, in runs of one state and granularity."""
    prefix = draw(PLAIN)
    found = []
    for _ in range(draw(RUNS)):
        count = draw(RUN_LENGTH)
        state = draw(ANY_STATE)
        granularity = draw(MAYBE_SERIES_GRANULARITY)
        found += [
            Bitmap(f"{prefix}-{len(found) + i:03}", state, granularity, ()) for i in range(count)
        ]
    first = found[0]
    # One of them dirty, so hundreds of bitmaps do not mean hundreds of writes.
    found[0] = Bitmap(first.name, first.state, first.granularity, (draw(extents(size)),))
    return found
