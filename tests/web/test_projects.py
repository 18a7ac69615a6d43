"""Projects in the browser (issue 14, "without the admin"): a lab manager creates a project and
chooses its members; everyone else sees the projects they are in and cannot make one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from samples.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = get_user_model().objects.create_user("lm", password="pw-lm-123", is_staff=True)
    client.force_login(user)
    return user


def test_a_manager_creates_a_project_with_members(client, manager):
    ana = get_user_model().objects.create_user("ana", password="x")
    page = client.get("/samples/projects/new/")
    assert page.status_code == 200
    assert b'name="members"' in page.content
    response = client.post("/samples/projects/new/", {"code": "qd-red", "name": "Red QD LEDs", "description": "",
                                                      "members": [manager.pk, ana.pk]})
    assert response.status_code == 302 and response["Location"] == "/samples/projects/"
    project = Project.objects.get(code="qd-red")
    assert set(project.members.values_list("username", flat=True)) == {"lm", "ana"}
    assert project.history.count() == 1  # audited like every other lab record
    listing = client.get("/samples/projects/").content.decode()
    assert "Red QD LEDs" in listing and "/samples/projects/qd-red/edit/" in listing


def test_editing_changes_members_and_keeps_the_code_unique(client, manager):
    ana = get_user_model().objects.create_user("ana", password="x")
    Project.objects.create(code="taken", name="Old")
    project = Project.objects.create(code="p1", name="One")
    project.members.add(manager, ana)
    response = client.post("/samples/projects/p1/edit/", {"code": "p1", "name": "One, renamed", "members": [ana.pk]})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "One, renamed" and list(project.members.all()) == [ana]
    refused = client.post("/samples/projects/p1/edit/", {"code": "taken", "name": "One", "members": [ana.pk]})
    assert refused.status_code == 200
    assert "already exists" in refused.content.decode()
    assert Project.objects.get(pk=project.pk).code == "p1"


def test_a_member_sees_their_projects_and_cannot_create_one(client):
    user = get_user_model().objects.create_user("bob", password="x")
    mine, other = Project.objects.create(code="mine", name="Mine"), Project.objects.create(code="other", name="Other")
    mine.members.add(user)
    client.force_login(user)
    listing = client.get("/samples/projects/").content.decode()
    assert "Mine" in listing and "Other" not in listing and "New project" not in listing
    assert client.get("/samples/projects/new/").status_code == 403
    assert client.post("/samples/projects/new/", {"code": "x", "name": "X"}).status_code == 403
    assert client.get(f"/samples/projects/{other.code}/edit/").status_code == 403
    assert not Project.objects.filter(code="x").exists()
