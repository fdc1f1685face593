"""Load a YAML file into a pydantic model; every error is one line naming the file, the key path and the problem.

Every config model (each stage's config module, pipelines.lib.config) builds on this module; it imports none of them.

config/campaigns.yaml: campaigns[2].channel: expected one of email, sales_task; got 'emial'
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config file is missing, unreadable or does not match its schema.

    `lines` holds one line per problem (each naming the file); str() is those lines, one per line.
    """

    def __init__(self, message: str | list[str]):
        self.lines = [message] if isinstance(message, str) else list(message)
        super().__init__("\n".join(self.lines))


def display_path(path: Path) -> str:
    """The path as the user typed it most likely: relative to the working folder when below it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    shown = display_path(path)
    if not path.exists():
        raise ConfigError(f"{shown}: file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {exc.start}): save the file as UTF-8") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError(f"{shown}:{where} is not valid YAML: {problem}") from exc


def load_yaml_model(path: Path, model: type[M], *, data: Any = None) -> M:
    """Parse `path` (or already-read `data` from it) into `model`."""
    raw = read_yaml(path) if data is None else data
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_lines(display_path(path), model, exc)) from exc


# ----------------------------------------------------------------------------- pydantic errors -> one line each


def validation_lines(file: str, model: type[BaseModel], exc: ValidationError) -> list[str]:
    """One line per problem: `<file>: <key path>: <what was expected>; got <value>`."""
    problems: dict[str, list[str]] = {}
    for err in exc.errors():
        path, parent, is_key = _walk(model, err["loc"])
        text = _describe(err, parent, is_key)
        if path in problems and _is_union_tagged(model, err["loc"]):
            # Each member of a union reports on the same value: one line, the alternatives joined.
            problems[path] = [_merge_union(problems[path][0], text)]
        elif text not in problems.setdefault(path, []):
            problems[path].append(text)
    return [f"{file}: {path}: {text}" for path, texts in problems.items() for text in texts]


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional (X | None) wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, type[BaseModel] | None, bool]:
    """The user's key path for a pydantic `loc` (union member tags dropped), the model holding the last key,
    and whether the error is about a mapping key rather than its value."""
    parts: list[str] = []
    current: Any = model
    parent: type[BaseModel] | None = model if _is_model(model) else None
    is_key = False
    for item in loc:
        current = _unwrap(current)
        if item == "[key]":
            is_key = True
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
            args = typing.get_args(current)
            current = args[0] if args else None
            continue
        if _is_model(current):
            parent = current
            field = current.model_fields.get(item)
            parts.append(("." if parts else "") + str(item))
            current = field.annotation if field else None
            continue
        if typing.get_origin(current) is dict:
            parts.append(("." if parts else "") + str(item))
            current = typing.get_args(current)[1] if typing.get_args(current) else None
            continue
        if _is_union(current):  # a member tag such as 'str' or 'ScheduleTrigger': not a key
            members = [a for a in typing.get_args(current) if getattr(a, "__name__", None) == item]
            current = members[0] if members else None
            continue
        parts.append(("." if parts else "") + str(item))
        current = None
    return "".join(parts) or "(top level)", parent, is_key


def _is_union_tagged(model: type[BaseModel], loc: tuple[Any, ...]) -> bool:
    """Whether `loc` passes through a union (so several errors may describe one value)."""
    current: Any = model
    for item in loc:
        current = _unwrap(current)
        if _is_union(current):
            return True
        if isinstance(item, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif _is_model(current):
            field = current.model_fields.get(item)
            current = field.annotation if field else None
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1] if typing.get_args(current) else None
        else:
            current = None
    return False


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _literal_values(expected: str) -> list[str]:
    return re.findall(r"'((?:[^'\\]|\\.)*)'", expected) or [expected]


def _describe(err: dict[str, Any], parent: type[BaseModel] | None, is_key: bool) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "required key missing"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else ""
        allowed = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            return f"unknown key; did you mean '{close[0]}'?"
        return "unknown key" + (f"; expected one of {', '.join(allowed)}" if allowed else "")
    if kind in ("literal_error", "enum"):
        values = ", ".join(_literal_values(str(ctx.get("expected", ""))))
        return f"{'unknown key; ' if is_key else ''}expected one of {values}; got {_got(value)}"
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    if message.startswith("Input should be "):
        message = "expected " + message[len("Input should be ") :]
        message = re.sub(r" or instance of \w+$", "", message)
        return f"{message}; got {_got(value)}"
    return f"{message[:1].lower()}{message[1:]}"


def _merge_union(current: str, text: str) -> str:
    """'expected a valid string; got [1]' + 'expected a valid integer; got [1]' ->
    'expected a valid string or a valid integer; got [1]'."""
    if all(t.startswith("expected ") and "; got " in t for t in (current, text)):
        want_a, got = current[len("expected ") :].split("; got ", 1)
        want_b = text[len("expected ") :].split("; got ", 1)[0]
        return f"expected {want_a} or {want_b}; got {got}"
    return current
