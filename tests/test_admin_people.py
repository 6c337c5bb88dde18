"""The admin role manages people in Django's admin: adds them and puts them in groups (the roles)."""

from django.contrib.auth.models import Group, User

from tests.conftest import PASSWORD


def change_form(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return data


def test_the_admin_role_opens_people_and_groups_in_the_admin(admin_client_):
    assert admin_client_.get("/admin/auth/user/").status_code == 200
    assert admin_client_.get("/admin/auth/group/").status_code == 200
    assert b"Users" in admin_client_.get("/admin/").content


def test_the_admin_role_adds_a_person_and_gives_them_a_role(admin_client_):
    response = admin_client_.post(
        "/admin/auth/user/add/",
        {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    analyst = Group.objects.get(name="analyst")
    response = admin_client_.post(
        f"/admin/auth/user/{newbie.pk}/change/", change_form(newbie, groups=[analyst.pk])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(newbie.groups.values_list("name", flat=True)) == ["analyst"]


def test_the_admin_role_moves_an_analyst_into_customer_success(admin_client_, analyst):
    cs = Group.objects.get(name="customer_success")
    response = admin_client_.post(
        f"/admin/auth/user/{analyst.pk}/change/", change_form(analyst, groups=[cs.pk])
    )
    assert response.status_code == 302
    assert list(analyst.groups.values_list("name", flat=True)) == ["customer_success"]


def test_an_admin_who_is_not_a_superuser_cannot_make_one(admin_client_, analyst):
    admin_client_.post(f"/admin/auth/user/{analyst.pk}/change/", change_form(analyst, is_superuser="on"))
    analyst.refresh_from_db()
    assert not analyst.is_superuser


def test_the_role_groups_keep_their_names_and_cannot_be_deleted(admin_client_):
    group = Group.objects.get(name="admin")
    page = admin_client_.get(f"/admin/auth/group/{group.pk}/change/").content.decode()
    assert 'name="name"' not in page
    assert admin_client_.get(f"/admin/auth/group/{group.pk}/delete/").status_code == 403


def test_analysts_and_customer_success_cannot_open_people(analyst_client, customer_success):
    assert analyst_client.get("/admin/auth/user/").status_code == 302
    analyst_client.force_login(customer_success)
    assert analyst_client.get("/admin/auth/group/").status_code == 302
