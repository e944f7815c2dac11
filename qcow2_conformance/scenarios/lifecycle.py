"""A lifecycle: the events of one virtual disk's life, and the file that replays them.

docs/rules.md, "Lifecycles". The events are plain data; the state machine
(conformance/lifecycle_machine.py) draws them and a Disk carries them out.
A replay file is JSON:

    {"lifecycle": 1, "implementation": NAME, "size": BYTES, "cluster_size": BYTES,
     "rule": RULE ID or null, "events": [{"event": "write", "offset": 0, ...}, ...]}

lifecycle_model.py holds what the harness knows of the disk: its bytes and
the bitmaps every image would hold had the procedure been followed.
"""

import json
import os
from dataclasses import asdict, dataclass, fields

FORMAT = 1
# The procedure name of the lifecycle rules (rules/registry.py): they judge lifecycles.
LIFECYCLE = "lifecycle"


class LifecycleFileError(Exception):
    """A replay file that cannot be read (the message names the file and the fix)."""


@dataclass(frozen=True)
class Write:
    """The guest writes byte pattern over [offset, offset + length) through the top."""

    offset: int
    length: int
    pattern: int


@dataclass(frozen=True)
class Checkpoint:
    """A recording bitmap name added to the top image, as libvirt makes a checkpoint."""

    name: str
    granularity: int | None = None


@dataclass(frozen=True)
class Snapshot:
    """The implementation under test takes an external snapshot."""


@dataclass(frozen=True)
class ForeignSnapshot:
    """Another tool takes an external snapshot that carries no bitmap."""


@dataclass(frozen=True)
class Commit:
    """The implementation commits images[base+1 .. top] into images[base] (base first)."""

    top: int
    base: int


@dataclass(frozen=True)
class ReuseName:
    """Another tool makes a checkpoint again under a name whose chain is no longer
    valid: a recording bitmap name added to the top, which lacks it."""

    name: str


@dataclass(frozen=True)
class Backup:
    """A backup since checkpoint name; None: a full backup."""

    name: str | None = None


EVENTS = {
    "write": Write,
    "checkpoint": Checkpoint,
    "snapshot": Snapshot,
    "foreign-snapshot": ForeignSnapshot,
    "commit": Commit,
    "reuse-name": ReuseName,
    "backup": Backup,
}
_KIND = {cls: kind for kind, cls in EVENTS.items()}


def kind(event):
    return _KIND[type(event)]


def describe(event):
    """One short line: 'write 65536 bytes of 0x2a at 0x10000', 'commit 2 into 0'."""
    if isinstance(event, Write):
        return f"write {event.length} bytes of 0x{event.pattern:02x} at 0x{event.offset:x}"
    if isinstance(event, Checkpoint):
        granularity = f" (granularity {event.granularity})" if event.granularity else ""
        return f"checkpoint {event.name!r}{granularity}"
    if isinstance(event, Commit):
        return f"commit images {event.base + 1}..{event.top} into image {event.base}"
    if isinstance(event, ReuseName):
        return f"checkpoint {event.name!r} again, by another tool"
    if isinstance(event, Backup):
        return f"backup since {event.name!r}" if event.name is not None else "full backup"
    return kind(event).replace("-", " ")


def to_dict(event):
    return {"event": kind(event), **asdict(event)}


def from_dict(entry):
    cls = EVENTS.get(entry.get("event")) if isinstance(entry, dict) else None
    if cls is None:
        raise ValueError(f"unknown event {entry!r}; known: {', '.join(EVENTS)}")
    names = {f.name for f in fields(cls)}
    extra = set(entry) - names - {"event"}
    if extra:
        raise ValueError(f"event {entry['event']!r} has no field {sorted(extra)[0]!r}")
    return cls(**{k: v for k, v in entry.items() if k != "event"})


@dataclass(frozen=True)
class Lifecycle:
    implementation: str
    size: int
    cluster_size: int
    events: tuple
    rule: str | None = None  # the rule the shrunk sequence fails


def dumps(lifecycle):
    document = {
        "lifecycle": FORMAT,
        "implementation": lifecycle.implementation,
        "size": lifecycle.size,
        "cluster_size": lifecycle.cluster_size,
        "rule": lifecycle.rule,
        "events": [to_dict(e) for e in lifecycle.events],
    }
    return json.dumps(document, indent=1) + "\n"


def loads(text, where="replay file"):
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("lifecycle") != FORMAT:
            raise ValueError(f"not a lifecycle replay file of format {FORMAT}")
        return Lifecycle(
            implementation=document["implementation"],
            size=int(document["size"]),
            cluster_size=int(document["cluster_size"]),
            events=tuple(from_dict(e) for e in document["events"]),
            rule=document.get("rule"),
        )
    except (ValueError, KeyError, TypeError) as e:
        raise LifecycleFileError(
            f"{where}: {e}; give a file the harness wrote (replay-*.json in the report folder)"
        ) from None


def write_file(path, lifecycle):
    with open(path, "w", encoding="utf-8") as f:
        f.write(dumps(lifecycle))


def read_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise LifecycleFileError(f"{path}: {e.strerror}; give an existing replay file") from None
    return loads(text, path)


@dataclass(frozen=True)
class LifecycleSlot:
    """One lifecycle a run judges, where a scenario would be: the suite's cases, the
    scheduler and the reports take it as they take a scenario."""

    name: str  # lifecycle-INDEX, or replay-STEM for a replay file
    index: int
    seed: int | None  # the run's --seed; None for a replay
    max_events: int
    replay: str | None = None  # the replay file's path
    procedure: str = LIFECYCLE
    family: str = "lifecycle"
    images: tuple = ()
    hardening: tuple = ()

    @property
    def description(self):
        if self.replay:
            return f"the lifecycle of {self.replay}"
        return f"lifecycle {self.index} drawn with seed {self.seed}, up to {self.max_events} events"

    def summary(self):
        return self.description


def slots(count, seed, max_events):
    return [LifecycleSlot(f"lifecycle-{i}", i, seed, max_events) for i in range(count)]


def replay_slot(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    return LifecycleSlot(f"replay-{stem}", 0, None, 0, replay=path)


def replay_folder(results_path):
    """NAME.lifecycles beside NAME.json: where failing lifecycles' replay files go."""
    return os.path.splitext(results_path)[0] + ".lifecycles"
