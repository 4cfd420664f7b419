"""Fixtures for the hostile-input suite (builders live in hostile.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hostile import JsonApi


@pytest.fixture
def json_api() -> Iterator[Callable[[Callable[[int], str]], JsonApi]]:
    started: list[JsonApi] = []

    def start(answer: Callable[[int], str]) -> JsonApi:
        api = JsonApi(answer)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()
