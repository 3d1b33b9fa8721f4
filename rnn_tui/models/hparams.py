"""The base of every configuration table (torch-free): a frozen pydantic model that rejects unknown
keys and non-finite numbers, and `ArchConfig`, the base of each architecture's hyperparameters.

Every field is declared with `Field(default, description=..., ge/gt/le/lt=...)`: the description
is the field's documentation (the app's tooltips), the bounds are checked here and shown in errors.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict
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

RIDGE_MAX = 1e6


def _ridge(value: Any) -> Any:
    """A closed-form readout's ridge: a number in [0, RIDGE_MAX], or "auto" (chosen on the validation split)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    number = None
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None or not (0 <= number <= RIDGE_MAX):  # NaN fails too
        raise PydanticCustomError("value_error", "{error}", {"error": f'must be a number in [0, {RIDGE_MAX:g}] or "auto"'})
    return number


# The ridge of a closed-form readout (ESN, NG-RC): a float, or "auto" (the ridge path on validation).
Ridge = Annotated[Union[float, Literal["auto"]], BeforeValidator(_ridge)]


class Section(BaseModel):
    """A frozen table of settings: unknown keys, NaN and inf are errors; strings are converted
    (the app's form passes the text of its inputs). Number fields use `Int` and `Float`."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ArchConfig(Section):
    """One architecture's hyperparameters. A subclass fixes `arch` to a Literal (the tag of the
    union in config.Config.model), declares its fields, and sets the class-level facts below; its
    module (a package under rnn_tui.models) has `build(spec, cfg) -> Forecaster`."""

    doc: ClassVar[str] = ""  # one line for lists and the UI
    supports_field: ClassVar[bool] = False  # can take a 1-D field (KdV)
    field_only: ClassVar[bool] = False  # only makes sense on a field
    # K copies can train as one batched model (train.ensemble > 1): its package has `stack(spec, cfg,
    # members)` returning a models/stacked.py StackedForecaster.
    stackable: ClassVar[bool] = False
    # Its readout is solved in closed form (ESN, NG-RC): no epochs, batches, learning rate or optimiser.
    closed_form: ClassVar[bool] = False
    applies: ClassVar[tuple[str, ...]] = ()  # the hyperparameters it takes (its fields but arch); set below

    arch: str

    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        """(learned or stored values of the model, values kept for one training batch's backward
        pass): the model's part of the memory estimate made before anything is allocated
        (rnn_tui/budget.py). An estimate to within a small factor, not an account."""
        raise NotImplementedError(f"{type(self).__name__} gives no footprint")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.applies = tuple(name for name in cls.model_fields if name != "arch")


ARCH_DESCRIPTION = "the architecture; the model fields are its hyperparameters"
