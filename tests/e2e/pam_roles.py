"""The AWS side of a PAM resource, in moto: an entry role that kms's own identity (`kms-pam`) may
assume with the project's id as external id, and a target role the entry role's session may
chain into."""
import json

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def role_chain(iam, project_id, entry_name, target_name):
    """Creates both roles; returns (entry ARN, target ARN)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/kms-pam"},
                                                     "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": project_id}}}]}
    entry = iam.create_role(RoleName=entry_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=entry_name, PolicyName="chain", PolicyDocument=json.dumps(ALLOW_ALL))
    target = iam.create_role(RoleName=target_name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
         "Principal": {"AWS": [entry, f"arn:aws:sts::123456789012:assumed-role/{entry_name}/kms-pam"]}}]}))["Role"]["Arn"]
    return entry, target
