"""Every flow of the guides, walked in Chromium as a person would, against the real binary and
moto with signature checking on. Each page gets a screenshot and the Lighthouse-style checks."""
import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError
from infisical_sdk import InfisicalSDKClient
from selenium.webdriver.common.by import By

from conftest import ADMIN, sign_in
from kms import wait_until

ID = r"[0-9a-f-]{36}"


def sts(moto, key, secret, token=None):
    return boto3.client("sts", region_name="us-east-1", endpoint_url=moto.url, aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


def revealed(b):
    """The credentials of a shown-once page, by label."""
    out = {}
    for dt, dd in zip(b.driver.find_elements(By.CSS_SELECTOR, ".secrets dt"), b.driver.find_elements(By.CSS_SELECTOR, ".secrets dd code")):
        out[dt.text.strip()] = dd.text.strip()
    return out


def test_every_flow_as_a_person(world, browser):
    b, moto, iam = browser, world["moto"], world["iam"]

    # Sign in (keyboard only) from the front door.
    b.visit("/")
    assert b.path == "/login"
    b.check_basics()
    b.screenshot("sign-in")
    sign_in(b, *ADMIN)
    assert b.path == "/projects", b.text()
    b.check_basics()
    b.screenshot("projects")

    # Create a project: it opens on its Secret Overview, environments as columns.
    form = b.form("/projects", "Create project")
    b.fill(form, {"Project name": "Payments"})
    b.submit(form, "Create project")
    assert re.fullmatch(rf"/projects/{ID}", b.path), b.text()
    project_id = b.path.rsplit("/", 1)[1]
    columns = [h.text for h in b.driver.find_elements(By.CSS_SELECTOR, ".env h2")]
    assert columns == ["Development dev", "Staging staging", "Production prod"]
    b.check_basics()
    b.screenshot("secret-overview-empty")

    # A machine identity with AWS Auth and Universal Auth (a client secret shown once).
    b.visit("/identities")
    b.check_basics()
    form = b.form("/identities", "Create identity")
    b.fill(form, {"Name": "payments-worker", "Organization role": "member"})
    b.submit(form, "Create identity")
    assert re.fullmatch(rf"/identities/{ID}", b.path)
    identity_id = b.path.rsplit("/", 1)[1]
    form = b.form("/auth/aws-auth", "Attach AWS Auth")
    b.fill(form, {"Allowed principal ARNs": "arn:aws:iam::123456789012:role/app-*", "Allowed account IDs": "123456789012",
                  "Access token TTL (seconds)": "600"})
    b.submit(form, "Attach AWS Auth")
    assert "AWS Auth attached." in b.flash()
    b.check_basics()
    b.screenshot("identity-aws-auth")
    form = b.form("/auth/aws-auth", "Save AWS Auth")
    assert b.field(form, "Allowed principal ARNs").get_attribute("value") == "arn:aws:iam::123456789012:role/app-*"
    b.fill(form, {"Allowed account IDs": "12345"})
    b.submit(form, "Save AWS Auth")
    b.refused()
    # The API's refusal is shown next to the field it concerns, and nothing changed.
    field = b.field(b.form("/auth/aws-auth", "Save AWS Auth"), "Allowed account IDs")
    error = b.driver.find_element(By.ID, field.get_attribute("id") + "-error").text
    assert "allowedAccountIds" in error or "account" in error.lower(), error
    r = world["server"].call("GET", f"/api/v1/auth/aws-auth/identities/{identity_id}", world["root"])
    assert r.json()["identityAwsAuth"]["allowedAccountIds"] == ["123456789012"] or "123456789012" in json.dumps(r.json())

    form = b.form("/auth/universal-auth", "Attach Universal Auth")
    b.submit(form, "Attach Universal Auth")
    assert "Universal Auth attached." in b.flash()
    client_id = b.driver.find_element(By.ID, "auth-universal-auth-clientId").text
    form = b.form("/auth/universal-auth/actions/0", "Create client secret")
    b.fill(form, {"Description": "ci"})
    b.submit(form, "Create client secret")
    secret = revealed(b)["clientSecret"]
    assert len(secret) >= 32
    copy = b.driver.find_element(By.CSS_SELECTOR, "button.copy[data-copy=secret-0]")
    assert copy.is_displayed()
    copy.click()
    wait_until(lambda: copy.text in ("Copied", "Copy failed: select the text"), "the copy button to answer", timeout=5)
    if copy.text == "Copied":
        assert b.driver.execute_async_script("navigator.clipboard.readText().then(arguments[0])") == secret
    b.check_basics()
    b.screenshot("client-secret-shown-once")
    # The official SDK logs in with what the page showed.
    sdk = InfisicalSDKClient(host=world["url"])
    sdk.auth.universal_auth.login(client_id=client_id, client_secret=secret)
    b.visit(f"/identities/{identity_id}")
    assert "Starts with" in b.text() and secret[:4] in b.text()
    # Revoke the client secret: the SDK's login with it is refused from then on.
    b.follow(b.driver.find_element(By.XPATH, "//form[contains(@action, '/actions/0/revoke/')]//button"))
    assert "Revoked." in b.flash()
    with pytest.raises(Exception):
        InfisicalSDKClient(host=world["url"]).auth.universal_auth.login(client_id=client_id, client_secret=secret)
    # Give the identity a role in the project.
    form = b.form("/projects", "Set project role")
    b.fill(form, {"Project role": "member"})
    b.submit(form, "Set project role")
    assert "Project role set." in b.flash()

    # Add an AWS IAM dynamic secret in dev with every field of the guide.
    b.visit(f"/projects/{project_id}")
    dev = b.driver.find_elements(By.CSS_SELECTOR, ".env")[0]
    b.follow(dev.find_element(By.LINK_TEXT, "Add dynamic secret (AWS IAM)"))
    b.check_basics()
    form = b.form("/dynamic-secrets/new", "Create dynamic secret")
    key_id, key_secret = world["dynamic_key"]
    iam.create_group(GroupName="readers")
    policy = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))["Policy"]["Arn"]
    b.fill(form, {"Name": "s3-reader", "Default TTL": "1h", "Max TTL": "4h", "Connection method": "access-key",
                  "Credential type": "iam-user", "Access key ID": key_id, "Secret access key": key_secret, "IAM path": "/kms/",
                  "IAM groups": "readers", "Managed policy ARNs": policy,
                  "Inline policy document (JSON)": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}),
                  "Tags (key=value per line)": "team=payments\nenv=dev", "Username template": "{{randomUsername}}"})
    b.screenshot("add-dynamic-secret")
    b.submit(form, "Create dynamic secret")
    assert "Dynamic secret s3-reader created." in b.flash(), b.text()
    detail = b.path
    b.check_basics()

    # Generate: the credentials are shown once, with an export block, and work against moto.
    form = b.form("/generate", "Generate")
    b.fill(form, {"TTL": "30m"})
    b.submit(form, "Generate")
    creds = revealed(b)
    assert set(creds) == {"ACCESS_KEY", "SECRET_ACCESS_KEY", "USERNAME"}, creds
    export = b.driver.find_element(By.ID, "export-block").text
    assert f"export AWS_ACCESS_KEY_ID='{creds['ACCESS_KEY']}'" in export
    arn = sts(moto, creds["ACCESS_KEY"], creds["SECRET_ACCESS_KEY"]).get_caller_identity()["Arn"]
    assert arn.endswith("/" + creds["USERNAME"]) and ":user/kms/" in arn
    b.check_basics()
    b.screenshot("generated-credentials")

    # The lease, with its countdown; Renew, then Revoke, after which the key is dead.
    b.visit(detail)
    rows = b.driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1 and "active" in rows[0].text
    countdown = rows[0].find_element(By.CSS_SELECTOR, "time[data-countdown]")
    wait_until(lambda: re.match(r"in (\d+m )?\d+s", countdown.text), "the countdown to tick")
    b.screenshot("leases")
    lease_form = b.form("/renew", "Renew")
    b.fill(lease_form, {"Renew TTL": "2h"})
    b.submit(lease_form, "Renew")
    assert "Lease renewed until" in b.flash()
    b.driver.execute_script("window.confirm = () => true")
    b.submit(b.form("/revoke", "Revoke"), "Revoke")
    assert "Lease revoked" in b.flash()

    def key_dead():
        try:
            sts(moto, creds["ACCESS_KEY"], creds["SECRET_ACCESS_KEY"]).get_caller_identity()
            return False
        except ClientError:
            return True
    wait_until(key_dead, "the revoked key to stop working")
    assert "revoked" in b.text()

    # A second lease, force-revoked.
    b.submit(b.form("/generate", "Generate"), "Generate")
    b.visit(detail)
    b.driver.execute_script("window.confirm = () => true")
    form = b.form("/revoke", "Revoke")
    form.find_element(By.NAME, "force").click()
    b.submit(form, "Revoke")
    assert "forced" in b.flash()
    b.check_basics()

    # PAM: Create Resource shows the validation (a role that does not trust kms is refused next
    # to its field), then an account, Access in a new tab, CLI credentials, sessions.
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/kms-pam"},
                                                     "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": project_id}}}]}
    resource_role = iam.create_role(RoleName="kms-pam-resource", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="kms-pam-resource", PolicyName="chain", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    target_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Principal": {"AWS": [
        resource_role, "arn:aws:sts::123456789012:assumed-role/kms-pam-resource/kms-pam"]}}]}
    iam.create_role(RoleName="ReadOnly", AssumeRolePolicyDocument=json.dumps(target_trust))
    iam.put_role_policy(RoleName="ReadOnly", PolicyName="who", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
    untrusting = iam.create_role(RoleName="untrusting", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:user/someone-else"}}]}))["Role"]["Arn"]

    b.visit(f"/projects/{project_id}/pam")
    b.check_basics()
    b.driver.find_element(By.XPATH, "//summary[starts-with(., 'Create Resource')]").click()
    # A long wait shows progress: the button says what is happening and cannot be pressed twice.
    b.driver.execute_script("document.addEventListener('submit', e => e.preventDefault(), {once: true})")
    form = b.form("/pam/resources/aws-iam", "Create Resource")
    b.fill(form, {"Resource name": "held", "Resource role ARN": untrusting})
    b.submit(form, "Create Resource", navigates=False)
    busy = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert busy.text == "Checking the role with AWS…" and not busy.is_enabled() and form.get_attribute("aria-busy") == "true"
    b.visit(f"/projects/{project_id}/pam")
    b.driver.find_element(By.XPATH, "//summary[starts-with(., 'Create Resource')]").click()
    form = b.form("/pam/resources/aws-iam", "Create Resource")
    b.fill(form, {"Resource name": "production", "Resource role ARN": untrusting})
    b.submit(form, "Create Resource")
    b.refused()
    field = b.field(b.form("/pam/resources/aws-iam", "Create Resource"), "Resource role ARN")
    assert field.get_attribute("aria-invalid") == "true"
    refusal = b.driver.find_element(By.ID, field.get_attribute("id") + "-error").text
    assert "roleArn" in refusal or "assume" in refusal.lower(), refusal
    b.screenshot("pam-resource-refused")
    form = b.form("/pam/resources/aws-iam", "Create Resource")
    b.fill(form, {"Resource role ARN": resource_role})
    b.submit(form, "Create Resource")
    assert "Resource created" in b.flash(), b.text()
    b.driver.find_element(By.XPATH, "//summary[starts-with(., 'Add account')]").click()
    form = b.form("/pam/accounts/aws-iam", "Add account")
    b.fill(form, {"Account name": "read-only", "Description": "Look, do not touch", "Target role ARN": "arn:aws:iam::123456789012:role/ReadOnly",
                  "Session duration": "15m"})
    b.submit(form, "Add account")
    assert "Account created." in b.flash(), b.text()
    assert "15m" in b.text()
    b.check_basics()
    b.screenshot("pam")

    # Access opens the AWS console's federation login in a new tab.
    tabs = set(b.driver.window_handles)
    b.submit(b.form("/pam/access", "Access"), "Access", navigates=False)
    wait_until(lambda: len(b.driver.window_handles) == len(tabs) + 1, "a new tab")
    home = b.driver.current_window_handle
    b.driver.switch_to.window((set(b.driver.window_handles) - tabs).pop())
    wait_until(lambda: b.driver.current_url.startswith(world["federation"]), "the federation login URL")
    opened = b.driver.current_url
    assert "Action=login" in opened and "SigninToken=signin-token-from-test" in opened, opened
    b.driver.close()
    b.driver.switch_to.window(home)

    # CLI credentials: an export block whose credentials are the target role's.
    b.submit(b.form("/pam/access", "CLI credentials"), "CLI credentials")
    creds = revealed(b)
    who = sts(moto, creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"]).get_caller_identity()["Arn"]
    assert ":assumed-role/ReadOnly/" in who
    assert "export AWS_SESSION_TOKEN=" in b.driver.find_element(By.ID, "export-block").text
    b.check_basics()
    b.screenshot("pam-cli-credentials")

    # Sessions: both listed, active; revoke one.
    b.visit(f"/projects/{project_id}/pam")
    sessions = b.driver.find_elements(By.XPATH, "//h2[.='Sessions']/following-sibling::div//tbody/tr")
    assert len(sessions) == 2 and all("active" in s.text for s in sessions)
    b.driver.execute_script("window.confirm = () => true")
    b.follow(sessions[0].find_element(By.XPATH, ".//button[.='Revoke']"))
    assert "Session revoked" in b.flash()
    assert "revoked" in b.text()

    # Audit log: filter, an entry's detail, pages, Verify chain.
    for n in range(55):  # enough entries for a second page
        world["server"].call("POST", "/api/v1/identities", world["root"], {"name": f"filler-{n}", "organizationId": world["org"]})
    b.visit("/audit")
    b.check_basics()
    def entry_ids():
        return [json.loads(e.get_attribute("textContent"))["id"] for e in b.driver.find_elements(By.CSS_SELECTOR, ".entries pre")]
    first_page = entry_ids()
    assert len(first_page) == 50
    b.follow(b.driver.find_element(By.LINK_TEXT, "Older"))
    second_page = entry_ids()
    assert second_page and not set(second_page) & set(first_page) and b.driver.find_elements(By.LINK_TEXT, "Newest")
    b.visit("/audit")
    form = b.form("/audit", "Filter")
    b.fill(form, {"Event type": "lease-created"})
    b.submit(form, "Filter")
    entries = b.driver.find_elements(By.CSS_SELECTOR, ".entries li")
    assert len(entries) == 2 and all("lease-created" in e.text for e in entries)
    entries[0].find_element(By.TAG_NAME, "summary").click()
    detail_json = json.loads(entries[0].find_element(By.TAG_NAME, "pre").text)
    assert detail_json["eventType"] == "lease-created" and detail_json["actor"]["metadata"]["email"] == ADMIN[0]
    b.screenshot("audit-filtered")
    b.follow(b.driver.find_element(By.ID, "verify-chain"))
    result = b.driver.find_element(By.ID, "verify-result").text
    assert result.startswith("The chain is intact:"), result
    b.check_basics()
    b.screenshot("audit-verified")

    # A time-range filter: nothing before the instance existed, everything today.
    form = b.form("/audit", "Filter")
    b.driver.execute_script("arguments[0].value = '2001-01-01'; arguments[1].value = '2001-12-31'",
                            b.field(form, "From"), b.field(form, "To"))
    b.submit(form, "Filter")
    assert "No entries match." in b.text()

    # Revoke AWS Auth on the identity: the method is detached.
    b.visit(f"/identities/{identity_id}")
    b.driver.execute_script("window.confirm = () => true")
    b.submit(b.form("/auth/aws-auth/revoke", "Revoke AWS Auth"), "Revoke AWS Auth")
    assert "AWS Auth revoked" in b.flash()
    assert b.form("/auth/aws-auth", "Attach AWS Auth")

    # Members.
    b.visit("/members")
    assert ADMIN[0] in b.text()
    b.check_basics()
    b.screenshot("members")

    # Sign out ends the session.
    b.submit(b.form("/logout", "Sign out"), "Sign out")
    assert b.path.startswith("/login") and "You are signed out." in b.text()
    b.visit("/projects")
    assert b.path == "/login"
    assert {"/login", "/projects", "/projects/{id}", "/identities", "/identities/{id}", "/projects/{id}/dynamic-secrets/new",
            "/projects/{id}/pam", "/audit", "/members"} <= b.pages_checked, b.pages_checked


def test_small_screen(world):
    """Readable at 375 px: no page scrolls sideways."""
    from browser import Browser
    small = Browser(world["url"], width=375, height=812)
    try:
        sign_in(small, *ADMIN)
        for path in ["/projects", "/identities", "/members", "/audit"]:
            small.visit(path)
            small.check_basics()
            small.fits(375)
        project = small.driver.find_element(By.LINK_TEXT, "Projects")
        project.click()
        small.settle()
        small.screenshot("projects-375px")
    finally:
        small.quit()
