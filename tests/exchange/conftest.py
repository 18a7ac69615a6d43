from tests.api.conftest import client_for, error_of, world  # noqa: F401 - the API suite's two-project world
