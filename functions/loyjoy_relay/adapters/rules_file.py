"""Reading a consent rules file, with every problem reported by its line number.

The YAML is composed into nodes first (PyYAML keeps each node's position), then
constructed and validated by :class:`~loyjoy_relay.core.consent.rules.ConsentRules`; each
pydantic error location is mapped back to the line of the node it names. Duplicate keys,
which YAML loaders silently resolve to the last value, are refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from loyjoy_relay.core.consent.rules import ConsentRules
from loyjoy_relay.errors import ConfigError

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class RulesProblem:
    """One thing wrong with a rules file: where (1-based line) and what."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class RulesInvalid(ConfigError):
    """A rules file that cannot be used; ``problems`` lists each mistake with its line."""

    def __init__(self, source: str, problems: list[RulesProblem]) -> None:
        super().__init__(f"{source}: " + "; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _Node:
    line: int
    scalar: str | None


def _index(root: yaml.Node) -> tuple[dict[Location, _Node], list[RulesProblem]]:
    """The line (and scalar text) of every location, and any duplicate keys found."""
    nodes: dict[Location, _Node] = {}
    problems: list[RulesProblem] = []
    stack: list[tuple[Location, int, yaml.Node]] = [((), root.start_mark.line + 1, root)]
    while stack:
        where, line, node = stack.pop()
        scalar = node.value if isinstance(node, yaml.ScalarNode) else None
        nodes[where] = _Node(line, scalar)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                if name in seen:
                    path = ".".join(str(part) for part in (*where, name))
                    problems.append(
                        RulesProblem(key.start_mark.line + 1, f"{path}: key given twice")
                    )
                seen.add(name)
                # a mapping entry is reported at its key's line, where a reader looks for it
                stack.append(((*where, name), key.start_mark.line + 1, value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                stack.append(((*where, index), item.start_mark.line + 1, item))
    return nodes, problems


def _line_for(nodes: dict[Location, _Node], where: Location, context: dict[str, Any]) -> int:
    """The line of the deepest location that exists; an event named in the error refines it."""
    if "bot" in context:
        where = (*where, str(context["bot"]))
    while where not in nodes:
        where = where[:-1]
    event = context.get("event")
    if event is not None:
        named = [
            node.line
            for location, node in nodes.items()
            if location[: len(where)] == where and node.scalar == event
        ]
        if named:
            return min(named)
    return nodes[where].line


def _message(where: Location, text: str) -> str:
    path = ".".join(str(part) for part in where)
    return f"{path}: {text}" if path else text


def check_rules_text(text: str) -> tuple[ConsentRules | None, list[RulesProblem]]:
    """Parse and validate rules; the rules when valid, else every problem with its line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, [RulesProblem(1, "the file is empty")]
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [RulesProblem(line, f"not valid YAML: {error.problem or error}")]
    finally:
        loader.dispose()
    nodes, problems = _index(root)
    if not isinstance(data, dict):
        return None, [RulesProblem(nodes[()].line, "the file must be a mapping of keys")]
    try:
        rules = ConsentRules.from_data(data)
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False):
            where = tuple(detail["loc"])
            context = dict(detail.get("ctx") or {})
            text = detail["msg"]
            if detail["type"] == "extra_forbidden":
                text = "unknown key"
            problems.append(RulesProblem(_line_for(nodes, where, context), _message(where, text)))
        return None, sorted(problems, key=lambda problem: problem.line)
    if problems:
        return None, problems
    return rules, []


def parse_rules(text: str, source: str = "consent rules") -> ConsentRules:
    """Validated rules from YAML text; raises RulesInvalid listing every problem."""
    rules, problems = check_rules_text(text)
    if rules is None:
        raise RulesInvalid(source, problems)
    return rules


def load_rules(path: Path) -> ConsentRules:
    """Validated rules from a file; raises RulesInvalid (a ConfigError) when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulesInvalid(str(path), [RulesProblem(1, f"cannot be read: {error}")]) from None
    return parse_rules(text, str(path))
