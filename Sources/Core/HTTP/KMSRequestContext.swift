import Hummingbird
import NIOCore

/// The request context of every route: the peer and client address, the caller once
/// authenticated, and the API's 1 MiB body limit.
public struct KMSRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket peer address, nil when there is no socket (router tests).
    public let peerAddress: String?
    /// The client address after trusted-proxy resolution; set by ``ClientAddressMiddleware``.
    public var clientIP: String?
    /// The `User-Agent` header, for audit entries.
    public var userAgent: String?
    /// The authenticated caller; set by ``AuthenticationMiddleware``.
    public var principal: Principal?

    /// The largest accepted request body: 1 MiB, larger is 413.
    public static let bodyLimit = 1 << 20
    public var maxUploadSize: Int { Self.bodyLimit }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The caller, or a 401 when the route was reached without authentication.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthorized("authentication required") }
        return principal
    }

    /// The identity named by the `identityId` path parameter, for a caller with at least
    /// `minimum` in its organization.
    public func identity(_ platform: Platform, _ minimum: OrgRole, action: String) async throws -> (Principal, Identity) {
        let principal = try requirePrincipal()
        let identity = try await platform.authorizer.requireIdentity(principal, identityId: try parameter("identityId"), minimum, action: action,
                                                                     request: requestInfo, identities: platform.identities)
        return (principal, identity)
    }

    /// The project `id`, for a caller with at least `minimum` in it; a missing id, a missing
    /// project and another organization's project are all a 404.
    public func project(_ platform: Platform, id: String?, _ minimum: ProjectRole, action: String) async throws -> (Principal, Project) {
        let principal = try requirePrincipal()
        guard let id, let project = try await platform.projects.find(id: id) else { throw APIError.notFound("project not found") }
        try await platform.authorizer.requireProject(principal, project: project, minimum, action: action, request: requestInfo)
        return (principal, project)
    }

    /// Audit facts about this request.
    public var requestInfo: RequestInfo { RequestInfo(clientIP: clientIP, userAgent: userAgent) }
}
