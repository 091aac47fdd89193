"""The pages' small city (tests/pages/conftest.py) for the rankings and the bulletins; published files go to a
temporary media folder."""

import pytest

from tests.pages.conftest import city  # noqa: F401


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
