"""Formatting filters of the status pages: the same formats as the tables (config.pages)."""

from django import template

from config import pages as views

register = template.Library()
register.filter("money", views.money)
register.filter("yi", views.yi)
register.filter("pct", views.pct)
register.filter("signed", views.signed)
