import AWSKit
import Core
import Foundation

/// AWS IAM dynamic secrets: registers the `aws-iam` provider with Core's lease engine.
public struct DynamicAWSIAMPlugin: KMSPlugin {
    public init() {}

    public var name: String { "dynamic-aws-iam" }
    public var tablePrefix: String { "aws_iam_" }

    public func register(_ context: PluginContext) {
        let settings = context.settings.values
        let query = AWSQueryClient(httpClient: context.httpClient, endpoints: AWSEndpointResolver(environment: settings))
        context.providers.register(consoleForm: AWSIAMConsoleForm.form)
        context.providers.register(dynamicSecret: AWSIAMProvider(query: query, environment: settings, platform: context.platform))
    }
}
