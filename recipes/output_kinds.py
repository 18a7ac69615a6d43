"""What a recipe's ``output_kind`` may say, provided from above (the layers rule).

The sample kinds live in ``samples`` (one layer up); samples registers its choices from its
AppConfig.ready(), and the recipe form offers them. Without a registration the field is free text.
"""

from __future__ import annotations

_CHOICES: list[tuple[str, str]] = []


def register_output_kinds(choices) -> None:
    global _CHOICES
    _CHOICES = [(str(value), str(label)) for value, label in choices]


def output_kind_choices() -> list[tuple[str, str]]:
    return list(_CHOICES)
