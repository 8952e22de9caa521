"""The loader: libyaml and the pure-Python parser give the same values at the same places."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw import load
from openclaw.errors import FindingsError

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize("name", ["openclaw.yaml", "inventory/production.yaml"])
def test_libyaml_and_python_parsers_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (REPO / name).read_text()
    assert load._CLoader is not None  # the wheel has libyaml: the fast path is the one tested
    fast = load.parse(text, name)
    monkeypatch.setattr(load, "_CLoader", None)
    slow = load.parse(text, name)
    assert fast.data == slow.data
    assert dict(fast.marks) == dict(slow.marks) and dict(fast.key_marks) == dict(slow.key_marks)
    assert len(fast.marks) > 20


@pytest.mark.parametrize("fast", [True, False])
def test_depth_cap_on_both_parsers(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fast:
        monkeypatch.setattr(load, "_CLoader", None)
    with pytest.raises(FindingsError) as e:
        load.parse("version: 1\nx: " + "[" * 65 + "]" * 65 + "\n", "deep.yaml")
    (f,) = e.value.findings
    assert (f.line, f.code) == (2, "L019") and "nested more than 64 levels" in f.message
    load.parse("version: 1\nx: " + "[" * 63 + "]" * 63 + "\n", "ok.yaml")


def test_a_long_value_aliased_many_times_is_refused() -> None:
    """500 KB on disk, a gigabyte for every later check (the secret scan, the schema)."""
    text = ('version: 1\nx: &a "' + "A1b2" * 125_000 + '"\ny: [' + ",".join(["*a"] * 2000)
            + "]\n")
    with pytest.raises(FindingsError) as e:
        load.parse(text, "anchor.yaml")
    (f,) = e.value.findings
    assert f.code == "L013" and "characters of values" in f.message
