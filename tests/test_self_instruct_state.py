"""The typed run state: saved and loaded whole, refused with one line when it does not fit."""

from __future__ import annotations

import json

import pytest

from generators.self_instruct.state import (
    STATE_VERSION,
    InstanceRecord,
    MachineInstruction,
    RunState,
    load_state,
)
from instances import InstructmixError


def test_a_state_round_trips_through_its_file(tmp_path):
    machine = MachineInstruction(
        id="machine_0001_0",
        instruction="Name three rivers.",
        batch="0001",
        instances=[InstanceRecord(input="", output="Nile"), InstanceRecord(input="", output="")],
    )
    machine.instances[1].reason = "empty_output"
    state = RunState(fingerprint="abc", batch="0001", instructions=[machine], rounds_done=1)
    state.save(tmp_path / "s.json")
    loaded = load_state(tmp_path / "s.json", "abc", "0001")
    assert loaded == state
    assert [i.output for i in loaded.instructions[0].kept_instances()] == ["Nile"]
    assert load_state(tmp_path / "absent.json", "abc", "0002").batch == "0002"


def test_a_state_file_that_does_not_fit_is_refused_with_one_line(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(InstructmixError, match="not valid JSON"):
        load_state(path, "abc")
    path.write_text(json.dumps({"version": 1, "fingerprint": "abc"}))
    with pytest.raises(InstructmixError, match="another version"):
        load_state(path, "abc")
    bad = {"version": STATE_VERSION, "fingerprint": "abc", "rounds_done": "many"}
    path.write_text(json.dumps(bad))
    with pytest.raises(InstructmixError, match="field rounds_done"):
        load_state(path, "abc")
    with pytest.raises(InstructmixError, match="other settings"):
        load_state(path, "xyz")
