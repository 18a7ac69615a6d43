from django import template

from recipes.formatting import format_number

register = template.Library()


@register.filter
def number(value):
    """A planned value as the recipe pages and the traveller write it: 1.7, 1000, 1e-07."""
    return format_number(value)
