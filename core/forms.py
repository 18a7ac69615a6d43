"""Form fields shared by the apps' web forms."""

from __future__ import annotations

from django import forms


class DecimalField(forms.FloatField):
    """A number typed the way the lab types it: "1,5" is 1.5 (never 15, and never silently empty,
    which is what a browser's type=number does with a comma). A text input with a decimal keypad;
    "1.234,5" or "1,2,3" is refused rather than guessed."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip().replace("\u2212", "-").replace(" ", "")
            if text.count(",") == 1 and "." not in text:
                text = text.replace(",", ".")
            elif "," in text:
                raise forms.ValidationError("Write the number with one decimal separator, e.g. 1.5 or 1,5.",
                                            code="invalid")
            value = text
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        for bound in ("min", "max", "step"):
            attrs.pop(bound, None)  # text inputs: the server checks the bounds
        return attrs
