from django.contrib.auth.models import Group


def test_role_groups_exist(db):
    assert Group.objects.filter(name="Sales rep").exists()
