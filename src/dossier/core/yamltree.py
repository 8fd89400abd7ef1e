"""YAML with positions: compose the node tree and keep each value's line and column."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from dossier.core.diagnostics import Diagnostic, DossierError

try:  # libyaml's C parser is several times faster; PyYAML without it still works.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]

# Explicit limits: a hostile file gets a diagnostic, not a hang or an out-of-memory kill.
MAX_NODES = 200_000  # values in one document, counting every expansion of an alias
MAX_DEPTH = 64  # nesting of lists and mappings

# Characters a YAML escape ("\v", "\x00", "\ud800") can put in a value that no page may
# hold: control characters other than tab and line ends (they make the feed invalid XML),
# lone surrogates (no UTF-8 for them) and the non-characters U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Unicode line breaks that YAML obeys but editors do not show: a title with one pasted in
# would be cut in two, and every position after it would be a line off.
_HIDDEN_BREAK = re.compile("[\x85\u2028\u2029]")

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass
class Tree:
    """Plain Python data from one YAML document, with the position of every value and key."""

    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Original text of scalars YAML did not read as text (0301234567, yes, 1.0),
    # so a field declared as text can take back what the editor typed.
    raw: dict[Path, str] = field(default_factory=dict)

    def position(self, path: Path) -> tuple[int, int]:
        """Line and column of the value at `path`, or of its nearest parent that has one."""
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def key_position(self, path: Path) -> tuple[int, int]:
        """Line and column of the key that names the value at `path`."""
        return self.key_positions.get(path) or self.position(path)


class _Converter:
    def __init__(self, rel_path: str, line_offset: int) -> None:
        self.rel_path = rel_path
        self.line_offset = line_offset
        self.tree = Tree(None)
        self.count = 0
        self.problems: list[Diagnostic] = []
        self.scalar_constructor = yaml.constructor.SafeConstructor()

    def pos(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1 + self.line_offset, node.start_mark.column + 1

    def fail(self, node: yaml.Node, field_path: Path, message: str) -> None:
        line, col = self.pos(node)
        self.problems.append(
            Diagnostic(self.rel_path, line, col, "error", dotted(field_path), message)
        )

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node, f"document has more than {MAX_NODES:,} values (alias expansion?)")
        if depth > MAX_DEPTH:
            raise _TooBig(node, f"nesting deeper than {MAX_DEPTH} levels")
        self.tree.positions[path] = self.pos(node)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.fail(key_node, path, "merge keys ('<<') are not supported")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, path, "a field name must be a plain word")
                continue
            key = sys.intern(key_node.value) if len(key_node.value) <= _INTERNED \
                else key_node.value
            if self.forbidden(key_node, (*path, key), key):
                continue
            if key in result:
                self.fail(key_node, (*path, key), "field appears twice")
                continue
            self.tree.key_positions[(*path, key)] = self.pos(key_node)
            result[key] = self.convert(value_node, (*path, key), depth + 1)
        return result

    def forbidden(self, node: yaml.Node, path: Path, text: str) -> bool:
        """Report a character no page may hold; True when there is one."""
        found = _FORBIDDEN.search(text)
        if found:
            self.fail(node, path, f"contains the invisible character U+{ord(found[0]):04X}, "
                      "which cannot be published; remove it")
        return found is not None

    def scalar(self, node: yaml.Node, path: Path) -> Any:
        if node.tag in (_STR_TAG, _TIMESTAMP_TAG):
            # Dates stay text: the schema's date/month types check them.
            self.forbidden(node, path, node.value)
            # Short values repeat across records (terms, slugs, roles): one copy of each.
            return sys.intern(node.value) if len(node.value) <= _INTERNED else node.value
        value = self.scalar_constructor.construct_object(node)
        if not isinstance(value, str):
            self.tree.raw[path] = node.value
        return value


_INTERNED = 64  # characters


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        self.node = node
        self.message = message


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                yaml.AliasEvent)
_START_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_END_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _count_values(text: str, rel_path: str, line_offset: int) -> None:
    """Refuse a huge document before composing it: the node tree of a 1 MB flow list
    takes hundreds of MB. Events stream, so counting them costs no memory."""
    count = 0
    # Per open collection: None in a list; in a mapping, whether a key comes next.
    stack: list[bool | None] = []
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, _END_EVENTS):
            stack.pop()
            continue
        if not isinstance(event, _NODE_EVENTS):
            continue
        top = stack[-1] if stack else None
        if top is None:
            count += 1
        else:
            stack[-1] = not top
            count += not top  # a value, not a key
        if count > MAX_NODES:
            mark = event.start_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise DossierError([Diagnostic(rel_path, line + line_offset, col, "error", "",
                                           f"document has more than {MAX_NODES:,} values")])
        if isinstance(event, _START_EVENTS):
            stack.append(True if isinstance(event, yaml.MappingStartEvent) else None)


def parse(text: str, rel_path: str, line_offset: int = 0) -> Tree:
    """Parse one YAML document; raise DossierError with positions for anything wrong."""
    if hidden := _HIDDEN_BREAK.search(text):
        at = hidden.start()
        line = text.count("\n", 0, at) + 1 + line_offset
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        raise DossierError([Diagnostic(
            rel_path, line, col, "error", "",
            f"contains the invisible line break U+{ord(hidden[0]):04X}, which YAML reads as "
            "the end of a line; remove it")])
    try:
        if len(text) > 2 * MAX_NODES:  # smaller texts cannot hold more values than that
            _count_values(text, rel_path, line_offset)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise DossierError([_syntax_error(exc, text, rel_path, line_offset)]) from None
    except yaml.YAMLError as exc:  # errors without a mark, e.g. a reader error
        raise DossierError(
            [Diagnostic(rel_path, 1 + line_offset, 1, "error", "", f"YAML: {exc}")]
        ) from None
    if node is None:
        return Tree({}, {(): (1 + line_offset, 1)})
    converter = _Converter(rel_path, line_offset)
    try:
        converter.tree.data = converter.convert(node, (), 0)
    except _TooBig as exc:
        line, col = converter.pos(exc.node)
        raise DossierError([Diagnostic(rel_path, line, col, "error", "", exc.message)]) from None
    except yaml.MarkedYAMLError as exc:  # e.g. an unknown !tag
        raise DossierError([_syntax_error(exc, text, rel_path, line_offset)]) from None
    except (ValueError, OverflowError) as exc:
        raise DossierError(
            [Diagnostic(rel_path, 1 + line_offset, 1, "error", "", f"YAML: {exc}")]
        ) from None
    if converter.problems:
        raise DossierError(converter.problems)
    return converter.tree


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, rel_path: str,
                  line_offset: int) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line = (mark.line + 1 if mark else 1) + line_offset
    col = mark.column + 1 if mark else 1
    problem = exc.problem or "invalid YAML"
    if exc.context and "<unicode string>" not in exc.context:
        problem = f"{exc.context}, {problem}"
    if mark is not None and _tab_near(text, mark.line, mark.column):
        problem += " (use spaces, not tabs, to indent YAML)"
    return Diagnostic(rel_path, line, col, "error", "", f"YAML syntax error: {problem}")


def _tab_near(text: str, line: int, column: int) -> bool:
    """Whether the line of an error has a tab in its indentation or at the error."""
    lines = text.split("\n")
    if line >= len(lines):
        return False
    here = lines[line]
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    return "\t" in indent or here[column:column + 1] == "\t"


def dotted(path: Path) -> str:
    """`('partners', 1, 'rol')` → `partners.rol`: list positions are shown by line, not name."""
    return ".".join(str(p) for p in path if not isinstance(p, int))
