"""``ChoiceArch``: the architecture of a product space, one option index per layer."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChoiceArch:
    """An architecture of a product space: one option index per layer (or NB201 edge).

    Immutable and hashable; ``space`` names the (root) space it belongs to, so an architecture
    of one space is never silently taken for one of another.
    """

    space: str
    choices: tuple[int, ...]

    def __post_init__(self):
        if type(self.choices) is not tuple:  # a list or array would make the arch unhashable
            object.__setattr__(self, "choices", tuple(self.choices))
