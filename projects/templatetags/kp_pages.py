"""Formatting filters of the status pages: the same formats as the tables (projects.views)."""

from django import template

from projects import views

register = template.Library()
register.filter("money", views.money)
register.filter("yi", views.yi)
register.filter("pct", views.pct)
register.filter("signed", views.signed)
