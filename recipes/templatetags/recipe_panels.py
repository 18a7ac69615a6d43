import logging

from django import template
from django.utils.safestring import mark_safe

from recipes.panels import recipe_panels as registered

register = template.Library()
log = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def recipe_panels(context, recipe, version):
    """The HTML of every registered recipe-page panel; one that fails is logged and left out, so
    another app's bug never takes the recipe page down."""
    request = context.get("request")
    parts = []
    for name, panel in registered():
        try:
            html = panel(request, recipe, version)
        except Exception:
            log.exception("recipe panel %s failed for recipe %s", name, recipe.pk)
            continue
        if html:
            parts.append(str(html))
    return mark_safe("".join(parts))  # noqa: S308 — the panels render their own escaped templates
