import Core

/// AWS Auth's form in the web console.
enum AWSAuthConsoleForm {
    static let form = ConsoleForm(
        target: .identityAuth(method: "aws-auth"), title: "AWS Auth",
        summary: "Workloads log in with a signed sts:GetCallerIdentity request; no secret is shared.",
        fields: [
            ConsoleField("allowedPrincipalArns", "Allowed principal ARNs", help: "Comma-separated; * matches within a part.",
                         placeholder: "arn:aws:iam::123456789012:role/app-*"),
            ConsoleField("allowedAccountIds", "Allowed account IDs", help: "Comma-separated 12-digit IDs.", placeholder: "123456789012"),
            ConsoleField("stsEndpoint", "STS endpoint", defaultValue: "https://sts.amazonaws.com/"),
            ConsoleField("iamServerIdHeaderValue", "Server ID header value",
                         help: "When set, a login must sign X-KMS-AWS-IAM-Server-ID with this value."),
        ])
}
