"""Registry of swappable decision rules.

A rule is a plain function. The model looks each rule up by name, so a
modeller can replace one without editing the package::

    from abm import ICSModel, register_rule

    @register_rule("trust_update", "forgiving")
    def forgiving(ties, result, caught, p):
        ...

    model = ICSModel(rules={"trust_update": "forgiving"})   # or pass the function

Rules and their signatures:

- ``trust_update(ties, result, caught, p) -> None``: updates ``ties.trust``,
  ``ties.damage`` and ``ties.record`` in place from this month's joint-work
  ``result`` and the organisations ``caught`` gaming
- ``effort_choice(utilities, propensity, p) -> shares`` (rows sum to 1)
- ``turf_target(drivers, p) -> target`` (``drivers`` is a dict of arrays)
"""

from __future__ import annotations

from typing import Callable

RULE_NAMES = ("trust_update", "effort_choice", "turf_target")

_REGISTRY: dict[str, dict[str, Callable]] = {name: {} for name in RULE_NAMES}


def register_rule(rule: str, name: str | None = None):
    """Decorator: register a function as a variant of ``rule`` under ``name``."""
    if rule not in _REGISTRY:
        raise ValueError(f"unknown rule {rule!r}; rules are {', '.join(RULE_NAMES)}")

    def decorate(fn: Callable) -> Callable:
        _REGISTRY[rule][name or fn.__name__] = fn
        return fn

    return decorate


def resolve_rules(overrides: dict | None) -> dict[str, Callable]:
    """Default rules updated by ``overrides`` (names or functions)."""
    chosen = {rule: _REGISTRY[rule]["default"] for rule in RULE_NAMES}
    for rule, value in (overrides or {}).items():
        if rule not in _REGISTRY:
            raise TypeError(f"unknown rule {rule!r}; rules are {', '.join(RULE_NAMES)}")
        if callable(value):
            chosen[rule] = value
        elif value in _REGISTRY[rule]:
            chosen[rule] = _REGISTRY[rule][value]
        else:
            known = ", ".join(sorted(_REGISTRY[rule]))
            raise ValueError(f"rule {rule!r} has no variant {value!r}; registered: {known}")
    return chosen


def registered(rule: str) -> list[str]:
    return sorted(_REGISTRY[rule])
