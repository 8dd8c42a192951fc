"""The browser harness of tests/e2e, for the hostile-input browser tests too."""

from tests.e2e.conftest import *  # noqa: F403
