import Foundation

/// An AWS partition and the hosts of the services this kit calls in it.
public enum AWSPartition: String, Sendable, CaseIterable {
    case aws
    case awsUSGov = "aws-us-gov"
    case awsCN = "aws-cn"

    /// The partition a region belongs to.
    public static func of(region: String) -> AWSPartition {
        if region.hasPrefix("cn-") { return .awsCN }
        if region.hasPrefix("us-gov-") { return .awsUSGov }
        return .aws
    }

    public var dnsSuffix: String { self == .awsCN ? "amazonaws.com.cn" : "amazonaws.com" }

    /// The region IAM (a global service) signs in.
    public var iamRegion: String {
        switch self {
        case .aws: "us-east-1"
        case .awsUSGov: "us-gov-west-1"
        case .awsCN: "cn-north-1"
        }
    }

    public var iamHost: String {
        switch self {
        case .aws: "iam.amazonaws.com"
        case .awsUSGov: "iam.us-gov.amazonaws.com"
        case .awsCN: "iam.cn-north-1.amazonaws.com.cn"
        }
    }

    /// The console sign-in (federation) host.
    public var signinHost: String {
        switch self {
        case .aws: "signin.aws.amazon.com"
        case .awsUSGov: "signin.amazonaws-us-gov.com"
        case .awsCN: "signin.amazonaws.cn"
        }
    }

    /// The console a federated user lands on.
    public var consoleURL: String {
        switch self {
        case .aws: "https://console.aws.amazon.com/"
        case .awsUSGov: "https://console.amazonaws-us-gov.com/"
        case .awsCN: "https://console.amazonaws.cn/"
        }
    }
}

/// The services the Query client talks to.
public enum AWSService: String, Sendable {
    case sts
    case iam
}

/// Where a call goes and which region it is signed for.
public struct AWSEndpoint: Sendable, Equatable {
    public let url: URL
    public let signingRegion: String

    public init(url: URL, signingRegion: String) {
        self.url = url
        self.signingRegion = signingRegion
    }

    /// The host with a non-default port, as the `Host` header carries it.
    public var hostHeader: String {
        let host = url.host ?? ""
        if let port = url.port, !(url.scheme == "https" && port == 443) && !(url.scheme == "http" && port == 80) { return "\(host):\(port)" }
        return host
    }
}

/// Resolves endpoints per service and region, honouring the standard overrides
/// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_IAM` and `AWS_ENDPOINT_URL`.
public struct AWSEndpointResolver: Sendable {
    public let overrides: [AWSService: URL]
    public let globalOverride: URL?
    /// Use the global STS host (`sts.amazonaws.com`) instead of the regional one.
    public var useGlobalSTS = false

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var overrides: [AWSService: URL] = [:]
        if let v = environment["AWS_ENDPOINT_URL_STS"].flatMap(URL.init(string:)) { overrides[.sts] = v }
        if let v = environment["AWS_ENDPOINT_URL_IAM"].flatMap(URL.init(string:)) { overrides[.iam] = v }
        self.overrides = overrides
        globalOverride = environment["AWS_ENDPOINT_URL"].flatMap(URL.init(string:))
    }

    /// The operator's override for a service, if any.
    public func override(for service: AWSService) -> URL? { overrides[service] ?? globalOverride }

    public func endpoint(_ service: AWSService, region: String) -> AWSEndpoint {
        let partition = AWSPartition.of(region: region)
        switch service {
        case .sts:
            if let url = override(for: .sts) { return AWSEndpoint(url: url, signingRegion: region) }
            if useGlobalSTS, partition == .aws { return AWSEndpoint(url: URL(string: "https://sts.amazonaws.com/")!, signingRegion: "us-east-1") }
            return AWSEndpoint(url: URL(string: "https://sts.\(region).\(partition.dnsSuffix)/")!, signingRegion: region)
        case .iam:
            if let url = override(for: .iam) { return AWSEndpoint(url: url, signingRegion: partition.iamRegion) }
            return AWSEndpoint(url: URL(string: "https://\(partition.iamHost)/")!, signingRegion: partition.iamRegion)
        }
    }

    /// The real STS hosts of every partition: the global host and `sts.REGION.SUFFIX` for a
    /// well-formed region. Used to refuse a client-chosen host.
    public static func isRealSTSHost(_ host: String) -> (region: String, partition: AWSPartition)? {
        let host = host.lowercased()
        if host == "sts.amazonaws.com" { return ("us-east-1", .aws) }
        for partition in AWSPartition.allCases {
            let suffix = "." + partition.dnsSuffix
            guard host.hasPrefix("sts."), host.hasSuffix(suffix) else { continue }
            let region = String(host.dropFirst(4).dropLast(suffix.count))
            guard isRegion(region), AWSPartition.of(region: region) == partition else { return nil }
            return (region, partition)
        }
        return nil
    }

    /// `xx-name-N` style region names (`us-east-1`, `us-gov-west-1`, `cn-north-1`).
    public static func isRegion(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (3...4).contains(parts.count), text.count <= 25, let last = parts.last, last.allSatisfy(\.isNumber) else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}
