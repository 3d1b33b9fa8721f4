"""`ArchConfig`, the base of each architecture's hyperparameters (torch-free): a typed settings
table (rnn_tui/settings.py) with the facts the rest of rnn-tui reads from the architecture itself
(its doc, what data it takes, its size field, the hyperparameters a run's row shows, its label).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from rnn_tui.settings import Float, Int, Section  # noqa: F401 - the architectures' field types, from here

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
    # The hyperparameter that sets its size: the memory estimate's key to lower (rnn_tui/budget.py)
    # and the number in its label.
    size_field: ClassVar[str] = "hidden_size"
    # The few hyperparameters a run's row shows (`rnn-tui runs`, the Runs screen), in this order.
    shown: ClassVar[tuple[str, ...]] = ("hidden_size",)

    arch: str

    def label(self) -> str:
        """Its name and size in a few characters, for plot legends: 'lstm 64', 'ngrc delays=2'."""
        size = getattr(self, self.size_field)
        return f"{self.arch} {size}" if self.size_field == "hidden_size" else f"{self.arch} {self.size_field}={size}"

    def shown_params(self) -> str:
        """The hyperparameters a run's row shows: 'hidden_size=64 num_layers=1'."""
        return " ".join(f"{name}={getattr(self, name)}" for name in self.shown)

    def budget_key(self, part: str) -> str | None:
        """The setting to lower when `part` of the memory estimate ("model", "fit", ...) weighs most;
        None where it is the general one (budget.FIELD)."""
        return f"model.{self.size_field}" if part == "model" else None

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
