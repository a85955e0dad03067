"""Cache values as tagged JSON rather than pickles: whoever can write to a shared cache (Redis)
can make the app read wrong figures, but never run code. Reading builds only plain values,
pandas and numpy data, and the dataclasses, enums and extra types (`Extension`) the app names;
an entry that is anything else (a pickle, say) is a miss.

A non-JSON value is an object {TAG: kind, ...}; DataFrames keep their dtypes, index and
column labels exactly (numeric and datetime columns as their raw bytes), and their `attrs` (what
a query says beside its rows: the cost window it read, the totals of a sensitivity), as Series do."""
from __future__ import annotations

import base64
import contextlib
import contextvars
import dataclasses
import enum
import hashlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson
import pandas as pd

from .tally import add, counting

TAG = "~t"
PREFIX = b"J2"  # marks an entry this codec wrote (and its version: J1 entries kept no frame attrs, so they are misses)
RAW_KINDS = "biufcmM"  # numpy kinds kept as bytes: bool, integers, floats, complex, timedelta, datetime
OWN_PACKAGES = ("data_layer", "appdb", "components", "pages", "shell")  # their dataclasses and enums may be cached


class Extension(NamedTuple):
    """A further type the codec handles: `kind` names it in the JSON; `test(v)` says a value is
    one; `encode(v, enc)` turns it into JSON-able data (`enc` encodes nested values) and
    `decode(data, dec)` back."""

    kind: str
    test: Callable[[Any], bool]
    encode: Callable[[Any, Callable[[Any], Any]], Any]
    decode: Callable[[Any, Callable[[Any], Any]], Any]


class Sent(str):
    """A value already in its JSON text (a callback's answer as Dash sends it): stored as it is,
    read back as the plain JSON values it holds, with nothing to decode."""


TAG_BYTES = b'"' + TAG.encode() + b'"'  # in every tagged value's JSON; an entry without it is plain JSON
SENT = b"="  # after PREFIX: the entry is a Sent text, plain JSON whatever it holds (JSON never starts with "=")


class Unencodable(TypeError):
    """A value of a type the codec does not store (it is then not cached)."""


# the bytes encoded for the cache in this context while `counting_writes` counts them
_WRITTEN: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("hospdash_written", default=None)


def code_stamp() -> str:
    """A digest of the app's own code (every file of OWN_PACKAGES: the queries, the figures, the
    labels): part of every cache key (data_layer/warehouse.Warehouse._key), so that after an
    upgrade the new code never reads what the old one kept in a shared cache (Redis), whose
    entries outlive a restart for up to a day. Taken when this module is imported (about 10 ms),
    so it is the code the process loaded: gunicorn's workers, forked from the master that
    preloaded the app (and forked again when recycled), share the master's, even after new files
    were put on disk beside the running code."""
    return _CODE_STAMP


def code_digest(root: Path, packages: Sequence[str]) -> str:
    """The digest of every file's path and bytes under `root`'s `packages` (no bytecode)."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_CODE_STAMP = code_digest(Path(__file__).resolve().parents[1], OWN_PACKAGES)


def counting_writes() -> contextlib.AbstractContextManager[list[int]]:
    """Within the block, every value this context encodes for the cache adds its bytes to the
    list's one number (the warm-up's measure of what it has put in the cache)."""
    return counting(_WRITTEN)


class Codec:
    """dumps(value) -> bytes and loads(bytes) -> value, the cachelib serializer interface."""

    def __init__(self, extensions: Sequence[Extension] = (), packages: Sequence[str] = OWN_PACKAGES):
        self.extensions = {e.kind: e for e in extensions}
        self.packages = tuple(packages)

    def dumps(self, value: Any) -> bytes:
        if type(value) is Sent:
            text = value.encode()
            orjson.loads(text)  # only JSON text is stored as it is
            out = PREFIX + SENT + text
        else:
            out = PREFIX + json.dumps(self.encode(value), ensure_ascii=False, separators=(",", ":")).encode()
        add(_WRITTEN, len(out))
        return out

    def loads(self, raw: bytes | None) -> Any:
        """The value, or None (a miss) for an entry this codec did not write or cannot read."""
        if raw is None or not raw.startswith(PREFIX):
            return None
        body = raw[len(PREFIX):]
        try:
            if body.startswith(SENT):  # a Sent text: its values as they are, even a key that looks like a tag
                # orjson reads it twice as fast as json, and a warm request reads one. Only Sent texts: they
                # are the strict JSON Plotly writes for the browser, whereas a tagged value may hold NaN
                # (which orjson refuses) or an integer beyond 64 bits (which orjson reads as a float)
                return orjson.loads(body[len(SENT):])
            data = json.loads(body)
            # plain JSON (no tagged value anywhere: names, numbers) is the value itself
            return data if TAG_BYTES not in body else self.decode(data)
        except Exception:  # noqa: BLE001 - a damaged or forged entry is a miss
            return None

    def encode(self, v: Any) -> Any:  # noqa: C901 - one dispatch over the types, in order
        t = type(v)
        if v is None or t in (bool, int, str):
            return v
        if t is float:
            return v if math.isfinite(v) else {TAG: "float", "v": repr(v)}
        if t is list:
            return [self.encode(x) for x in v]
        if t is dict:
            if all(type(k) is str for k in v) and TAG not in v:
                return {k: self.encode(x) for k, x in v.items()}
            return {TAG: "dict", "v": [[self.encode(k), self.encode(x)] for k, x in v.items()]}
        for ext in self.extensions.values():
            if ext.test(v):
                return {TAG: ext.kind, "v": ext.encode(v, self.encode)}
        for kind, encoder in _ENCODERS:
            if isinstance(v, kind) and (kind is not tuple or t is tuple):
                return encoder(self, v)
        if dataclasses.is_dataclass(v) and not isinstance(v, type) and self._own(t):
            return {TAG: "dc", "cls": _path(t), "v": {f.name: self.encode(getattr(v, f.name))
                                                      for f in dataclasses.fields(v)}}
        if isinstance(v, enum.Enum) and self._own(t):
            return {TAG: "enum", "cls": _path(t), "v": self.encode(v.value)}
        if isinstance(v, str):  # a str subclass, such as SQLAlchemy's quoted_name for a column label
            return str.__str__(v)
        raise Unencodable(f"cannot cache a {t.__module__}.{t.__qualname__}")

    def decode(self, d: Any) -> Any:
        if isinstance(d, list):
            return [self.decode(x) for x in d]
        if not isinstance(d, dict):
            return d
        kind = d.get(TAG)
        if kind is None:
            return {k: self.decode(x) for k, x in d.items()}
        if kind in self.extensions:
            return self.extensions[kind].decode(d["v"], self.decode)
        if kind in ("dc", "enum"):
            cls = self._own_class(d["cls"])
            if kind == "enum" and issubclass(cls, enum.Enum):
                return cls(self.decode(d["v"]))
            if kind == "dc" and dataclasses.is_dataclass(cls):
                return _dataclass(cls, {k: self.decode(x) for k, x in d["v"].items()})
            raise ValueError(f"{d['cls']} is not a {kind}")
        return _DECODERS[kind](self, d)

    def _own(self, cls: type) -> bool:
        return cls.__module__.split(".")[0] in self.packages

    def _own_class(self, path: str) -> type:
        """A class of the app's own, already imported (nothing is imported to read an entry)."""
        module, _, name = path.partition(":")
        if module.split(".")[0] not in self.packages or module not in sys.modules:
            raise ValueError(f"{path} is not a class the cache may build")
        obj: Any = sys.modules[module]
        for part in name.split("."):
            if not part.isidentifier() or part.startswith("_"):
                raise ValueError(f"{path} is not a class the cache may build")
            obj = getattr(obj, part, None)
        # the class must be defined where the path says (not another package's class reached
        # through a module attribute, such as `data_layer.engine:subprocess.Popen`)
        if not isinstance(obj, type) or _path(obj) != path or not self._own(obj):
            raise ValueError(f"{path} is not a class the cache may build")
        return obj


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _dataclass(cls: type, values: dict[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    obj = cls(**{k: v for k, v in values.items() if fields[k].init})
    for k, v in values.items():
        if not fields[k].init:
            object.__setattr__(obj, k, v)
    return obj


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _array(c: Codec, values: Any) -> dict[str, Any]:
    """A column, Series or Index's values with their dtype."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in RAW_KINDS:
        return {"np": dtype.str, "b": _b64(np.ascontiguousarray(np.asarray(values)).tobytes())}
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(values)
        return {"cat": _index(c, cat.categories), "codes": _array(c, cat.codes), "ordered": bool(cat.ordered)}
    if str(dtype) == "object" and set(map(type, values)) <= {date, type(None)}:  # a DATE column: one tag, not one a cell
        return {"dtype": "object", "dates": [None if x is None else x.isoformat() for x in values]}
    return {"dtype": str(dtype), "v": [c.encode(x) for x in values]}


def _unarray(c: Codec, d: dict[str, Any]) -> Any:
    if "np" in d:
        dtype = np.dtype(d["np"])
        if dtype.kind not in RAW_KINDS:
            raise ValueError(f"dtype {d['np']} is not stored as bytes")
        return np.frombuffer(base64.b64decode(d["b"]), dtype=dtype).copy()
    if "cat" in d:
        return pd.Categorical.from_codes(_unarray(c, d["codes"]), categories=_unindex(c, d["cat"]),
                                         ordered=d["ordered"])
    values = ([None if x is None else date.fromisoformat(x) for x in d["dates"]] if "dates" in d
              else [c.decode(x) for x in d["v"]])
    if d["dtype"] == "object":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return pd.array(values, dtype=pd.api.types.pandas_dtype(d["dtype"]))


def _index(c: Codec, idx: pd.Index) -> dict[str, Any]:
    if isinstance(idx, pd.RangeIndex):
        return {"range": [idx.start, idx.stop, idx.step], "name": c.encode(idx.name)}
    if isinstance(idx, pd.MultiIndex):
        return {"levels": [_index(c, idx.get_level_values(i)) for i in range(idx.nlevels)]}
    return {"values": _array(c, idx), "name": c.encode(idx.name)}


def _unindex(c: Codec, d: dict[str, Any]) -> pd.Index:
    if "range" in d:
        return pd.RangeIndex(*d["range"], name=c.decode(d["name"]))
    if "levels" in d:
        return pd.MultiIndex.from_arrays([_unindex(c, x) for x in d["levels"]])
    values = _unarray(c, d["values"])
    return pd.Index(values, name=c.decode(d["name"]), dtype=values.dtype, copy=False)


def _frame(c: Codec, df: pd.DataFrame) -> dict[str, Any]:
    out = {TAG: "df", "index": _index(c, df.index), "columns": _index(c, df.columns),
           "data": [_array(c, df.iloc[:, i]) for i in range(df.shape[1])]}
    return _with_attrs(c, df, out)


def _with_attrs(c: Codec, obj: pd.DataFrame | pd.Series, out: dict[str, Any]) -> dict[str, Any]:
    """`out` with the frame's or series' attrs (encoded as any value), when it has any."""
    if obj.attrs:
        out["attrs"] = c.encode(dict(obj.attrs))
    return out


def _attrs(c: Codec, obj: pd.DataFrame | pd.Series, d: dict[str, Any]) -> Any:
    if "attrs" in d:
        obj.attrs = c.decode(d["attrs"])
    return obj


def _unframe(c: Codec, d: dict[str, Any]) -> pd.DataFrame:
    index, columns = _unindex(c, d["index"]), _unindex(c, d["columns"])
    arrays = [_unarray(c, x) for x in d["data"]]
    # from the arrays by position, each keeping its dtype (an object column of text stays object):
    # a third of what joining them as Series costs
    df = pd.DataFrame(dict(enumerate(arrays)), copy=False) if arrays else pd.DataFrame(index=pd.RangeIndex(len(index)))
    df.index, df.columns = index, columns
    return _attrs(c, df, d)


def _series(c: Codec, s: pd.Series) -> dict[str, Any]:
    return _with_attrs(c, s, {TAG: "series", "index": _index(c, s.index), "name": c.encode(s.name), "v": _array(c, s)})


def _unseries(c: Codec, d: dict[str, Any]) -> pd.Series:
    values = _unarray(c, d["v"])
    s = pd.Series(values, index=_unindex(c, d["index"]), name=c.decode(d["name"]), dtype=values.dtype, copy=False)
    return _attrs(c, s, d)


def _timestamp(_c: Codec, v: pd.Timestamp) -> dict[str, Any]:
    return {TAG: "ts", "v": v.isoformat(), "unit": v.unit, "tz": str(v.tz) if v.tz else None}


def _untimestamp(_c: Codec, d: dict[str, Any]) -> pd.Timestamp:
    ts = pd.Timestamp(d["v"]).as_unit(d["unit"])
    return ts.tz_convert(d["tz"]) if d["tz"] else ts


_ENCODERS: list[tuple[Any, Callable[[Codec, Any], Any]]] = [  # subclasses before their bases
    (pd.DataFrame, _frame),
    (pd.Series, _series),
    (pd.Index, lambda c, v: {TAG: "index", "v": _index(c, v)}),
    (pd.Timestamp, _timestamp),
    (pd.Timedelta, lambda c, v: {TAG: "ptd", "v": int(v.value), "unit": v.unit}),
    (type(pd.NaT), lambda c, v: {TAG: "nat"}),
    (type(pd.NA), lambda c, v: {TAG: "na"}),
    (np.ndarray, lambda c, v: {TAG: "nd", "shape": list(v.shape), "v": _array(c, v.reshape(-1))}),
    (np.generic, lambda c, v: {TAG: "npv", "v": _array(c, np.asarray([v]))}),
    (tuple, lambda c, v: {TAG: "tuple", "v": [c.encode(x) for x in v]}),
    (frozenset, lambda c, v: {TAG: "frozenset", "v": [c.encode(x) for x in v]}),
    (set, lambda c, v: {TAG: "set", "v": [c.encode(x) for x in v]}),
    (datetime, lambda c, v: {TAG: "datetime", "v": v.isoformat()}),
    (date, lambda c, v: {TAG: "date", "v": v.isoformat()}),
    (time, lambda c, v: {TAG: "time", "v": v.isoformat()}),
    (timedelta, lambda c, v: {TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]}),
    (Decimal, lambda c, v: {TAG: "decimal", "v": str(v)}),
    (bytes, lambda c, v: {TAG: "bytes", "v": _b64(v)}),
]

_DECODERS: dict[str, Callable[[Codec, dict[str, Any]], Any]] = {
    "float": lambda c, d: float(d["v"]),
    "dict": lambda c, d: {c.decode(k): c.decode(x) for k, x in d["v"]},
    "df": _unframe,
    "series": _unseries,
    "index": lambda c, d: _unindex(c, d["v"]),
    "ts": _untimestamp,
    "ptd": lambda c, d: pd.Timedelta(d["v"], unit="ns").as_unit(d["unit"]),
    "nat": lambda c, d: pd.NaT,
    "na": lambda c, d: pd.NA,
    "nd": lambda c, d: _unarray(c, d["v"]).reshape(d["shape"]),
    "npv": lambda c, d: _unarray(c, d["v"])[0],
    "tuple": lambda c, d: tuple(c.decode(x) for x in d["v"]),
    "frozenset": lambda c, d: frozenset(c.decode(x) for x in d["v"]),
    "set": lambda c, d: {c.decode(x) for x in d["v"]},
    "datetime": lambda c, d: datetime.fromisoformat(d["v"]),
    "date": lambda c, d: date.fromisoformat(d["v"]),
    "time": lambda c, d: time.fromisoformat(d["v"]),
    "timedelta": lambda c, d: timedelta(*d["v"]),
    "decimal": lambda c, d: Decimal(d["v"]),
    "bytes": lambda c, d: base64.b64decode(d["v"]),
}
