"""Formatting filters of the status pages: the same formats as the tables (config.pages)."""

from django import template
from django.utils.html import format_html

from config import pages as views

register = template.Library()
register.filter("money", views.money)
register.filter("yi", views.yi)
register.filter("pct", views.pct)
register.filter("signed", views.signed)
register.filter("change", views.change)
register.filter("amount", views.amount)
register.filter("yi2", views.yi2)


@register.simple_tag
def figure(href, value, text=None, sum_of=""):
    """A figure linking to the list of its rows: `<a href data-figure>`; the text defaults to the count."""
    if text is None:
        text = "—" if value is None else f"{value:,}"
    extra = format_html(' data-sum-of="{}"', sum_of) if sum_of else ""
    return format_html('<a class="figure" href="{}" data-figure="{}"{}>{}</a>', href, views.figure_value(value),
                       extra, text)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
