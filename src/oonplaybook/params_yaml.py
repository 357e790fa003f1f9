"""Reading a params YAML safely, keeping where every value was written.

A params file is typed by hand, so its reader refuses with a :class:`~oonplaybook.config.ParamsError`
naming file, line, key, value and fix instead of raising PyYAML's or Python's own errors:

- bytes that are not UTF-8 (a latin-1 / cp1252 file) name the line, column and byte;
- a tab in the indentation, a YAML syntax error, or a key given twice name their line;
- booleans follow YAML 1.2 (only ``true``/``false``), so ``state: NO`` stays the string "NO"
  (YAML 1.1 reads it as false: the "Norway problem") and ``yes``/``on`` are not booleans;
- dates stay strings (as papermill's loader keeps them);
- the file size, the number of alias uses, the expanded node count and the nesting depth are
  bounded, so an alias bomb ("billion laughs") is refused before it is built.

:class:`ParamsDocument` keeps the composed node of every value, so a validation error can quote
a value *as written* (``00100``, not the 64 YAML made of it) and give its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Largest params file read (a real one is a few KB).
MAX_BYTES = 1_000_000
#: Most alias uses (``*name``) in one file; params files rarely need any.
MAX_ALIASES = 64
#: Most nodes after expanding aliases, and the deepest nesting.
MAX_NODES = 20_000
MAX_DEPTH = 32

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Refused(Exception):
    """Raised inside the loader; turned into a ParamsError naming the file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class ParamsLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, no timestamps, bounded aliases and duplicate-key checks."""

    yaml_implicit_resolvers = {
        k: [r for r in v if r[0] not in (_BOOL, _TIMESTAMP)]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_uses = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Count alias uses while composing; refuse more than :data:`MAX_ALIASES`."""
        if self.check_event(yaml.AliasEvent):
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Refused(
                    f"more than {MAX_ALIASES} alias uses (*name); an alias bomb? fix: write the "
                    "values out instead of repeating anchors",
                    mark.line + 1,
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a key given twice (PyYAML would keep the last silently)."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused(
                    "a mapping key is a list or mapping; fix: keys are plain names",
                    key_node.start_mark.line + 1,
                ) from None
            if key in seen:
                raise _Refused(
                    f"key {key!r} is given twice (lines {seen[key]} and "
                    f"{key_node.start_mark.line + 1}); fix: keep one of them",
                    key_node.start_mark.line + 1,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


ParamsLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class ParamsDocument:
    """A loaded params file: its data, text and the node each value came from."""

    path: Path
    data: dict[str, Any]
    text: str
    nodes: dict[tuple[Any, ...], yaml.Node] = field(default_factory=dict)

    def node_at(self, loc: tuple[Any, ...]) -> yaml.Node | None:
        """The node of the value at ``loc`` (pydantic's error location), or the nearest parent's."""
        loc = tuple(loc)
        while loc:
            if loc in self.nodes:
                return self.nodes[loc]
            loc = loc[:-1]
        return None

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of the value at ``loc``."""
        node = self.node_at(loc)
        return node.start_mark.line + 1 if node is not None else None

    def source_of(self, loc: tuple[Any, ...]) -> str | None:
        """The value at ``loc`` exactly as written in the file (None when it has no own node)."""
        node = self.nodes.get(tuple(loc))
        if node is None:
            return None
        return self.text[node.start_mark.index : node.end_mark.index]

    def is_plain_scalar(self, loc: tuple[Any, ...]) -> bool:
        """True when the value at ``loc`` was written unquoted (so YAML typed it itself)."""
        node = self.nodes.get(tuple(loc))
        return isinstance(node, yaml.ScalarNode) and node.style is None


def _decode(raw: bytes, path: Path) -> str:
    """UTF-8 text (a BOM is allowed); other bytes are refused naming line, column and byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        byte = raw[e.start]
        guess = bytes([byte]).decode("cp1252", errors="replace")
        raise _Refused(
            f"byte 0x{byte:02X} at column {col} is not UTF-8 (in latin-1/cp1252 it would be "
            f"{guess!r}); fix: save the file as UTF-8",
            line,
        ) from None


def _key_on(raw: bytes, line: int | None) -> str:
    """``key = value: `` for the ``key: value`` written on a 1-based line (for messages)."""
    if not line:
        return ""
    lines = raw.split(b"\n")
    if line > len(lines):
        return ""
    text = lines[line - 1].decode("utf-8", errors="replace").strip()
    m = re.match(r"^-?\s*([A-Za-z_][\w-]*)\s*:\s*(.*)$", text)
    if not m:
        return ""
    value = m.group(2).split(" #")[0].strip()
    value = value if len(value) <= 60 else value[:57] + "..."
    return f"{m.group(1)} = {value}: " if value else f"{m.group(1)}: "


def _index(
    node: yaml.Node,
    loc: tuple[Any, ...],
    out: dict[tuple[Any, ...], yaml.Node],
    budget: list[int],
) -> None:
    """Record every node by its path; refuse too many (expanded) nodes or too deep nesting."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused(
            f"more than {MAX_NODES} values once aliases are expanded (an alias bomb?); fix: "
            "write the values out",
            node.start_mark.line + 1,
        )
    if len(loc) > MAX_DEPTH:
        raise _Refused(
            f"values nested deeper than {MAX_DEPTH} levels; fix: a params file is flat",
            node.start_mark.line + 1,
        )
    out.setdefault(loc, node)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            _index(v, (*loc, key), out, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _index(v, (*loc, i), out, budget)


def load_params_yaml(path: Path) -> ParamsDocument:
    """Read and parse a params file; every failure is a ParamsError naming file and line."""
    from oonplaybook.config import ParamsError

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ParamsError(f"{path}: cannot read the params file: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise ParamsError(
            f"{path}: {len(raw):,} bytes is too large for a params file (at most "
            f"{MAX_BYTES:,}); fix: point at the right file"
        )
    loader: ParamsLoader | None = None
    try:
        text = _decode(raw, path)
        for n, line in enumerate(text.splitlines(), 1):
            if re.match(r"^ *\t", line):
                raise _Refused(
                    "a tab character in the indentation; fix: indent with spaces (YAML does "
                    "not allow tabs there)",
                    n,
                )
        loader = ParamsLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise _Refused("the file is empty; fix: copy params/demo.yaml and edit it", 1)
        nodes: dict[tuple[Any, ...], yaml.Node] = {}
        _index(node, (), nodes, [MAX_NODES])
        data = loader.construct_document(node)
    except _Refused as e:
        where = f":{e.line}" if e.line else ""
        raise ParamsError(f"{path}{where}: {_key_on(raw, e.line)}{e}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        what = "; ".join(x for x in (e.context, e.problem) if x)
        start = e.context_mark or mark  # where the broken construct began
        key = _key_on(raw, start.line + 1 if start else None).removesuffix(": ")
        began = f" (in {key}, line {start.line + 1})" if key and start else ""
        raise ParamsError(
            f"{path}{where}: YAML syntax error{began}: {what}; fix: check the indentation, a "
            "missing ':' or an unclosed quote or bracket on this line or the one before"
        ) from None
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML ({e}); fix: check the file") from None
    except RecursionError:
        raise ParamsError(
            f"{path}: values nested too deeply to read; fix: a params file is flat"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys to values at the top level (got "
            f"{type(data).__name__}); fix: start from params/demo.yaml"
        )
    return ParamsDocument(path=path, data=data, text=text, nodes=nodes)
