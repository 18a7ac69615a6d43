from tests.api.conftest import client_for, world  # noqa: F401 — the API tests' projects, accounts and clients
