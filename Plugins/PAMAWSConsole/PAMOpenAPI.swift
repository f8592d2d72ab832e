import Core

/// OpenAPI path items of the AWS console's PAM routes (served by Core for this provider).
enum PAMOpenAPI {
    static let connectionDetails = #"{"type":"object","required":["roleArn"],"properties":{"roleArn":{"type":"string","maxLength":256}}}"#
    static let credentials = #"{"type":"object","required":["targetRoleArn"],"properties":{"targetRoleArn":{"type":"string","maxLength":256},"defaultSessionDuration":{"type":["integer","string"]}}}"#
    static let paths = PAMResourceOpenAPI.paths(resourceType: "aws-iam", displayName: "AWS", connectionDetails: connectionDetails, credentials: credentials)
}
