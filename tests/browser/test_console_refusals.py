"""What the console refuses, each on its own: forged or missing CSRF tokens, a cookie after
sign-out, a viewer's Generate, another organization's objects by URL, and HTML typed into
fields (shown as text, never run)."""
import re

import pytest
import requests
from selenium.webdriver.common.by import By

from conftest import ADMIN, sign_in

PASSWORD = "a long enough password"


def session(world, email, password):
    """A signed-in requests session (the forms as a browser posts them)."""
    s = requests.Session()
    page = s.get(world["url"] + "/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(world["url"] + "/login", data={"csrf": csrf, "email": email, "password": password}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/projects", r.text
    return s


def csrf_of(s, world, path="/projects"):
    return re.search(r'name="csrf" value="([^"]+)"', s.get(world["url"] + path).text).group(1)


def projects(world):
    r = world["server"].call("GET", f"/api/v1/projects?organizationId={world['org']}", world["root"])
    return {p["name"] for p in r.json()["projects"]}


def user(world, email, org_role="member", org=None, token=None):
    r = world["server"].call("POST", f"/api/v1/organizations/{org or world['org']}/users", token or world["root"],
                             {"email": email, "password": PASSWORD, "role": org_role})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("token", [None, "forged-token-value-that-is-long-enough-0123456789"])
def test_form_post_without_or_with_a_wrong_csrf_token(world, token):
    s = session(world, *ADMIN)
    data = {"projectName": f"csrf-{bool(token)}"}
    if token:
        data["csrf"] = token
    r = s.post(world["url"] + "/projects", data=data)
    assert r.status_code == 403 and "CSRF check failed" in r.text
    assert data["projectName"] not in projects(world)
    # The sign-in form is protected too (login CSRF).
    r = requests.post(world["url"] + "/login", data={"email": ADMIN[0], "password": ADMIN[1], **({"csrf": token} if token else {})}, allow_redirects=False)
    assert r.status_code == 403 and "kms_session=" not in r.headers.get("Set-Cookie", "")


def test_session_cookie_after_sign_out(world):
    s = session(world, *ADMIN)
    cookie = dict(s.cookies)
    csrf = csrf_of(s, world)
    r = s.post(world["url"] + "/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status_code == 303 and "Max-Age=0" in r.headers["Set-Cookie"]
    replay = requests.Session()
    replay.cookies.update(cookie)
    r = replay.get(world["url"] + "/projects", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    r = replay.post(world["url"] + "/projects", data={"csrf": csrf, "projectName": "after-sign-out"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert "after-sign-out" not in projects(world)


def test_a_viewer_clicking_generate_is_refused(world, browser):
    admin = world["root"]
    server = world["server"]
    project = server.call("POST", "/api/v1/projects", admin, {"projectName": "Viewer land", "organizationId": world["org"]}).json()["project"]
    key = world["dynamic_key"]
    r = server.call("POST", "/api/v1/dynamic-secrets", admin, {"name": "viewer-secret", "projectSlug": project["slug"], "environmentSlug": "dev", "path": "/",
                                                               "provider": {"type": "aws-iam", "inputs": {"method": "access-key", "accessKey": key[0],
                                                                                                         "secretAccessKey": key[1], "credentialType": "iam-user"}}})
    assert r.status_code == 200, r.text
    user(world, "viewer@example.com")
    server.call("POST", f"/api/v1/projects/{project['id']}/memberships", admin, {"email": "viewer@example.com", "role": "viewer"})
    b = browser
    sign_in(b, "viewer@example.com", PASSWORD)
    b.visit(f"/projects/{project['id']}/dynamic-secrets/dev/viewer-secret")
    b.check_basics()
    b.submit(b.form("/generate", "Generate"), "Generate")
    b.refused()
    assert any("permission" in e for e in b.errors()), b.errors()
    b.screenshot("viewer-generate-refused")
    leases = server.call("GET", f"/api/v1/dynamic-secrets/viewer-secret/leases?projectSlug={project['slug']}&environmentSlug=dev&path=/", admin).json()["leases"]
    assert leases == []


def test_another_organizations_object_by_url(world, browser):
    server, root = world["server"], world["root"]
    other = server.call("POST", "/api/v1/organizations", root, {"name": "Globex"}).json()["organization"]
    user(world, "mallory@globex.example", org_role="admin", org=other["id"])
    theirs = server.call("POST", "/api/v1/projects", root, {"projectName": "Acme secret plans", "organizationId": world["org"]}).json()["project"]
    identity = server.call("POST", "/api/v1/identities", root, {"name": "acme-worker", "organizationId": world["org"]}).json()["identity"]
    b = browser
    sign_in(b, "mallory@globex.example", PASSWORD)
    for path in [f"/projects/{theirs['id']}", f"/projects/{theirs['id']}/pam", f"/identities/{identity['id']}",
                 f"/projects/{theirs['id']}/dynamic-secrets/new?env=dev&type=aws-iam"]:
        b.visit(path)
        assert b.driver.title.startswith("Error 404"), (path, b.driver.title)
        assert "Acme secret plans" not in b.driver.page_source and "acme-worker" not in b.driver.page_source
        b.refused()  # the 404 itself is logged by the browser
    b.screenshot("other-org-404")
    # Mallory's own lists do not show Acme's objects either.
    b.visit("/projects")
    assert "Acme secret plans" not in b.text()
    b.visit("/identities")
    assert "acme-worker" not in b.text()


HOSTILE = '<img src=x id=pwned onerror="document.title=1">"\'&'


def test_html_in_user_supplied_fields_is_shown_escaped(world, browser):
    b = browser
    sign_in(b, *ADMIN)
    # A project, an identity, a person (invitation), a PAM resource and an account, each named
    # with markup; and markup in a search filter.
    form = b.form("/projects", "Create project")
    b.fill(form, {"Project name": "P " + HOSTILE, "Slug": "hostile-project"})
    b.submit(form, "Create project")
    project_path = b.path
    assert HOSTILE in b.h1()
    b.visit("/identities")
    form = b.form("/identities", "Create identity")
    b.fill(form, {"Name": "I " + HOSTILE})
    b.submit(form, "Create identity")
    assert b.h1() == "Identity I " + HOSTILE
    b.visit(project_path + "/pam")
    b.driver.find_element(By.XPATH, "//summary[starts-with(., 'Create Resource')]").click()
    form = b.form("/pam/resources/aws-iam", "Create Resource")
    b.fill(form, {"Resource name": "R " + HOSTILE, "Resource role ARN": "arn:aws:iam::123456789012:role/" + HOSTILE})
    b.submit(form, "Create Resource")
    b.refused()  # the ARN is not a valid role ARN
    b.visit("/audit?eventType=" + requests.utils.quote(HOSTILE))
    form = b.form("/audit", "Filter")
    assert b.field(form, "Event type").get_attribute("value") == HOSTILE
    b.visit(project_path)
    b.visit("/audit")
    for page in [project_path, "/projects", "/audit", project_path + "/pam", "/identities"]:
        b.visit(page)
        assert b.driver.find_elements(By.ID, "pwned") == [], page
        assert b.driver.title != "1", page
        b.check_basics()
    b.visit("/audit")
    b.screenshot("escaped-markup")
