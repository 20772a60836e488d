"""The admin pages: admins only; agencies and users created, edited and (de)activated with clear
errors and no silent overwrite; the policies in force; routing rules replaced only by a valid
upload, atomically and with a backup."""

from __future__ import annotations

import logging
import re
from io import BytesIO
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline import create_app
from hotline.domain.errors import ValidationError
from hotline.models import Agency, User
from hotline.services import directory
from hotline.services.context import SYSTEM
from tests.factories import PASSWORD

RULES_V1 = """\
version: 1
city: 测试市
lines: {"110": center, "119": center, "120": center, "122": center}
rules:
  - id: MANHOLE
    description: 井盖
    when: {keywords_any: [井盖]}
    then: {decision: non_police, destination: "12345:housing", deadline_policy: urgent}
default: {decision: review, destination: review}
"""

RULES_V2 = """\
version: 2
city: 测试市
lines: {"110": center, "119": center, "120": center, "122": center}
rules:
  - id: MANHOLE
    description: 井盖
    when: {keywords_any: [井盖]}
    then: {decision: non_police, destination: "12345:housing", deadline_policy: urgent}
  - id: STALLS
    description: 占道经营
    when: {keywords_any: [占道]}
    then: {decision: non_police, destination: "12345:urban"}
default: {decision: review, destination: review}
"""

RULES_BAD = """\
version: 3
city: 测试市
lines: {"110": center}
rules:
  - id: MANHOLE
    when: {keywords_any: [井盖]}
    then: {decision: non_police, destination: "12345:nowhere", deadline_policy: someday}
  - id: STALLS
    whem: {keywords_any: [占道]}
    then: {decision: non_police, destination: "12345:urban"}
"""


@pytest.fixture
def rules_path(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "routing_rules.yaml"
    path.parent.mkdir()
    path.write_text(RULES_V1, encoding="utf-8")
    return path


@pytest.fixture
def app(session_factory, clock, tmp_path, rules_path):
    """The conftest app, with a routing rules file of its own that uploads may replace."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "SESSION_FACTORY": session_factory,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": False,
            "ROUTING_RULES": str(rules_path),
        }
    )


def login(client, username: str, password: str = PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, username
    return client


@pytest.fixture
def admin(app, city):
    city.db.commit()
    return login(app.test_client(), "admin")


def page(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, field: str) -> str | None:
    match = re.search(rf'data-error-for="{field}">([^<]*)<', html)
    return match.group(1) if match else None


def fresh(db, model, **where):
    db.expire_all()
    return db.scalar(sa.select(model).filter_by(**where))


# --- who may enter ----------------------------------------------------------------------


def admin_urls(app, city) -> list[tuple[str, str]]:
    ids = {"agency_id": city.housing.id, "user_id": city.taker.id}
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        urls += [(method, path) for method in sorted(rule.methods & {"GET", "POST"})]
    return urls


def test_every_admin_url_is_refused_to_other_roles(app, city) -> None:
    city.db.commit()
    urls = admin_urls(app, city)
    assert len(urls) >= 12
    for username in ("taker", "boss", "hstaff"):
        client = login(app.test_client(), username)
        for method, url in urls:
            response = client.open(url, method=method, data={"active": "0", "name": "x"})
            assert response.status_code == 403, (username, method, url)
            assert "没有权限" in page(response)
    assert fresh(city.db, Agency, code="housing").is_active
    assert fresh(city.db, User, username="taker").is_active


def test_anonymous_visitors_are_sent_to_log_in(app, city) -> None:
    client = app.test_client()
    for method, url in admin_urls(app, city):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"]


def test_the_admin_link_is_shown_to_admins_only(app, admin, city) -> None:
    assert "系统管理</a>" in page(admin.get("/"))
    other = login(app.test_client(), "boss")
    assert "系统管理</a>" not in page(other.get("/"))


def test_every_admin_page_opens_for_an_admin(app, admin, city) -> None:
    for method, url in admin_urls(app, city):
        if method == "GET":
            response = admin.get(url, follow_redirects=True)
            assert response.status_code == 200, url
            assert 'href="/static/admin.css' in page(response)
            assert response.headers["Cache-Control"] == "no-store"


# --- agencies ---------------------------------------------------------------------------


def new_agency(client, **fields):
    data = {"code": "water", "name": "水务集团", "kind": "utility", "email": "duty@water.example"}
    data.update(fields)
    return client.post("/admin/agencies/new", data=data)


def test_an_agency_is_created_and_listed(admin, city, caplog) -> None:
    caplog.set_level(logging.INFO)
    response = new_agency(admin, parent_id=str(city.street.id), district="东湖区")
    assert response.status_code == 302
    agency = fresh(city.db, Agency, code="water")
    assert agency.name == "水务集团" and agency.parent_id == city.street.id
    assert agency.email == "duty@water.example" and agency.district == "东湖区"
    listing = page(admin.get("/admin/agencies"))
    assert 'data-agency="water"' in listing and "水务集团" in listing
    assert "admin admin: created agency water" in caplog.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": "Water Co"}, "code", "只能由小写字母"),
        ({"code": "housing"}, "code", "已存在"),
        ({"name": "住建局"}, "name", "已存在"),
        ({"name": "  "}, "name", "不能为空"),
        ({"kind": "bank"}, "kind", "无效的取值"),
        ({"email": "not-an-address"}, "email", "电子邮箱格式不正确"),
        ({"contact_phone": "call me"}, "contact_phone", "电话号码格式不正确"),
        ({"parent_id": "abc"}, "parent_id", "无效的选项"),
        ({"parent_id": "99999"}, "parent_id", "未知的上级单位"),
    ],
)
def test_bad_agency_input_is_named_beside_its_field(admin, city, fields, field, message) -> None:
    response = new_agency(admin, **fields)
    assert response.status_code == 422
    error = field_error(page(response), field)
    assert error is not None and message in error, page(response)
    assert fresh(city.db, Agency, name="水务集团") is None
    if "name" not in fields:
        assert 'value="水务集团"' in page(response)  # what was typed stays


def edit_form(client, url: str) -> dict[str, str]:
    html = page(client.get(url))
    values = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html))
    for name in re.findall(r'<select[^>]*name="(\w+)"', html):
        block = re.search(rf'name="{name}".*?</select>', html, re.S).group(0)
        chosen = re.search(r'<option value="([^"]*)" selected', block)
        values[name] = chosen.group(1) if chosen else ""
    values.pop("csrf_token", None)
    return values


def test_an_agency_is_edited_but_keeps_its_code(admin, city, caplog) -> None:
    caplog.set_level(logging.INFO)
    url = f"/admin/agencies/{city.housing.id}/edit"
    form = edit_form(admin, url)
    assert form["code"] == "housing" and form["kind"] == "government" and form["marker"]
    form.update(name="住房和城乡建设局", code="renamed", district="全市", email="zjj@city.example")
    assert admin.post(url, data=form).status_code == 302
    agency = fresh(city.db, Agency, id=city.housing.id)
    assert (agency.code, agency.name, agency.district) == ("housing", "住房和城乡建设局", "全市")
    assert "edited agency housing" in caplog.text and "住房和城乡建设局" in caplog.text


def test_a_stale_agency_form_does_not_overwrite(admin, app, city) -> None:
    url = f"/admin/agencies/{city.housing.id}/edit"
    mine = edit_form(admin, url)
    theirs = edit_form(admin, url)
    theirs["email"] = "first@city.example"
    assert admin.post(url, data=theirs).status_code == 302
    mine["district"] = "东湖区"
    response = admin.post(url, data=mine)
    assert response.status_code == 409
    assert "已被他人修改" in page(response) and 'value="first@city.example"' in page(response)
    agency = fresh(city.db, Agency, id=city.housing.id)
    assert agency.email == "first@city.example" and agency.district is None
    # The form shown with the conflict carries the new marker: submitting it again works.
    again = edit_form(admin, url)
    again["district"] = "东湖区"
    assert admin.post(url, data=again).status_code == 302


def test_an_agency_cannot_become_its_own_ancestor(admin, city) -> None:
    new_agency(admin, code="sub", name="住建局下属", parent_id=str(city.housing.id))
    sub = fresh(city.db, Agency, code="sub")
    url = f"/admin/agencies/{city.housing.id}/edit"
    form = edit_form(admin, url)
    form["parent_id"] = str(sub.id)
    response = admin.post(url, data=form)
    assert response.status_code == 422
    assert "上级单位不能是本单位或其下级单位" in field_error(page(response), "parent_id")


def test_agencies_are_deactivated_and_reactivated_never_deleted(admin, city) -> None:
    url = f"/admin/agencies/{city.street.id}/active"
    assert admin.post(url, data={"active": "0"}).status_code == 302
    assert fresh(city.db, Agency, code="street").is_active is False
    listing = page(admin.get("/admin/agencies"))
    assert re.search(r'data-agency="street" class="inactive"', listing) and "已停用" in listing
    assert admin.post(url, data={"active": "1"}).status_code == 302
    assert fresh(city.db, Agency, code="street").is_active is True


def test_an_agency_the_rules_send_work_to_cannot_be_deactivated(admin, city) -> None:
    response = admin.post(
        f"/admin/agencies/{city.housing.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert "路由规则仍把工单派给该单位（MANHOLE）" in page(response)
    assert fresh(city.db, Agency, code="housing").is_active is True
    center = page(
        admin.post(
            f"/admin/agencies/{city.center.id}/active", data={"active": "0"}, follow_redirects=True
        )
    )
    assert "lines.110" in center


# --- users ------------------------------------------------------------------------------


def new_user(client, **fields):
    data = {
        "username": "hstaff2",
        "display_name": "住建局值班员",
        "role": "agency_staff",
        "agency": "",
        "password": "a long enough password",
        "password_confirm": "a long enough password",
    }
    data.update(fields)
    return client.post("/admin/users/new", data=data)


def test_a_user_is_created_and_can_log_in(app, admin, city, caplog) -> None:
    caplog.set_level(logging.INFO)
    assert new_user(admin, agency=str(city.housing.id)).status_code == 302
    user = fresh(city.db, User, username="hstaff2")
    assert user.role.value == "agency_staff" and user.agency_id == city.housing.id
    login(app.test_client(), "hstaff2", "a long enough password")
    assert "created user hstaff2" in caplog.text and "a long enough password" not in caplog.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "agency", "承办单位人员必须属于一个承办单位"),
        ({"role": "admin", "agency": "HOUSING"}, "agency", "系统管理员不属于任何承办单位"),
        ({"role": "system", "agency": "HOUSING"}, "role", "不能登录"),
        ({"role": "boss", "agency": "HOUSING"}, "role", "无效的取值"),
        ({"username": "taker", "agency": "HOUSING"}, "username", "已存在"),
        ({"username": "Bad Name", "agency": "HOUSING"}, "username", "只能由小写字母"),
        ({"display_name": "", "agency": "HOUSING"}, "display_name", "不能为空"),
        (
            {"password": "short", "password_confirm": "short", "agency": "HOUSING"},
            "password",
            "至少 8 位",
        ),
        ({"password_confirm": "something else", "agency": "HOUSING"}, "password_confirm", "不一致"),
        ({"agency": "99999"}, "agency", "未知的承办单位"),
    ],
)
def test_bad_user_input_is_named_beside_its_field(admin, city, fields, field, message) -> None:
    fields = {k: str(city.housing.id) if v == "HOUSING" else v for k, v in fields.items()}
    response = new_user(admin, **fields)
    assert response.status_code == 422
    error = field_error(page(response), field)
    assert error is not None and message in error, page(response)
    assert fresh(city.db, User, display_name="住建局值班员") is None  # nothing was created


def test_staff_cannot_be_added_to_a_deactivated_agency(admin, city) -> None:
    admin.post(f"/admin/agencies/{city.street.id}/active", data={"active": "0"})
    response = new_user(admin, agency=str(city.street.id))
    assert response.status_code == 422 and "未知的承办单位" in field_error(page(response), "agency")


def test_users_are_listed_and_filtered_by_role_and_agency(admin, city) -> None:
    everyone = page(admin.get("/admin/users"))
    for name in ("taker", "boss", "hstaff", "ustaff", "admin"):
        assert f'data-user="{name}"' in everyone
    staff = page(admin.get("/admin/users?role=agency_staff"))
    assert 'data-user="hstaff"' in staff and 'data-user="boss"' not in staff
    housing = page(admin.get(f"/admin/users?agency={city.housing.id}"))
    assert 'data-user="hstaff"' in housing and 'data-user="ustaff"' not in housing
    assert admin.get("/admin/users?role=boss").status_code == 400
    assert admin.get("/admin/users?agency=x").status_code == 400


def test_role_agency_and_name_are_edited(admin, city) -> None:
    url = f"/admin/users/{city.housing_staff.id}/edit"
    form = edit_form(admin, url)
    assert form["role"] == "agency_staff" and form["agency"] == str(city.housing.id)
    form.update(display_name="城管值班员", agency=str(city.urban.id))
    assert admin.post(url, data=form).status_code == 302
    user = fresh(city.db, User, username="hstaff")
    assert user.display_name == "城管值班员" and user.agency_id == city.urban.id
    form = edit_form(admin, url)
    form.update(role="supervisor", agency="")
    assert admin.post(url, data=form).status_code == 302
    assert fresh(city.db, User, username="hstaff").role.value == "supervisor"


def test_a_stale_user_form_does_not_overwrite(admin, city) -> None:
    url = f"/admin/users/{city.taker.id}/edit"
    mine, theirs = edit_form(admin, url), edit_form(admin, url)
    theirs["display_name"] = "王话务员"
    assert admin.post(url, data=theirs).status_code == 302
    mine["role"] = "supervisor"
    response = admin.post(url, data=mine)
    assert response.status_code == 409 and "已被他人修改" in page(response)
    user = fresh(city.db, User, username="taker")
    assert user.display_name == "王话务员" and user.role.value == "call_taker"


def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves(admin, city) -> None:
    url = f"/admin/users/{city.admin.id}/edit"
    form = edit_form(admin, url)
    form["role"] = "supervisor"
    response = admin.post(url, data=form)
    assert response.status_code == 422 and "不能修改自己的角色" in field_error(
        page(response), "role"
    )
    response = admin.post(
        f"/admin/users/{city.admin.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert "不能停用自己的账号" in page(response)
    me = fresh(city.db, User, username="admin")
    assert me.is_active and me.role.value == "admin"


def test_the_last_active_admin_is_kept(city) -> None:
    ctx = city.ctx(SYSTEM)
    with pytest.raises(ValidationError, match="最后一个在用的系统管理员"):
        directory.set_user_active(ctx, city.admin.id, False)
    with pytest.raises(ValidationError, match="最后一个在用的系统管理员"):
        directory.update_user(
            ctx,
            city.admin.id,
            expected=None,
            display_name="admin",
            role="supervisor",
            agency=None,
        )
    second = directory.create_user(
        ctx, username="admin2", display_name="二号管理员", role="admin", password=PASSWORD
    )
    directory.set_user_active(ctx, city.admin.id, False)  # another admin remains
    with pytest.raises(ValidationError, match="最后一个在用的系统管理员"):
        directory.set_user_active(ctx, second.id, False)


def test_the_admin_services_refuse_other_roles(city) -> None:
    from hotline.domain.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        directory.set_user_active(city.ctx(city.supervisor), city.taker.id, False)


def test_a_deactivated_user_is_logged_out_and_can_be_reactivated(app, admin, city) -> None:
    staff = login(app.test_client(), "hstaff")
    assert staff.get("/").status_code == 200
    url = f"/admin/users/{city.housing_staff.id}/active"
    assert admin.post(url, data={"active": "0"}).status_code == 302
    assert staff.get("/").status_code == 302
    refused = staff.post("/login", data={"username": "hstaff", "password": PASSWORD})
    assert "用户名或密码错误" in page(refused)
    assert admin.post(url, data={"active": "1"}).status_code == 302
    login(staff, "hstaff")


def test_a_password_reset_ends_the_users_sessions(app, admin, city, caplog) -> None:
    caplog.set_level(logging.INFO)
    staff = login(app.test_client(), "hstaff")
    url = f"/admin/users/{city.housing_staff.id}/password"
    new = {"password": "brand new secret", "password_confirm": "brand new secret"}
    assert admin.post(url, data=new).status_code == 302
    assert staff.get("/").status_code == 302
    assert "用户名或密码错误" in page(
        staff.post("/login", data={"username": "hstaff", "password": PASSWORD})
    )
    login(app.test_client(), "hstaff", "brand new secret")
    assert "reset the password of hstaff" in caplog.text and "brand new secret" not in caplog.text


def test_a_bad_new_password_is_named_beside_its_field(admin, city) -> None:
    url = f"/admin/users/{city.housing_staff.id}/password"
    short = admin.post(url, data={"password": "short", "password_confirm": "short"})
    assert short.status_code == 422 and "至少 8 位" in field_error(page(short), "password")
    typo = admin.post(url, data={"password": "long enough 1", "password_confirm": "long enough 2"})
    assert "不一致" in field_error(page(typo), "password_confirm")
    login(admin.application.test_client(), "hstaff")  # unchanged


def test_an_admin_resetting_their_own_password_stays_logged_in(admin, city) -> None:
    url = f"/admin/users/{city.admin.id}/password"
    new = {"password": "my own new secret", "password_confirm": "my own new secret"}
    assert admin.post(url, data=new).status_code == 302
    assert admin.get("/admin/users").status_code == 200


# --- deadline policies and routing rules ------------------------------------------------


def test_the_policies_in_force_are_shown(admin) -> None:
    html = page(admin.get("/admin/policies"))
    general = re.search(r'data-policy="general">(.*?)</tr>', html, re.S).group(1)
    assert "默认" in general and "一般事项" in general
    assert "1 个工作日 · 次日起算 · 自派单起" in general  # sign-for
    assert "5 个工作日 · 次日起算 · 自派单起" in general  # reply
    urgent = re.search(r'data-policy="urgent">(.*?)</tr>', html, re.S).group(1)
    assert "30 分钟 · 自派单起" in urgent and "1 天 · 含本数" in urgent
    assert "MANHOLE" in urgent  # the rule that uses it
    assert "用时达到 80% 时预警" in html


def upload(client, text: str | bytes, filename: str = "routing_rules.yaml"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        "/admin/rules",
        data={"rules_file": (BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_the_rules_in_force_are_summarised(admin, rules_path) -> None:
    html = page(admin.get("/admin/rules"))
    assert "data-rules-version>1<" in html and str(rules_path) in html
    assert 'data-rule="MANHOLE"' in html and "12345:housing" in html


def test_a_valid_upload_replaces_the_rules_and_keeps_a_backup(
    app, admin, rules_path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    response = upload(admin, RULES_V2)
    assert response.status_code == 302
    holder = app.extensions["hotline.rules"]
    assert holder.rules.version == 2 and [r.id for r in holder.rules.rules] == ["MANHOLE", "STALLS"]
    assert holder.source == rules_path
    assert rules_path.read_text(encoding="utf-8") == RULES_V2
    assert (rules_path.parent / "routing_rules.yaml.bak").read_text(encoding="utf-8") == RULES_V1
    assert sorted(p.name for p in rules_path.parent.iterdir()) == [
        "routing_rules.yaml",
        "routing_rules.yaml.bak",
        "routing_rules.yaml.last-good",  # the fallback for a broken file at start-up
    ]
    html = page(admin.get("/admin/rules"))
    assert "已启用新的路由规则：版本 2（原版本 1）" in html and "data-rules-version>2<" in html
    assert "replaced the routing rules: version 1 -> 2" in caplog.text


def test_an_invalid_upload_changes_nothing_and_names_every_problem(app, admin, rules_path) -> None:
    response = upload(admin, RULES_BAD)
    assert response.status_code == 422
    html = page(response)
    problems = re.findall(
        r"<tr data-problem><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", html
    )
    assert problems == [
        ("7", "MANHOLE", "destination", "未知的单位编码 &#39;nowhere&#39;"),
        ("7", "MANHOLE", "deadline_policy", "未知的时限规则 &#39;someday&#39;"),
        ("8", "STALLS", "whem", "未知字段；可用：description、enabled、id、then、when"),
    ]
    assert "当前规则未改变" in html
    assert app.extensions["hotline.rules"].rules.version == 1
    assert rules_path.read_text(encoding="utf-8") == RULES_V1
    assert sorted(p.name for p in rules_path.parent.iterdir()) == [
        "routing_rules.yaml",
        "routing_rules.yaml.last-good",
    ]


def test_a_yaml_syntax_error_is_shown_with_its_line(admin, rules_path) -> None:
    response = upload(admin, "version: 2\ncity: [unclosed\n")
    assert response.status_code == 422 and "YAML 格式错误" in page(response)
    assert rules_path.read_text(encoding="utf-8") == RULES_V1


def test_rules_sending_work_to_a_deactivated_agency_are_refused(app, admin, city) -> None:
    admin.post(f"/admin/agencies/{city.urban.id}/active", data={"active": "0"})
    response = upload(admin, RULES_V2)
    assert response.status_code == 422
    assert "单位 &#39;urban&#39; 已停用" in page(response)
    assert app.extensions["hotline.rules"].rules.version == 1


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (RULES_V2, "rules.txt", "只接受 .yaml 或 .yml 文件"),
        (RULES_V2.encode("gbk"), "routing_rules.yaml", "不是 UTF-8 编码的文本"),
        (b"version: 2\x00\x01", "routing_rules.yml", "不是文本文件"),
        ("", "routing_rules.yaml", "文件是空的"),
        ("", "", "请选择要上传的"),
    ],
)
def test_uploads_that_are_not_yaml_text_are_refused(
    app, admin, rules_path, content, filename, message
) -> None:
    response = upload(admin, content, filename)
    assert response.status_code == 422
    assert message in page(response)
    assert rules_path.read_text(encoding="utf-8") == RULES_V1
    assert app.extensions["hotline.rules"].rules.version == 1


def test_an_upload_over_the_size_limit_is_refused(app, admin, rules_path) -> None:
    app.config["RULES_UPLOAD_MAX_BYTES"] = len(RULES_V2.encode()) - 1
    response = upload(admin, RULES_V2)
    assert response.status_code == 422 and "文件过大" in page(response)
    assert rules_path.read_text(encoding="utf-8") == RULES_V1
    app.config["RULES_UPLOAD_MAX_BYTES"] = len(RULES_V2.encode())
    assert upload(admin, RULES_V2).status_code == 302


def test_the_shipped_default_limit_is_one_megabyte(app) -> None:
    assert app.config["RULES_UPLOAD_MAX_BYTES"] == 1024 * 1024


def test_an_unwritable_rules_folder_changes_nothing(app, admin, rules_path, monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("hotline.web.admin_rules.os.replace", refuse)
    response = upload(admin, RULES_V2)
    assert response.status_code == 500 and "无法写入规则文件" in page(response)
    assert app.extensions["hotline.rules"].rules.version == 1
    assert rules_path.read_text(encoding="utf-8") == RULES_V1
    assert not [p for p in rules_path.parent.iterdir() if p.name.endswith(".new")]
