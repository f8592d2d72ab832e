import Core

/// The AWS IAM dynamic secret's form in the web console: every input of the guide.
enum AWSIAMConsoleForm {
    static let form = ConsoleForm(
        target: .dynamicSecret(type: "aws-iam"), title: "AWS IAM",
        summary: "Short-lived IAM users or STS credentials, made on Generate and removed when the lease ends.",
        fields: [
            ConsoleField("method", "Connection method", .select(["assume-role", "access-key", "irsa"]), required: true),
            ConsoleField("credentialType", "Credential type", .select(["iam-user", "temporary-credentials"]), required: true),
            ConsoleField("roleArn", "Role ARN", help: "For assume-role (and irsa, optional).", placeholder: "arn:aws:iam::123456789012:role/kms-dynamic"),
            ConsoleField("accessKey", "Access key ID", help: "For access-key."),
            ConsoleField("secretAccessKey", "Secret access key", .secret, help: "For access-key; kept sealed, never shown."),
            ConsoleField("region", "Region", defaultValue: "us-east-1"),
            ConsoleField("awsPath", "IAM path", defaultValue: "/"),
            ConsoleField("permissionBoundaryPolicyArn", "Permission boundary policy ARN"),
            ConsoleField("userGroups", "IAM groups", help: "Comma-separated."),
            ConsoleField("policyArns", "Managed policy ARNs", help: "Comma-separated."),
            ConsoleField("policyDocument", "Inline policy document (JSON)", .textarea),
            ConsoleField("tags", "Tags (key=value per line)", .tags),
            ConsoleField("usernameTemplate", "Username template", help: "Empty: the default template."),
        ],
        exports: ["ACCESS_KEY": "AWS_ACCESS_KEY_ID", "SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY", "SESSION_TOKEN": "AWS_SESSION_TOKEN"])
}
