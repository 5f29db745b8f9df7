"""Shared pytest configuration."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "integration: end-to-end test that runs dbt on a fixture (tens of seconds)"
    )
    config.addinivalue_line("markers", "slow: a large input (minutes, GBs); still run by `make test` and CI")
