"""What Mesa's own tools read from the model class: its signature, help and scenario.

``mesa.batch_run`` and ``SolaraViz`` inspect the model's signature, and SolaraViz's
Reset rebuilds the model with a Mesa ``Scenario`` as its parameter carrier. The model
takes its parameters as ``**params`` checked against the one parameter table
(``abm/parameters.py``); the functions here derive the signature and the help text
from that table, so neither is a second, hand-kept list.
"""

from __future__ import annotations

import inspect
from typing import Any

from mesa.experimental.scenarios import Scenario

from .parameters import _TABLE, Parameter

_ANNOTATIONS: dict[str, Any] = {"int": int, "float": float, "bool": bool, "choice": str, "seed": int | None,
                              "ics": str | list[str] | None}


def _annotation(p: Parameter) -> Any:
    base = _ANNOTATIONS[p.kind]
    return base | None if p.default is None and p.kind == "float" else base


def parameter_signature(init) -> inspect.Signature:
    """``init``'s signature with its ``**params`` replaced by every parameter of the table."""
    own = [q for q in inspect.signature(init).parameters.values() if q.kind is not inspect.Parameter.VAR_KEYWORD]
    table = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=_annotation(p))
             for p in _TABLE]
    return inspect.Signature([*own[:1], *table, *own[1:]])


def parameter_docs() -> str:
    """The parameter table as a docstring section: name, type, default, meaning, unit and allowed values."""
    lines = ["Model parameters (keywords; the table is ``abm.parameters.PARAMETERS``):"]
    group = None
    for p in _TABLE:
        if p.group != group:
            group = p.group
            lines += ["", f"  {group}:"]
        lines.append(f"    {p.name}: {inspect.formatannotation(_annotation(p))} = {p.default!r}")
        lines.append(f"        {p.meaning} Unit: {p.unit}; allowed: {p.allowed()}.")
    return "\n".join(lines)


def documented_parameters(cls: type) -> type:
    """Class decorator: ``inspect.signature(cls)`` and ``help(cls)`` list every table parameter."""
    cls.__init__.__signature__ = parameter_signature(cls.__init__)
    cls.__doc__ = f"{inspect.cleandoc(cls.__doc__ or '')}\n\n{parameter_docs()}\n"
    return cls


def scenario_parameters(scenario: Scenario | None, keywords: dict[str, Any]) -> dict[str, Any]:
    """The parameters given to the model: a scenario's and the keywords, which must agree.

    A Mesa ``Scenario`` always has ``rng``; ``None`` there means no seed was given.
    """
    if scenario is None:
        return dict(keywords)
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a mesa.experimental.scenarios.Scenario, not {type(scenario).__name__}")
    given = {name: value for name, value in scenario if not (name == "rng" and value is None)}
    for name, value in keywords.items():
        if name in given and given[name] != value:
            raise ValueError(f"parameter {name!r} is {value!r} as a keyword but {given[name]!r} in the scenario; "
                             "give it one way")
    return {**given, **keywords}


def scenario_for(p: dict[str, Any], like: Scenario | None) -> Scenario:
    """The model's ``scenario``: every parameter it was built with, so ``ICSModel(scenario=model.scenario)``
    builds the same model. Of the caller's scenario class if one was given."""
    return (type(like) if like is not None else Scenario)(**p)
