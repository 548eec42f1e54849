"""What both supervisors share: a child that exits during start-up fails the start, an exit
while watching is handed over, and stopping asks each child with SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from clearway.runtime.supervision import Child, Command, Supervisor

SLEEP = "import time; time.sleep(600)"


class Children(Supervisor):
    def start(self, **programs: str) -> None:
        for name, program in programs.items():
            process = subprocess.Popen([sys.executable, "-c", program])
            self.children[name] = Command(name, process)


@pytest.fixture
def supervisor() -> Iterator[Children]:
    children = Children()
    yield children
    children.stop()  # whatever a failing test left running


def test_a_child_that_exits_during_start_up_fails_the_start(supervisor: Children) -> None:
    supervisor.start(steady=SLEEP, failing="raise SystemExit(3)")
    assert not supervisor.wait_started(["steady", "failing"], lambda name: False)
    assert supervisor.children["failing"].exitcode == 3
    assert supervisor.children["steady"].is_alive()


def test_started_children_end_the_wait(supervisor: Children) -> None:
    supervisor.start(one=SLEEP, two=SLEEP)
    assert supervisor.wait_started(["one", "two"], lambda name: True)


def test_an_exit_while_watching_is_handed_over(supervisor: Children) -> None:
    exits: list[tuple[str, int | None]] = []

    def exited(name: str, child: Child) -> bool:
        exits.append((name, child.exitcode))
        return False

    supervisor.start(steady=SLEEP, leaving="raise SystemExit(4)")
    assert supervisor.watch(exited) == 1
    assert exits == [("leaving", 4)]


def test_stopping_sends_sigterm_to_every_child(supervisor: Children) -> None:
    supervisor.start(one=SLEEP, two=SLEEP)
    supervisor.stop()
    for child in supervisor.children.values():
        assert not child.is_alive()
        assert child.exitcode == -signal.SIGTERM
