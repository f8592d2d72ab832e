import AsyncHTTPClient
import Foundation
import Logging

/// A provider that may not apply at all: nil means "not configured here", a throw means
/// "configured, but it failed" (which stops the chain, as the AWS SDKs do).
public protocol ChainableCredentialProvider: AWSCredentialProvider {
    func resolve() async throws -> AWSCredentials?
}

extension ChainableCredentialProvider {
    public func credentials() async throws -> AWSCredentials {
        guard let value = try await resolve() else { throw AWSError.credentials("\(Self.self) is not configured") }
        return value
    }
}

/// The AWS SDKs' default chain: environment, web identity (IRSA), shared files, ECS container
/// credentials, EC2 instance metadata, tried in that order.
public struct DefaultCredentialChain: ChainableCredentialProvider {
    public let providers: [any ChainableCredentialProvider]

    public init(providers: [any ChainableCredentialProvider]) { self.providers = providers }

    /// The standard chain for `environment`, using `query` for STS calls and `httpClient` for
    /// the metadata endpoints.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, query: AWSQueryClient, httpClient: HTTPClient) {
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        providers = [
            EnvironmentCredentialProvider(environment: environment),
            WebIdentityCredentialProvider(environment: environment, query: query, region: region),
            ProfileCredentialProvider(environment: environment, query: query),
            ContainerCredentialProvider(environment: environment, httpClient: httpClient),
            InstanceMetadataCredentialProvider(environment: environment, httpClient: httpClient),
        ]
    }

    public func resolve() async throws -> AWSCredentials? {
        for provider in providers {
            if let credentials = try await provider.resolve() { return credentials }
        }
        return nil
    }

    public func credentials() async throws -> AWSCredentials {
        guard let value = try await resolve() else {
            throw AWSError.credentials("no AWS credentials found (environment, web identity, shared files, container or instance metadata)")
        }
        return value
    }
}

/// Caches temporary credentials and refreshes them `margin` before they expire, with one
/// refresh in flight at a time however many callers ask.
public actor CachingCredentialProvider: AWSCredentialProvider {
    let base: any AWSCredentialProvider
    let margin: TimeInterval
    private var cached: AWSCredentials?
    private var refreshing: Task<AWSCredentials, any Error>?

    public init(_ base: any AWSCredentialProvider, refreshMargin: TimeInterval = 300) {
        self.base = base
        self.margin = refreshMargin
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached, !cached.expires(within: margin) { return cached }
        if let refreshing { return try await refreshing.value }
        let base = self.base
        let task = Task { try await base.credentials() }
        refreshing = task
        defer { refreshing = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }
}

extension DefaultCredentialChain {
    /// The server's own credentials for one purpose: a key pair from two named environment
    /// variables when both are set, else the default chain (cached, refreshed before expiry).
    public static func server(keyIdVariable: String, secretVariable: String, environment: [String: String],
                              query: AWSQueryClient) -> any AWSCredentialProvider {
        if let id = environment[keyIdVariable], let secret = environment[secretVariable], !id.isEmpty, !secret.isEmpty {
            return StaticCredentialProvider(AWSCredentials(accessKeyId: id, secretAccessKey: secret))
        }
        return CachingCredentialProvider(DefaultCredentialChain(environment: environment, query: query, httpClient: query.httpClient))
    }
}
