"""One properties file through ruamel.yaml and back, changed only where the merge changed it.

``YamlFile.load`` keeps the file's text, its spelling (a BOM, CRLF) and what it said; ``text()`` writes
it back. ruamel's round trip keeps comments, key order and quoting, but re-spells flow collections
(``{ a: 1 }`` as ``{a: 1}``, a mapping over several lines on one line). So ``text()`` keeps the original
text of every part whose meaning did not change, at each level of block mappings and sequences (a top
key such as ``unit_tests:``, an item of ``models:``, a key of a model, a column), and lets ruamel write
only the parts the merge changed. What it writes must load to exactly what ruamel's whole dump does;
when it does not (an alias whose anchor moved, say), the whole dump is used.

Anchors and aliases: ``shared`` holds every node reached through more than one path (an anchor's
target and its aliases, what a ``<<:`` merge key brings in); :func:`own` gives a node safe to change,
a copy of its own for the changed place only, so a change never reaches another entry through an alias.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DbtError
from .writing import Spelling, read_text


def _yaml() -> Any:
    try:
        from ruamel.yaml import YAML
    except ImportError:
        raise DbtError("editing a dbt project's YAML needs ruamel.yaml: pip install 'pytest-datakits[dbt]'") from None
    yaml = YAML()  # round trip: comments, key order and quoting kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a user's long line
    return yaml


def plain(node: Any) -> Any:
    """What a node says, as plain Python (merged keys included)."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def meaning(text: str | None) -> Any:
    """What a YAML text says (comments, quoting and layout aside); None for no file."""
    if text is None:
        return None
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(text)  # libyaml where it is installed: the pure loader is slow on long texts


def _shared(data: Any) -> set[int]:
    """The ids of the containers reached through more than one path (aliases, merge keys)."""
    seen: set[int] = set()
    shared: set[int] = set()

    def walk(node: Any, path: frozenset[int]) -> None:
        if not isinstance(node, dict | list) or id(node) in path:
            return
        if id(node) in seen:
            shared.add(id(node))
        seen.add(id(node))
        for child in node.values() if isinstance(node, dict) else node:
            walk(child, path | {id(node)})

    walk(data, frozenset())
    return shared


def _detached(node: Any) -> Any:
    """A copy of a mapping or sequence with its layout, no anchor, no comments (those stay where they were
    written) and no merge key (its merged keys become its own); the children are the same objects."""
    from ruamel.yaml.comments import Format, LineCol

    new = type(node)()
    if isinstance(node, dict):
        for key in node:
            new[key] = node[key]
    else:
        new.extend(node)
    for attrib in (Format.attrib, LineCol.attrib):
        if hasattr(node, attrib):
            setattr(new, attrib, copy.deepcopy(getattr(node, attrib)))
    return new


@dataclass(frozen=True)
class _Span:
    start: int  # first line (0-based), the key's or the item's dash line
    end: int  # the line after its last one
    before: Any  # what it said when loaded (plain)
    node_id: int | None  # the container it held (None: a scalar)


@dataclass
class YamlFile:
    """One properties file, loaded for a round trip; ``text()`` is what it says after the edits."""

    path: Path
    original: str  # the text, ``\\n`` line endings, no BOM
    data: Any
    indent: int
    sequence_indent: int
    spelling: Spelling = field(default_factory=Spelling)
    shared: set[int] = field(default_factory=set)
    _spans: dict[tuple[int, Any], _Span] = field(default_factory=dict, repr=False)
    _children: dict[int, list[_Span]] = field(default_factory=dict, repr=False)  # by the parent's id
    _before: Any = None

    @classmethod
    def load(cls, path: Path) -> YamlFile:
        from ruamel.yaml.comments import CommentedMap
        from ruamel.yaml.util import load_yaml_guess_indent

        original, spelling = read_text(path)
        try:
            data, indent, sequence_indent = load_yaml_guess_indent(original, yaml=_yaml())
        except Exception as exc:  # ruamel's errors: a file dbt would refuse too
            first = " ".join(str(exc).split())[:200]
            raise DbtError(f"{path} is not valid YAML ({first}); fix it, then run the command again") from None
        if data is None:
            data = CommentedMap()
        found = cls(path, original, data, indent or 2, sequence_indent or 0, spelling, _shared(data))
        found._before = plain(data)
        lines = _lines(original)
        found._index(data, 0, len(lines), lines)
        return found

    def own(self, parent: Any, key: Any) -> Any:
        """``parent[key]``, safe to change: a copy of its own when it is shared (see the module)."""
        node = parent[key]
        inherited = isinstance(parent, dict) and hasattr(parent, "_ok") and key not in parent._ok
        if isinstance(node, dict | list) and (id(node) in self.shared or inherited):
            node = _detached(node)
            parent[key] = node
        return node

    # --- where each part was ------------------------------------------------------------------------

    def _index(self, node: Any, start: int, end: int, lines: list[str]) -> None:
        """Record the lines of each key and item of the block collections under ``node``."""
        if not _is_block(node):
            return
        if isinstance(node, dict):
            keys = [k for k in node if _key_line(node, k) is not None]
            found = [_key_line(node, k) for k in keys]
        else:
            keys = list(range(len(node)))
            found = [_dash_line(node, i, lines) for i in keys]
        starts = [s for s in found if s is not None]
        if len(starts) != len(keys) or starts != sorted(starts):
            return
        for i, key in enumerate(keys):
            first, last = starts[i], starts[i + 1] if i + 1 < len(keys) else _trimmed(lines, starts[i], end)
            if not start <= first < last <= end:
                return
            child = node[key]
            held = id(child) if isinstance(child, dict | list) else None
            span = self._spans[(id(node), key)] = _Span(first, last, plain(child), held)
            self._children.setdefault(id(node), []).append(span)
            self._index(child, first, last, lines)

    # --- writing it back ----------------------------------------------------------------------------

    def _configured(self) -> Any:
        yaml = _yaml()
        mapping = max(2, self.indent - self.sequence_indent)
        yaml.indent(mapping=mapping, sequence=self.indent, offset=self.sequence_indent)
        return yaml

    def _dump(self, data: Any) -> str:
        out = io.StringIO()
        self._configured().dump(data, out)
        return out.getvalue()

    def whole(self) -> str:
        """ruamel's dump of the whole file."""
        return self._dump(self.data)

    def text(self) -> str:
        """The file after the edits: its own text where nothing changed (see the module)."""
        if plain(self.data) == self._before:
            return self.original
        whole = self.whole()
        try:
            lines = _lines(self.original)
            spliced = self._map(self.data, 0, len(lines), lines, dash=False)
            if spliced is not None:
                text = "".join(spliced)
                if not text.endswith("\n"):
                    text += "\n"
                if meaning(text) == meaning(whole):
                    return text
        except Exception:  # a layout the splice does not follow: ruamel's whole dump says the same
            pass
        return whole

    def _map(self, node: Any, start: int, end: int, lines: list[str], dash: bool) -> list[str] | None:
        """The lines of block mapping ``node`` (at ``start:end`` in the original), unchanged keys as they were."""
        spans = {k: self._spans.get((id(node), k)) for k in node}
        known = [k for k in node if spans[k] is not None]
        if not known and len(node):
            return None
        first_line = min((s.start for s in spans.values() if s is not None), default=end)
        out = [line + "\n" for line in lines[start:first_line]]
        keys = list(node)
        if dash:  # the first key shares its line with the item's dash: it must stay first and as it was
            first = next((k for k in keys if spans[k] is not None and spans[k].start == first_line), None)  # type: ignore[union-attr]
            if first is None or keys[0] != first or plain(node[first]) != spans[first].before:  # type: ignore[union-attr]
                return None
        column = _indent_of(lines[first_line]) if first_line < len(lines) else 0
        if dash and first_line < len(lines):
            column = _key_column(node, keys[0], lines[first_line])
        for key in keys:
            span = spans[key]
            value = node[key]
            if span is not None and plain(value) == span.before:
                out += [line + "\n" for line in lines[span.start : span.end]]
                continue
            inner = self._value(key, value, span, lines) if span is not None else None
            out += inner if inner is not None else self._emit_key(node, key, column)
        return out + _tail(lines, self._children.get(id(node), []), end)

    def _value(self, key: Any, value: Any, span: _Span, lines: list[str]) -> list[str] | None:
        """A changed value under ``key`` whose own parts may keep their text: a block mapping or sequence
        that starts on the line after the key."""
        if span.node_id != id(value) or not _is_block(value) or not len(value):
            return None
        body = self._children.get(id(value), [])
        if not body:
            return None
        first = min(s.start for s in body)
        if first <= span.start:  # the value starts on the key's line
            return None
        head = [line + "\n" for line in lines[span.start : first]]
        if isinstance(value, dict):
            rest = self._map(value, first, span.end, lines, dash=False)
        else:
            rest = self._seq(value, first, span.end, lines)
        return None if rest is None else head + rest

    def _seq(self, node: Any, start: int, end: int, lines: list[str]) -> list[str] | None:
        spans = [self._spans.get((id(node), i)) for i in range(len(node))]
        olds = [s for s in spans if s is not None]
        if not olds:
            return None
        dash_column = _indent_of(lines[olds[0].start])
        out: list[str] = []
        used: set[int] = set()
        every = self._children.get(id(node), [])
        for i, item in enumerate(node):
            span = next(
                (
                    s
                    for s in every
                    if s.start not in used
                    and (
                        s.node_id == id(item)
                        if isinstance(item, dict | list)
                        else (s.node_id, s.before) == (None, item)
                    )
                ),
                None,
            )
            if span is not None:
                used.add(span.start)
                if plain(item) == span.before:
                    out += [line + "\n" for line in lines[span.start : span.end]]
                    continue
                if isinstance(item, dict) and _is_block(item):
                    inner = self._map(item, span.start, span.end, lines, dash=True)
                    if inner is not None:
                        out += inner
                        continue
            out += self._emit_item(node, i, dash_column)
        return out + _tail(lines, every, end)

    def _emit_key(self, parent: Any, key: Any, column: int) -> list[str]:
        from ruamel.yaml.comments import CommentedMap

        alone = CommentedMap()
        alone[key] = parent[key]
        comment = getattr(parent, "ca", None)
        if comment is not None and key in comment.items:
            alone.ca.items[key] = comment.items[key]
        return _shifted(_untailed(self._dump(alone)), column)

    def _emit_item(self, parent: Any, index: int, column: int) -> list[str]:
        from ruamel.yaml.comments import CommentedSeq

        alone = CommentedSeq([parent[index]])
        comment = getattr(parent, "ca", None)
        if comment is not None and index in comment.items:
            alone.ca.items[0] = comment.items[index]
        return _shifted(_untailed(self._dump(alone)), column)


def _lines(text: str) -> list[str]:
    """The lines of a text as YAML counts them (``\\n`` ends a line), without their ends."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _blank_or_comment(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def _trimmed(lines: list[str], first: int, end: int) -> int:
    """The end of a block's last part: blank and comment lines after it are the block's tail, which
    stays where it is when the part changes (a blank line before the next top key, say)."""
    while end - 1 > first and _blank_or_comment(lines[end - 1]):
        end -= 1
    return end


def _tail(lines: list[str], parts: list[_Span], end: int) -> list[str]:
    last = max((s.end for s in parts), default=end)
    return [line + "\n" for line in lines[last:end]] if last <= end else []


def _untailed(text: str) -> str:
    """ruamel's dump without the blank and comment lines at its end (the tail is kept from the original)."""
    lines = text.splitlines(keepends=True)
    while len(lines) > 1 and _blank_or_comment(lines[-1]):
        lines.pop()
    return "".join(lines)


def _is_block(node: Any) -> bool:
    if not isinstance(node, dict | list):
        return False
    fa = getattr(node, "fa", None)
    return fa is not None and not fa.flow_style()


def _key_line(node: Any, key: Any) -> int | None:
    try:
        line = node.lc.key(key)[0]
    except (KeyError, TypeError, AttributeError):
        return None
    return line if isinstance(line, int) else None


def _dash_line(node: Any, index: int, lines: list[str]) -> int | None:
    try:
        line = node.lc.item(index)[0]
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    while line >= 0 and not lines[line].lstrip().startswith("-"):
        line -= 1
    return line if line >= 0 else None


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_column(node: Any, key: Any, line: str) -> int:
    try:
        return int(node.lc.key(key)[1])
    except (KeyError, TypeError, AttributeError):
        return _indent_of(line) + 2


def _shifted(text: str, column: int) -> list[str]:
    """``text``'s lines moved so that its first content line starts at ``column``."""
    lines = text.splitlines(keepends=True)
    content = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    shift = column - _indent_of(content)
    if shift >= 0:
        return [(" " * shift + line) if line.strip() else line for line in lines]
    return [line[min(-shift, _indent_of(line)) :] for line in lines]
