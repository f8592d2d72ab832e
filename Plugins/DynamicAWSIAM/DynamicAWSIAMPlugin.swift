import AWSKit
import Core
import Foundation

/// AWS IAM dynamic secrets: registers the `aws-iam` provider with Core's lease engine.
public struct DynamicAWSIAMPlugin: KMSPlugin {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    public var name: String { "dynamic-aws-iam" }

    /// One HTTP client for the process (redirects off); it lives as long as the process.
    static let httpClient = AWSQueryClient.makeHTTPClient()

    public func register(routes: PluginRoutes, providers: ProviderRegistry, platform: Platform) {
        let query = AWSQueryClient(httpClient: Self.httpClient, endpoints: AWSEndpointResolver(environment: environment))
        providers.register(dynamicSecret: AWSIAMProvider(query: query, environment: environment, platform: platform))
    }
}
