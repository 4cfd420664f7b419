"""Safe YAML reading that remembers where every value came from.

Policies and catalogues are written by people, so an error must point at the
line they typed. PyYAML's safe loader (libyaml's C parser when installed) builds plain Python objects (no tags, no
code); on top of it we record the line of every mapping key and sequence item
by path, reject duplicate keys (which plain ``safe_load`` silently resolves to
the last one), and turn pydantic's validation errors into located
:class:`~compliance_mia.errors.Problem` objects with the accepted values.

A YAML file is also an attack surface: a kilobyte of nested aliases ("billion
laughs") expands to billions of nodes, and thousands of nesting levels
exhaust the parser's recursion. Before anything is built, the event stream
(which PyYAML produces without recursion) is checked against
:data:`MAX_BYTES`, :data:`MAX_DEPTH`, :data:`MAX_ALIASES` and
:data:`MAX_NODES` (counting every alias as the size of what it expands to);
a file past a limit is refused with its line. Every string read (keys and
values) is passed through :func:`compliance_mia.text.neutralise`, so control
and bidirectional-override characters cannot reorder what a report shows.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from compliance_mia.errors import InputError, Problem
from compliance_mia.text import neutralise

#: largest YAML file read (bytes); policies and catalogues are a few kilobytes
MAX_BYTES = 2 * 1024 * 1024
#: deepest nesting of mappings and sequences
MAX_DEPTH = 64
#: most alias references (``*name``) in one file
MAX_ALIASES = 1000
#: most nodes once every alias is expanded
MAX_NODES = 200_000

PathKey = tuple[str | int, ...]
_VALIDATOR_STEP = re.compile(r"^function-(after|before|wrap|plain)\[")
M = TypeVar("M", bound=BaseModel)


@dataclass
class LocatedYaml:
    """Parsed YAML data plus the 1-based line of every key and item, by path."""

    data: Any
    file: Path
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


#: libyaml's C parser when PyYAML was built with it (about ten times faster than the pure-Python
#: scanner); the pure-Python SafeLoader otherwise. Both build the same nodes and the same safe types.
_SAFE_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SAFE_BASE):  # type: ignore[valid-type,misc]
    """Safe loader (C parser when available) that refuses duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, int] = {}
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)  # resolve ``<<`` merge keys before looking at the keys
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key '{key}' (first defined on line {seen[key]})",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _events(text: str, file: Path, error: type[InputError]) -> Iterator[yaml.Event]:
    """The event stream of ``text``; libyaml's own nesting limit is reported as ours.

    libyaml refuses nesting past its built-in depth (1000) while scanning ahead,
    before our count of :data:`MAX_DEPTH` sees the events; that depth is past
    ours too, so the file gets the same message as any other too-deep file.
    """
    try:
        yield from yaml.parse(text, Loader=_SAFE_BASE)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" not in str(exc.problem or ""):
            raise
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error(Problem(f"nested more than {MAX_DEPTH} levels deep", file=file, line=line)) from None


def _check_limits(text: str, file: Path, error: type[InputError]) -> None:
    """Refuse alias bombs and deep nesting from the event stream, before any node is built."""
    depth = 0
    aliases = 0
    total = 0
    anchors: dict[str, int] = {}
    # one [size, anchor] per open collection; an alias counts as the size of its anchor's node
    open_: list[list[Any]] = []

    def add(size: int, mark: Any) -> None:
        nonlocal total
        if open_:
            open_[-1][0] += size
        else:
            total += size
        if total + sum(o[0] for o in open_) > MAX_NODES:
            raise error(
                Problem(
                    f"expands to more than {MAX_NODES} nodes (aliases repeat what they point to); "
                    "refused as a possible alias bomb",
                    file=file,
                    line=mark.line + 1,
                )
            )

    for event in _events(text, file, error):
        mark = event.start_mark
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise error(Problem(f"nested more than {MAX_DEPTH} levels deep", file=file, line=mark.line + 1))
            open_.append([1, event.anchor])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            size, anchor = open_.pop()
            if anchor is not None:
                anchors[anchor] = size
            add(size, mark)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = 1
            add(1, mark)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise error(
                    Problem(f"more than {MAX_ALIASES} aliases (*name); refused", file=file, line=mark.line + 1)
                )
            add(anchors.get(event.anchor, 1), mark)


def _neutralise_all(value: Any) -> Any:
    """Every string in ``value`` (keys included) with control characters made visible."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {_neutralise_all(k): _neutralise_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_neutralise_all(v) for v in value]
    return value


def _index_lines(node: yaml.Node, path: PathKey, out: dict[PathKey, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = neutralise(key_node.value) if isinstance(key_node.value, str) else key_node.value
            child = (*path, key)
            out[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            out[child] = item.start_mark.line + 1
            _index_lines(item, child, out)


def file_stamp(file: Path) -> tuple[int, int, int] | None:
    """What tells one version of ``file`` from another (mtime in ns, size, inode); None if unreadable.

    Loaders of shipped YAML (the risk matrix, the controls catalogue) cache the
    validated object under the path and this stamp, so a run reads each file
    once while an edited file is read again.
    """
    try:
        st = file.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse ``text`` once into a node tree and build the data from that same tree.

    The node tree gives the line numbers, the constructed data the values: one
    parse instead of one per use. Only called after :func:`_check_limits`, so the
    tree is bounded in depth and in expanded size.
    """
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, _neutralise_all(data)


def read_yaml(file: Path, *, error: type[InputError] = InputError) -> LocatedYaml:
    """Read ``file`` safely, returning its data with line numbers.

    Raises ``error`` (an :class:`InputError` subclass) naming the file and line
    for unreadable files, YAML syntax errors and duplicate keys.
    """
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise error(
                Problem(f"file is {size} bytes; YAML files larger than {MAX_BYTES} bytes are not read", file=file)
            )
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(Problem("file not found", file=file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(Problem(f"cannot read file: {exc}", file=file)) from None
    if len(text) > MAX_BYTES:  # a file that grew between stat and read
        raise error(Problem(f"file is larger than {MAX_BYTES} bytes; not read", file=file))
    try:
        _check_limits(text, file, error)
        node, data = _compose_and_construct(text)
    except RecursionError:
        raise error(Problem(f"nested too deeply (more than {MAX_DEPTH} levels)", file=file)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or str(exc)
        raise error(Problem(f"invalid YAML: {reason}", file=file, line=line)) from None
    except yaml.YAMLError as exc:
        raise error(Problem(f"invalid YAML: {exc}", file=file)) from None
    lines: dict[PathKey, int] = {(): 1}
    if node is not None:
        _index_lines(node, (), lines)
    return LocatedYaml(data=data, file=file, lines=lines)


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (for listing allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fld = _field_by_key(current, str(part))
        if fld is None:
            return None
        current = _first_model_in(fld.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, fld in model.model_fields.items():
        if key in (name, fld.alias):
            return fld
    return None


def _first_model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model_in(arg)
        if found is not None:
            return found
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a YAML mapping for ``model`` may use (aliases where defined)."""
    return [fld.alias or name for name, fld in model.model_fields.items()]


def _format_error(err: dict[str, Any], root: type[BaseModel]) -> tuple[Sequence[str | int], str]:
    # pydantic adds validator steps (``function-after[...]``) to the location; a user's key is kept
    loc: list[str | int] = [p for p in err["loc"] if not (isinstance(p, str) and _VALIDATOR_STEP.match(p))]
    kind = err["type"]
    inp = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        owner = _model_at(root, loc[:-1])
        keys = allowed_keys(owner) if owner else []
        hint = difflib.get_close_matches(key, keys, n=1)
        msg = "unknown field"
        if hint:
            msg += f" (did you mean '{hint[0]}'?)"
        if keys:
            msg += f"; allowed: {', '.join(keys)}"
        return loc, msg
    if kind == "missing":
        return loc, "required field is missing"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        expected = expected.replace(" or ", ", ")
        return loc, f"{inp!r} is not one of {expected}"
    if kind == "value_error":
        return loc, str(ctx.get("error", err["msg"]))
    if kind == "union_tag_invalid":
        return loc, err["msg"]
    msg = err["msg"]
    if inp is not None and not isinstance(inp, (dict, list)):
        msg += f" (got {inp!r})"
    return loc, msg


def validate_located(
    model: type[M],
    doc: LocatedYaml,
    *,
    error: type[InputError] = InputError,
    context: dict[str, Any] | None = None,
) -> M:
    """Validate ``doc`` against ``model``; raise ``error`` with one located problem per issue."""
    if not isinstance(doc.data, dict):
        got = "an empty file" if doc.data is None else type(doc.data).__name__
        raise error(Problem(f"expected a mapping of fields at the top level, got {got}", file=doc.file, line=1))
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc, msg = _format_error(dict(err), model)
            problems.append(Problem(msg, file=doc.file, line=doc.line_of(loc), field=_dotted(loc) or None))
        # Keep the file's order so the first message is the first thing to fix.
        problems.sort(key=lambda p: (p.line or 0, p.field or ""))
        raise error(problems) from None


def validate_checked(
    model: type[M],
    doc: LocatedYaml,
    *,
    error: type[InputError] = InputError,
    context: dict[str, Any] | None = None,
    checks: Callable[[M, LocatedYaml], list[Problem]] | None = None,
) -> M:
    """:func:`validate_located`, then ``checks`` that need the whole validated document.

    ``checks`` returns located problems the schema alone cannot see (unknown
    references, cross-section rules); they are raised together, in file order.
    """
    spec = validate_located(model, doc, error=error, context=context)
    problems = checks(spec, doc) if checks is not None else []
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.field or ""))
        raise error(problems)
    return spec
