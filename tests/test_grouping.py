"""The harness's xdist scheduler, as pure logic: fake workers, no processes."""

import pytest

from qcow2_conformance.conformance.cases import id_safe, param_id
from qcow2_conformance.fixtures.grouping import GroupScheduling


class FakeNode:
    """Stands in for xdist's WorkerController: records what it was sent."""

    def __init__(self, name):
        self.name = name
        self.sent = []
        self.shutting_down = False

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


class FakeConfig:
    def __init__(self, workers):
        self.workers = workers

    def getvalue(self, name):
        assert name == "tx"
        return [f"{self.workers}*popen"]


def scheduler(collection, groups, workers=2):
    """A scheduler with its workers added and the collection scheduled."""
    sched = GroupScheduling(FakeConfig(workers), lambda *a: None, groups.get)
    nodes = [FakeNode(f"gw{i}") for i in range(workers)]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    assert sched.collection_is_completed
    sched.schedule()
    return sched, nodes


def run_all(sched, nodes):
    """Complete every test in the order each worker was sent them; return who ran what."""
    ran = {node.name: [] for node in nodes}
    done = {node.name: 0 for node in nodes}
    while sched.has_pending:
        for node in nodes:
            if done[node.name] < len(node.sent):
                index = node.sent[done[node.name]]
                done[node.name] += 1
                ran[node.name].append(index)
                sched.mark_test_complete(node, index)
    return ran


COLLECTION = [f"t{i}" for i in range(12)]
# Three groups of four tests, interleaved in the collection; c is the heaviest.
GROUPS = {f"t{i}": ("abc"[i % 3], 5 if i % 3 == 2 else 1) for i in range(12)}


def test_a_group_goes_whole_to_one_worker():
    sched, nodes = scheduler(COLLECTION, GROUPS)
    ran = run_all(sched, nodes)
    assert sorted(i for indices in ran.values() for i in indices) == list(range(12))
    for indices in ran.values():
        keys = [GROUPS[COLLECTION[i]][0] for i in indices]
        assert all(keys.count(k) == 4 for k in keys)
    assert sched.tests_finished and all(n.shutting_down for n in nodes)


def test_the_heaviest_group_starts_first():
    _, nodes = scheduler(COLLECTION, GROUPS)
    assert [GROUPS[COLLECTION[i]][0] for i in nodes[0].sent[:4]] == ["c"] * 4


def test_tests_the_table_does_not_know_are_groups_of_their_own():
    sched, nodes = scheduler(["x", "y", "z", "w"], {})
    ran = run_all(sched, nodes)
    assert sorted(i for indices in ran.values() for i in indices) == [0, 1, 2, 3]


def test_a_dead_worker_loses_the_rest_of_its_group_and_gives_back_the_others():
    groups = {"t0": ("a", 3), "t1": ("a", 3), "t2": ("b", 2), "t3": ("c", 1)}
    sched, nodes = scheduler(["t0", "t1", "t2", "t3"], groups, workers=1)
    (node,) = nodes
    assert node.sent == [0, 1, 2]  # group a, then b, while a's tests are pending
    crashed = sched.remove_node(node)
    assert crashed == "t0"
    # The rest of a is not run again elsewhere; b and c go to the next worker.
    fresh = FakeNode("gw1")
    sched.add_node(fresh)
    sched.schedule()
    assert fresh.sent == [2, 3]


def test_different_collections_schedule_nothing():
    sched = GroupScheduling(FakeConfig(2), lambda *a: None, {}.get)
    a, b = FakeNode("gw0"), FakeNode("gw1")
    for node, collection in ((a, ["x"]), (b, ["y"])):
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    assert a.sent == b.sent == [] and a.shutting_down and b.shutting_down


@pytest.mark.parametrize(
    "text",
    [
        "plain:id",
        "checkpoint 'it''s' after",
        "back\\slash",
        "line1\nline2",
        "sauvegarde-été 备份 😀",
        "100%",
    ],
)
def test_test_ids_pass_through_pytest_unchanged(text):
    safe = id_safe(text)
    assert safe.isascii() and safe.isprintable() and "\\" not in safe
    # %XX keeps ids apart: no two texts share one.
    assert id_safe(text + "%") != id_safe(text + "%25")
    assert param_id(f"conformance/test_rules.py::test_rule[{safe}]") == safe


def test_param_id_ignores_other_tests():
    assert param_id("tests/test_x.py::test_y[1]") is None
