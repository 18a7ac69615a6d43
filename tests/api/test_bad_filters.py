"""Filter values the database cannot store are a 400 with the one error shape, never a 500
(found by schemathesis on PostgreSQL: a +19:20 time-zone offset)."""

import pytest

from .conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["1146-02-05T06:17:48+19:20", "0999-01-01T00:00:00Z"])
def test_out_of_range_datetime_filter_is_a_400(world, client_for, value):
    response = client_for(world.alice).get("/api/v1/measurements/", {"uploaded_after": value})
    assert response.status_code == 400
    error = error_of(response)
    assert "uploaded_after" in error["fields"]


def test_a_sane_datetime_filter_still_filters(world, client_for):
    response = client_for(world.alice).get("/api/v1/measurements/", {"uploaded_after": "2000-01-01T00:00:00+02:00"})
    assert response.status_code == 200 and response.json()["count"] >= 1
