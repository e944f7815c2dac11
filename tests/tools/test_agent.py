"""The agent a remote target runs (tools/agent.py), run here as it runs there."""

import json
import os
import subprocess
import sys
import time

from qcow2_conformance.observe import reader
from qcow2_conformance.tools import bundle

from support import ROOT, command_lines


def start_agent(tmp_path):
    """The shipped zip, started with an isolated python3 outside the harness's tree."""
    folder = tmp_path / "agent"
    folder.mkdir()
    (folder / "harness.pyz").write_bytes(bundle.archive())
    return subprocess.Popen(
        ["python3", "-I", str(folder / "harness.pyz"), "serve"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ), folder


def ask(agent, request):
    agent.stdin.write(json.dumps(request).encode() + b"\n")
    agent.stdin.flush()
    return json.loads(agent.stdout.readline())


def test_runs_commands_and_keeps_status_and_output(tmp_path):
    agent, _ = start_agent(tmp_path)
    answer = ask(agent, {"run": "echo out; echo err >&2; exit 255"})
    agent.stdin.close()
    agent.wait(timeout=30)
    assert answer["rc"] == 255
    assert (answer["stdout"], answer["stderr"]) == ("b3V0Cg==", "ZXJyCg==")  # out\n, err\n


def test_reads_images_as_the_harness_does(tools, chain_cache, catalog, tmp_path):
    built = chain_cache.pristine(catalog["chain-depth-1"])
    requests = [["facts", p, f"layer{i}"] for i, p in enumerate(built.paths)]
    requests += [["sha256", built.active, ""], ["facts", str(tmp_path / "none"), "x"]]
    agent, _ = start_agent(tmp_path)
    answers = ask(agent, {"read": requests})
    agent.stdin.close()
    agent.wait(timeout=30)
    assert answers["answers"] == json.loads(json.dumps(reader.answer(requests)))


def test_a_closed_connection_kills_all_it_started_and_removes_its_folder(tmp_path):
    agent, folder = start_agent(tmp_path)
    # A holder left running by an earlier command, and a command still running
    # whose child timeout(1) put in a process group of its own.
    ask(agent, {"run": "sleep 3602 >/dev/null 2>&1 & echo $!"})
    agent.stdin.write(json.dumps({"run": "timeout 3600 sleep 3603"}).encode() + b"\n")
    agent.stdin.flush()
    deadline = time.monotonic() + 10
    while len(sleeping()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sleeping()) == 2
    agent.stdin.close()
    agent.wait(timeout=30)
    assert sleeping() == []
    assert not os.path.exists(folder)


def sleeping():
    return [
        pid
        for pid, line in command_lines().items()
        if line.split()[:2] in (["sleep", "3602"], ["sleep", "3603"])
    ]


def test_the_shipped_modules_need_nothing_but_the_standard_library():
    # Imported alone, they load nothing of the harness but the qcow2 reader.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        " import qcow2_conformance.observe.reader, qcow2_conformance.tools.agent;"
        " names = {m.split('.')[0] for m in sys.modules}"
        " | {m.split('.')[1] for m in sys.modules if m.startswith('qcow2_conformance.')};"
        " print(sorted(names & {'tools', 'observe', 'qcow2',"
        " 'testinfra', 'scenarios', 'rules', 'fixtures'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe, ROOT], capture_output=True, text=True)
    assert out.stdout.strip() == "['observe', 'qcow2', 'tools']"
