"""One contract suite per port, subclassed for every implementation (see README.md)."""

import pytest

# the contracts live outside test_*.py modules: show their failed asserts in full too
pytest.register_assert_rewrite("tests.contract.sources", "tests.contract.outbox",
                               "tests.contract.digest", "tests.contract.busy",
                               "tests.contract.village", "tests.contract.faults")
