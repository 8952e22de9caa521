from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-findings", action="store_true",
                     help="rewrite the '# expect:' headers of validation cases")
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite the golden compiled trees")


@pytest.fixture
def regen_findings(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-findings"))


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))
