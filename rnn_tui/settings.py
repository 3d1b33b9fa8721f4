"""Typed settings, the base of every table of them (torch-free): the configuration's sections
(rnn_tui/config.py), each architecture's hyperparameters (models/hparams.py) and each system's
parameters (systems/base.py). A frozen pydantic model that rejects unknown keys and non-finite
numbers, number types that refuse true/false, and a field's bounds and choices as the panel and
the error messages show them.

Every field is declared with `Field(default, description=..., ge/gt/le/lt=...)`: the description
is the field's documentation (the app's tooltips), the bounds are checked by pydantic and shown in
errors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError


def _not_bool(kind: str, words: str):
    """true/false is not a number here (pydantic's lax mode would read it as 1/0)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(kind, f"Input should be {words}")
        return value

    return BeforeValidator(check)


# The number types of settings: lax (a string "64" from the form is 64), but a bool is refused.
Int = Annotated[int, _not_bool("int_type", "a valid integer")]
Float = Annotated[float, _not_bool("float_type", "a valid number")]


class Section(BaseModel):
    """A frozen table of settings: unknown keys, NaN and inf are errors; strings are converted
    (the app's form passes the text of its inputs). Number fields use `Int` and `Float`."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def bounds(info: FieldInfo) -> tuple[Any, bool, Any, bool]:
    """(lower, lower included, upper, upper included) of a field; None where unbounded."""
    lo = hi = None
    lo_in = hi_in = False
    for m in info.metadata:
        for attr, is_lo, incl in (("ge", True, True), ("gt", True, False), ("le", False, True), ("lt", False, False)):
            v = getattr(m, attr, None)
            if v is not None:
                if is_lo:
                    lo, lo_in = v, incl
                else:
                    hi, hi_in = v, incl
    return lo, lo_in, hi, hi_in


def bounds_text(info: FieldInfo) -> str:
    """'>= 1', '> 0', 'in [0, 1)', ... or '' for an unbounded field."""
    lo, lo_in, hi, hi_in = bounds(info)
    if lo is not None and hi is not None:
        return f"in {'[' if lo_in else '('}{_bound(lo)}, {_bound(hi)}{']' if hi_in else ')'}"
    if lo is not None:
        return f"{'>=' if lo_in else '>'} {_bound(lo)}"
    if hi is not None:
        return f"{'<=' if hi_in else '<'} {_bound(hi)}"
    return ""


def _bound(v) -> str:
    """An integer bound in full (4294967295), a float one short (1e+06)."""
    return str(v) if isinstance(v, int) else f"{v:g}"


def choices(info: FieldInfo) -> tuple[Any, ...]:
    """The allowed values of a Literal field, else ()."""
    return get_args(info.annotation) if get_origin(info.annotation) is Literal else ()


def got(value: Any) -> str:
    """A value as shown after 'got': numbers plainly (strings from the form unquoted if numeric)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        try:
            float(value)
            return value
        except ValueError:
            pass
    return repr(value)
