"""The worked examples in docs/extending.md run, and their assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_page_has_four_examples():
    assert len(BLOCKS) == 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index, capsys):
    namespace = {"__name__": f"extending_example_{index}"}
    exec(compile(BLOCKS[index], f"{DOC}:block{index}", "exec"), namespace)
    assert capsys.readouterr().out.strip()


def test_rules_reject_unknown_names():
    from abm import ICSModel

    with pytest.raises(TypeError, match="unknown rule"):
        ICSModel(rules={"trust_updte": "default"})
    with pytest.raises(ValueError, match="no variant"):
        ICSModel(rules={"trust_update": "no-such-variant"})


def test_organisation_classes_must_subclass_the_kind_they_replace():
    from abm import ICSModel
    from agents import Healthwatch

    with pytest.raises(TypeError, match="must subclass AcuteTrust"):
        ICSModel(organisation_classes={"acute": Healthwatch})
