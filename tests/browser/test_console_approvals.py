"""Just-in-time PAM in the console: a person requests access to an account that needs approval,
an approver approves it, and only then does Access open the AWS console."""

from selenium.webdriver.common.by import By

from browser import Browser
from conftest import ADMIN, sign_in
from kms import wait_until
from pam_roles import role_chain

REQUESTER = ("requester@example.com", "a long enough password")


def test_request_approve_then_access(world, browser):
    server, root, iam = world["server"], world["root"], world["iam"]
    project = server.call("POST", "/api/v1/projects", root, {"projectName": "Approvals", "organizationId": world["org"]}).json()["project"]
    entry, target = role_chain(iam, project["id"], "approvals-entry", "approvals-target")
    r = server.call("POST", "/api/v1/pam/resources/aws-iam", root, {"projectId": project["id"], "name": "guarded", "connectionDetails": {"roleArn": entry}})
    assert r.status_code == 200, r.text
    resource_id = r.json()["resource"]["id"]
    r = server.call("POST", f"/api/v1/organizations/{world['org']}/users", root, {"email": REQUESTER[0], "password": REQUESTER[1], "role": "member"})
    assert r.status_code == 200, r.text
    for email in (REQUESTER[0], ADMIN[0]):  # approvers are named project members
        assert server.call("POST", f"/api/v1/projects/{project['id']}/memberships", root, {"email": email, "role": "member"}).status_code == 200
    r = server.call("POST", "/api/v1/pam/accounts/aws-iam", root, {
        "resourceId": resource_id,
        "name": "break-glass", "credentials": {"targetRoleArn": target, "defaultSessionDuration": "15m"},
        "accessPolicy": {"requiresApproval": True, "approvers": [ADMIN[0]], "minApprovals": 1, "maxDuration": 900, "requireReason": True}})
    assert r.status_code == 200, r.text
    pam = f"/projects/{project['id']}/pam"

    # The requester asks; the request is pending and they may only cancel it, not approve it.
    requester = browser
    sign_in(requester, *REQUESTER)
    requester.visit(pam)
    requester.check_basics()
    form = requester.form("/pam/requests", "Request access")
    requester.fill(form, {"Duration for break-glass": "15m", "Reason to request break-glass": "incident 42"})
    requester.submit(form, "Request access")
    assert "Access requested" in requester.flash(), requester.text()
    row = requester.driver.find_element(By.XPATH, "//h2[.='Access requests']/following-sibling::div//tbody/tr")
    assert "pending" in row.text and "incident 42" in row.text
    assert not row.find_elements(By.XPATH, ".//button[.='Approve']") and row.find_elements(By.XPATH, ".//button[.='Cancel']")
    requester.screenshot("access-requested")

    # The approver approves it in their own session.
    approver = Browser(world["url"])
    try:
        sign_in(approver, *ADMIN)
        approver.visit(pam)
        row = approver.driver.find_element(By.XPATH, "//h2[.='Access requests']/following-sibling::div//tbody/tr")
        assert REQUESTER[0] in row.text and "pending" in row.text
        approver.follow(row.find_element(By.XPATH, ".//button[.='Approve']"))
        assert "approved" in approver.flash(), approver.text()
        approver.check_basics()
        approver.screenshot("access-approved")
    finally:
        approver.quit()

    # Now Access opens the AWS console for the requester.
    requester.visit(pam)
    assert "approved" in requester.driver.find_element(By.XPATH, "//h2[.='Access requests']/following-sibling::div//tbody/tr").text
    tabs = set(requester.driver.window_handles)
    requester.submit(requester.form("/pam/access", "Access"), "Access", navigates=False)
    wait_until(lambda: len(requester.driver.window_handles) == len(tabs) + 1, "a new tab")
    requester.driver.switch_to.window((set(requester.driver.window_handles) - tabs).pop())
    wait_until(lambda: requester.driver.current_url.startswith(world["federation"]), "the federation login URL")
    assert "Action=login" in requester.driver.current_url
