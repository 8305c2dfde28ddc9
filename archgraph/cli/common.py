"""What the sub-commands share: the help formatter, spaces by name or module path, human units,
``KEY=VALUE`` options, and output as readable tables or JSON."""
from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys

import yaml


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``--help`` lists every optional option with its default ("not set" for ``None``);
    required ones say so; descriptions keep their line breaks."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        if not action.option_strings or action.default is argparse.SUPPRESS:
            return text
        if action.required:
            return f"{text} (required)"
        if "default" in text:  # the help states it in its own words
            return text
        default = action.default
        shown = ("not set" if default is None else "off" if default is False
                 else "none" if default == [] else "%(default)s")
        return f"{text} (default: {shown})"


def add_command(sub, name: str, help: str, description: str | None = None):
    """A sub-command parser with :class:`HelpFormatter`."""
    return sub.add_parser(name, help=help, description=description or help,
                          formatter_class=HelpFormatter)


def add_json(p) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def parse_options(pairs: list[str], flag: str = "--option") -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values as YAML scalars)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"The '{flag}' argument must be KEY=VALUE. Got {pair!r} instead.")
        out[key] = yaml.safe_load(value) if value else None
    return out


def resolve_space(text: str):
    """A registered space by name (``nasbench201``) or a space made by the code of a module
    the user names (``mypkg.spaces:mine``: an attribute that is a SearchSpace or a
    zero-argument callable returning one; registering it with ``register_search_space``
    makes its files loadable by name)."""
    from archgraph.spaces import SearchSpace, get_search_space

    if ":" not in text:
        return get_search_space(text)
    module_name, _, attr = text.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"The '--space' argument {text!r} names the module {module_name!r}, "
                         f"which cannot be imported: {exc}") from exc
    if not hasattr(module, attr):
        raise ValueError(f"The '--space' argument {text!r}: module {module_name!r} has no "
                         f"attribute {attr!r}.")
    obj = getattr(module, attr)
    space = obj if isinstance(obj, SearchSpace) else obj() if callable(obj) else obj
    if not isinstance(space, SearchSpace):
        raise ValueError(f"The '--space' argument {text!r} must name a SearchSpace or a "
                         f"function returning one. Got {type(space).__name__}.")
    return space


_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_NUMBER = r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"


def parse_count(text: str, flag: str) -> float:
    """``"400M"`` -> 4e8, ``"3.5M"`` -> 3.5e6, ``"2G"``, ``"600K"``, ``"1e8"``; not negative."""
    m = re.fullmatch(_NUMBER + r"\s*([kKMGT]?)", text.strip())
    if not m:
        raise ValueError(f"The '{flag}' argument must be a number with an optional K/M/G/T "
                         f"suffix (e.g. 400M, 3.5M). Got {text!r} instead.")
    value = float(m.group(1)) * _SUFFIX[m.group(2)]
    return _non_negative(value, flag, text)


def parse_ms(text: str, flag: str) -> float:
    """A latency in milliseconds: ``"80ms"``, ``"0.08s"``, ``"500us"``, or a plain number of
    ms."""
    m = re.fullmatch(_NUMBER + r"\s*(ms|s|us|)", text.strip())
    if not m:
        raise ValueError(f"The '{flag}' argument must be a duration such as 80ms, 0.08s or "
                         f"500us. Got {text!r} instead.")
    value = float(m.group(1)) * {"ms": 1.0, "": 1.0, "s": 1e3, "us": 1e-3}[m.group(2)]
    return _non_negative(value, flag, text)


def parse_percent(text: str, flag: str) -> float:
    """An accuracy in percent: ``"93"`` or ``"93%"``; a fraction (``0.93``) is refused."""
    m = re.fullmatch(_NUMBER + r"\s*%?", text.strip())
    if not m:
        raise ValueError(f"The '{flag}' argument must be a percentage such as 93 or 93%. Got "
                         f"{text!r} instead.")
    value = float(m.group(1))
    if not 1 < value <= 100 and value != 0:
        raise ValueError(f"The '{flag}' argument is in percent (0-100], e.g. 93 for 93%. "
                         f"Got {text!r} instead.")
    return value


def _non_negative(value: float, flag: str, text: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"The '{flag}' argument must be a finite number >= 0. Got {text!r} "
                         f"instead.")
    return value


def human(value: float) -> str:
    """``4.2e8`` -> ``'420M'``."""
    if not math.isfinite(value):
        return str(value)
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.4g}"


def show_frame(frame, as_json: bool, title: str | None = None, hide=()) -> None:
    """Print a result table: JSON records (every column), or aligned columns with FLOPs and
    parameter counts in K/M/G and the ``hide`` columns (a table's per-layer choices, which
    the ``arch`` string spells out) left out."""
    if as_json:
        print(frame.to_json(orient="records"))
        return
    if title:
        print(title)
    if not len(frame):
        print("(no rows)")
        return
    out = frame.drop(columns=[c for c in hide if c in frame.columns and "arch" in frame.columns])
    for column in out.columns:
        if ("flops" in column or "params" in column) and out[column].dtype.kind in "iuf":
            out[column] = [human(v) for v in out[column].to_numpy(dtype=float)]
    print(out.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


def show_dict(data: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data))
        return
    width = max(map(len, data), default=0)
    for key, value in data.items():
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {text}")


def progress_enabled(args) -> bool:
    """Progress bars unless ``--quiet`` or ``--json`` (machine output stays clean)."""
    return not (getattr(args, "quiet", False) or getattr(args, "json", False)) and \
        sys.stderr is not None
