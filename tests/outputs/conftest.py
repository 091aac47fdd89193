"""The pages' small city (tests/pages/conftest.py) for the rankings and the bulletins."""

from tests.pages.conftest import city  # noqa: F401
