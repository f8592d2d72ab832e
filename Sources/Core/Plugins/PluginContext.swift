import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging

/// A plugin's settings: the `KEY=VALUE` pairs of the config file merged with the process
/// environment (the environment wins), as Host read them once at start-up. Plugins read their
/// settings here, never from the process environment, so a value set only in the file reaches
/// them too.
public struct PluginSettings: Sendable {
    /// Every merged value, for libraries that take an environment-shaped dictionary (AWS
    /// endpoint and credential variables).
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public subscript(_ key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }

    /// A number of seconds within `range`, or `default` when unset; a malformed or out-of-range
    /// value is a start-up error.
    public func seconds(_ key: String, default value: Double, range: ClosedRange<Double> = 0...86_400) throws -> Double {
        guard let text = self[key] else { return value }
        guard let seconds = Double(text), range.contains(seconds) else {
            throw PluginSettingError(key: key, message: "must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return seconds
    }

    /// A positive number, or `default` when unset.
    public func number(_ key: String, default value: Double) throws -> Double {
        guard let text = self[key] else { return value }
        guard let number = Double(text), number > 0, number.isFinite else { throw PluginSettingError(key: key, message: "must be a positive number") }
        return number
    }
}

/// A setting a plugin cannot use, reported before the server starts.
public struct PluginSettingError: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "\(key) \(message)" }
}

/// Everything Host hands a plugin at registration: Core's platform, the route groups, the
/// provider registry, its settings, a logger labelled with its name, and the process's one HTTP
/// client (redirects off), which Host runs as a lifecycle service and shuts down with the server.
public struct PluginContext {
    public let platform: Platform
    public let routes: PluginRoutes
    public let providers: ProviderRegistry
    public let settings: PluginSettings
    public let logger: Logger
    public let httpClient: HTTPClient
    /// The HTTP API called in process, as a given caller (the web console acts through it).
    public let api: InProcessAPI

    public init(platform: Platform, routes: PluginRoutes, providers: ProviderRegistry, settings: PluginSettings, logger: Logger, httpClient: HTTPClient,
                api: InProcessAPI = InProcessAPI()) {
        self.platform = platform
        self.api = api
        self.routes = routes
        self.providers = providers
        self.settings = settings
        self.logger = logger
        self.httpClient = httpClient
    }
}

/// What a plugin's background services get: the same as ``PluginContext`` without routes.
public struct PluginServiceContext: Sendable {
    public let platform: Platform
    public let settings: PluginSettings
    public let logger: Logger
    public let httpClient: HTTPClient

    public init(platform: Platform, settings: PluginSettings, logger: Logger, httpClient: HTTPClient) {
        self.platform = platform
        self.settings = settings
        self.logger = logger
        self.httpClient = httpClient
    }
}
