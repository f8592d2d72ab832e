import Foundation

/// A source of AWS credentials.
public protocol AWSCredentialProvider: Sendable {
    /// Current credentials; throws ``AWSError/credentials(_:)`` when this source has none.
    func credentials() async throws -> AWSCredentials
}

/// Fixed credentials (tests, or keys from configuration).
public struct StaticCredentialProvider: AWSCredentialProvider {
    public let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}
