"""What the shared cache needs to store callback answers without pickles: Dash components,
Plotly figures and `no_update` (data_layer/cache_codec.py handles the rest)."""
from __future__ import annotations

import json
import sys
from typing import Any

import dash
import plotly.graph_objects as go
from dash.development.base_component import Component, ComponentRegistry
from plotly.io.json import to_json_plotly

from data_layer.cache_codec import Extension, Sent

NO_UPDATE = type(dash.no_update)


def _component(c: Component, enc) -> dict[str, Any]:
    cls = type(c)
    return {"module": cls.__module__, "name": cls.__name__, "props": enc(c.to_plotly_json()["props"])}


def _uncomponent(d: dict[str, Any], dec) -> dict[str, Any]:
    """A component of a registered Dash component library already imported (none is imported
    here), in the JSON form Dash sends (`Component.to_plotly_json()`: props, type, namespace)
    rather than rebuilt: building a component checks every property again, which cost about
    as much as the rest of reading an answer. Cached components only ever go back to Dash (a
    callback's answer, a page's layout), which sends this form unchanged."""
    module = d["module"]
    if module.split(".")[0] not in ComponentRegistry.registry or module not in sys.modules:
        raise ValueError(f"{module} is not a Dash component library in use")
    cls = getattr(sys.modules[module], d["name"])
    if not (isinstance(cls, type) and issubclass(cls, Component)):
        raise ValueError(f"{module}.{d['name']} is not a Dash component")
    return {"props": dec(d["props"]), "type": cls._type, "namespace": cls._namespace}


def dash_values() -> list[Extension]:
    return [
        Extension("component", lambda v: isinstance(v, Component), _component, _uncomponent),
        # a figure comes back as its JSON form (a dict), which Dash sends unchanged: rebuilding a
        # go.Figure would validate it again and put back a template the figure had removed
        Extension("figure", lambda v: isinstance(v, go.Figure), lambda v, enc: enc(v.to_plotly_json()),
                  lambda d, dec: dec(d)),
        Extension("no_update", lambda v: isinstance(v, NO_UPDATE), lambda v, enc: None, lambda d, dec: dash.no_update),
    ]


def sent(value: Any) -> Any:
    """A callback's answer (or a page's layout) to cache, as the JSON text Dash will send: kept as
    it is and read back as plain JSON values, with nothing to rebuild or decode. An answer
    holding `no_update` (which has no JSON form), or one Plotly's encoder refuses, is cached as
    itself."""
    if isinstance(value, NO_UPDATE) or (isinstance(value, list | tuple) and any(isinstance(v, NO_UPDATE) for v in value)):
        return value
    try:
        return Sent(to_json_plotly(value))
    except (TypeError, ValueError):
        return value


def unsent(got: Any) -> Any:
    """What `sent` kept, as Dash takes it: the JSON values of a Sent text (a cache in this
    process gives back the text), anything else as it is."""
    return json.loads(got) if isinstance(got, Sent) else got
