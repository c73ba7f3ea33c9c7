"""Plain data classes for the syntax tree, the IR and diagnostics — no pydantic.

The nodes of `core/ir.py` and `syntax/ast.py`, `Span` and `Diagnostic` are built by our own
parser and passes and read back from the rulebook cache; no outside input is validated
through them (case files are, in `runtime/case.py`). As pydantic models they cost every
process about 60 ms to define — more than explaining a case — and pulled pydantic's model
machinery into every command; defined here they cost about 2 ms. They keep the part of
`pydantic.BaseModel`'s API the engine uses, with its meaning:

* construction by keyword only (`Lit(type="int", value=3)`), every field's default; a list
  default (`= []`) is a new list for each object, as pydantic copies defaults; a field typed
  `list[…]` given a tuple holds a list, as pydantic converted it; an unknown keyword is a
  TypeError (pydantic's `extra="forbid"`). Values are not otherwise checked: mypy checks the
  code that builds them, and the compile pass checks the trees;
* `model_dump(mode="python" | "json", exclude=…)`: nested objects as dicts, fields declared
  `field(exclude=True)` left out; in JSON mode a Decimal is its text, a date its ISO form and a
  tuple a list, as pydantic writes them;
* `model_copy(update=…, deep=…)`; `model_fields` (name → `FieldSpec`, the base class's first,
  in declaration order); `repr` as pydantic writes it (`Lit(kind='lit', type='int', value=3,
  unit=None)`, without the fields declared `repr=False`); equality of the type and every
  field, hashing for classes declared `frozen=True` (`class Span(Data, frozen=True)`).

`__init__` is generated from the fields the first time a class is instantiated (our source,
from our own class definitions — as `dataclasses` does): a process that only reads a cached
rulebook builds its objects without calling it (`semantics/cache.py`) and never pays for it.
"""

from __future__ import annotations

import copy
import datetime as dt
import inspect
from decimal import Decimal
from typing import Any, ClassVar, Literal, dataclass_transform

__all__ = ["Data", "FieldSpec", "Span", "field"]

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<required>"})()


class FieldSpec:
    """One field of a `Data` class: its default (or a factory making it), whether dumps and
    equality of nodes leave it out (`exclude`), whether `repr` shows it."""

    __slots__ = ("default", "exclude", "factory", "is_list", "name", "repr")

    def __init__(self, default: Any = _MISSING, factory: Any = None, exclude: bool = False,
                 repr: bool = True):
        self.name = ""
        self.default, self.factory, self.exclude, self.repr = default, factory, exclude, repr
        self.is_list = False

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is None


def field(*, default: Any = _MISSING, default_factory: Any = None, exclude: bool = False,
          repr: bool = True) -> Any:
    """A field with more than a default: `span: Span | None = field(default=None,
    exclude=True, repr=False)`."""
    return FieldSpec(default, default_factory, exclude, repr)


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
class Data:
    """Base of the plain data classes (module docstring)."""

    model_fields: ClassVar[dict[str, FieldSpec]] = {}
    _dumped: ClassVar[tuple[str, ...]] = ()
    _frozen: ClassVar[bool] = False

    def __init_subclass__(cls, *, frozen: bool = False, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        fields = dict(cls.model_fields)  # the base class's, in order
        for name, ann in inspect.get_annotations(cls).items():  # its own, as written
            text = ann if isinstance(ann, str) else repr(ann)
            if text.startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, FieldSpec):
                spec = value
            elif type(value) is list:
                if value:
                    raise TypeError(f"{cls.__name__}.{name}: a list default must be empty")
                spec = FieldSpec(factory=list)
            elif isinstance(value, dict | set):
                raise TypeError(f"{cls.__name__}.{name}: a mutable default; use "
                                "field(default_factory=…)")
            else:
                spec = FieldSpec(value)
            spec.name = name
            spec.is_list = text.startswith("list[")
            if value is not _MISSING:
                delattr(cls, name)  # the default lives in the spec, as pydantic keeps it
            fields[name] = spec
        cls.model_fields = fields
        cls._dumped = tuple(n for n, f in fields.items() if not f.exclude)
        cls._frozen = frozen or cls._frozen
        if "__init__" in cls.__dict__:
            raise TypeError(f"{cls.__name__} defines __init__; its fields make it")
        setattr(cls, "__init__", Data._first_init)  # noqa: B010 (mypy: not a method assignment)
        if cls._frozen:
            setattr(cls, "__hash__", Data._frozen_hash)  # noqa: B010

    def _first_init(self, **kw: Any) -> None:
        """The first construction of a class: generate its `__init__`, then run it."""
        cls = type(self)
        init = _make_init(cls)
        setattr(cls, "__init__", init)  # noqa: B010
        init(self, **kw)

    # ---- what pydantic's BaseModel gave ---------------------------------------------------

    def model_dump(self, *, mode: Literal["python", "json"] = "python",
                   exclude: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
        """The fields (but those declared `exclude=True`, and `exclude`) as plain data."""
        js = mode == "json"
        d = self.__dict__
        return {n: _dump(d[n], js) for n in type(self)._dumped
                if exclude is None or n not in exclude}

    def model_copy(self, *, update: dict[str, Any] | None = None,
                   deep: bool = False) -> Any:
        """A copy (sharing the field values, or `deep`), with the fields of `update` set."""
        new = copy.deepcopy(self) if deep else copy.copy(self)
        if update:
            for k in update:
                if k not in type(self).model_fields:
                    raise TypeError(f"{type(self).__name__} has no field {k!r}")
            new.__dict__.update(update)
        return new

    def __copy__(self) -> Any:
        new = object.__new__(type(self))
        object.__setattr__(new, "__dict__", dict(self.__dict__))
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = object.__new__(type(self))
        memo[id(self)] = new
        object.__setattr__(new, "__dict__", copy.deepcopy(self.__dict__, memo))
        return new

    def __repr__(self) -> str:
        fields = type(self).model_fields
        d = self.__dict__
        return f"{type(self).__name__}(" + ", ".join(
            f"{n}={d[n]!r}" for n, f in fields.items() if f.repr) + ")"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def _frozen_hash(self) -> int:
        return hash((type(self), *self.__dict__.values()))

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise TypeError(f"{type(self).__name__} is frozen: `{name}` cannot be set")
        if name not in type(self).model_fields:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        self.__dict__[name] = value

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"{type(self).__name__}: a field cannot be deleted")


def _dump(v: Any, js: bool) -> Any:
    if isinstance(v, Data):
        return v.model_dump(mode="json" if js else "python")
    t = type(v)
    if t is list:
        return [_dump(x, js) for x in v]
    if t is tuple:
        return [_dump(x, js) for x in v] if js else tuple(_dump(x, js) for x in v)
    if t is dict:
        return {_dump(k, js): _dump(x, js) for k, x in v.items()}
    if js:
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, dt.date):
            return v.isoformat()
    return v


def _make_init(cls: type[Data]) -> Any:
    """`cls.__init__`, generated from its fields: keyword-only parameters, defaults from the
    field specs (names in the namespace, never values in the source), and the instance's
    `__dict__` set at once."""
    params: list[str] = []
    items: list[str] = []
    ns: dict[str, Any] = {"_set": object.__setattr__, "_F": _MISSING, "_type": type,
                          "_list": list, "_tuple": tuple}  # a field may be named `type`
    for i, (name, f) in enumerate(cls.model_fields.items()):
        # a tuple given for a list field is copied into a list
        given = f"(_list({name}) if _type({name}) is _tuple else {name})" if f.is_list \
            else name
        if f.factory is not None:
            ns[f"_f{i}"] = f.factory
            params.append(f"{name}=_F")
            value = f"_f{i}() if {name} is _F else {given}"
        elif f.default is not _MISSING:
            ns[f"_d{i}"] = f.default
            params.append(f"{name}=_d{i}")
            value = given
        else:
            params.append(name)
            value = given
        items.append(f"{name!r}: {value}")
    src = (f"def __init__(self, *, {', '.join(params)}):\n"
           f"    _set(self, '__dict__', {{{', '.join(items)}}})\n") if params else \
        "def __init__(self):\n    _set(self, '__dict__', {})\n"
    exec(compile(src, f"<yakkan datamodel {cls.__name__}.__init__>", "exec"), ns)
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__name__}.__init__"
    return init


class Span(Data, frozen=True):
    """Where a node stands in its source file (1-based lines and columns, in characters)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"
