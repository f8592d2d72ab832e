/// Every failure of an AWS call, typed so callers can map it (a refusal by AWS, an unreachable
/// endpoint, a response that does not parse).
public enum AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// AWS answered with an error document.
    case service(code: String, message: String, requestId: String?, status: Int)
    /// The endpoint could not be reached or did not answer in time.
    case transport(String)
    /// The endpoint answered something that is not a valid response.
    case invalidResponse(String)
    /// No credentials could be found or obtained.
    case credentials(String)

    public var description: String {
        switch self {
        case .service(let code, let message, let requestId, let status):
            "AWS \(code) (HTTP \(status)): \(message)" + (requestId.map { " [request \($0)]" } ?? "")
        case .transport(let m): "AWS endpoint unreachable: \(m)"
        case .invalidResponse(let m): "invalid AWS response: \(m)"
        case .credentials(let m): "AWS credentials unavailable: \(m)"
        }
    }

    /// The AWS error code, when AWS answered with one.
    public var code: String? { if case .service(let code, _, _, _) = self { code } else { nil } }

    /// Throttling, 5xx and transport failures are worth retrying; other 4xx are not.
    public var isRetryable: Bool {
        switch self {
        case .service(let code, _, _, let status):
            status >= 500 || status == 429 || AWSError.throttlingCodes.contains(code)
        case .transport: true
        case .invalidResponse, .credentials: false
        }
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
}
