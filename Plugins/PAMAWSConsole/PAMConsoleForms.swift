import Core

/// The AWS console PAM provider's forms in the web console.
enum PAMConsoleForms {
    static let resource = ConsoleForm(
        target: .pamResource(type: "aws-iam"), title: "AWS IAM",
        summary: "An AWS account's entry role that kms assumes (with the project ID as ExternalId) to reach target roles.",
        fields: [ConsoleField("roleArn", "Resource role ARN", required: true, placeholder: "arn:aws:iam::123456789012:role/kms-pam")])
    static let account = ConsoleForm(
        target: .pamAccount(type: "aws-iam"), title: "AWS IAM",
        summary: "A target role people get in the AWS console or CLI, for a limited time.",
        fields: [ConsoleField("targetRoleArn", "Target role ARN", required: true, placeholder: "arn:aws:iam::123456789012:role/ReadOnly"),
                 ConsoleField("defaultSessionDuration", "Session duration", help: "15m to 1h (or 900-3600 seconds).", defaultValue: "1h")],
        exports: ["accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY", "sessionToken": "AWS_SESSION_TOKEN"])
}
