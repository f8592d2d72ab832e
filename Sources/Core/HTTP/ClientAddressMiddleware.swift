import Hummingbird

/// Works out the client's address. `X-Forwarded-For` is believed only when the socket peer is
/// one of the operator's trusted proxies, and then the right-most address that is not itself a
/// trusted proxy is the client (left-most entries are client-controlled).
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = KMSRequestContext
    let trustedProxies: [IPRange]

    public init(trustedProxies: [IPRange]) { self.trustedProxies = trustedProxies }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.userAgent = request.headers[.userAgent].map { String($0.prefix(512)) }
        context.clientIP = Self.resolve(peer: context.peerAddress, forwardedFor: request.headers[values: .init("X-Forwarded-For")!],
                                        trustedProxies: trustedProxies)
        return try await next(request, context)
    }

    /// The client address for a peer and its `X-Forwarded-For` values.
    public static func resolve(peer: String?, forwardedFor: [String], trustedProxies: [IPRange]) -> String? {
        guard let peer else { return nil }
        func trusted(_ ip: String) -> Bool { trustedProxies.contains { $0.contains(ip) } }
        guard trusted(peer) else { return peer }
        let chain = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in chain.reversed() {
            guard IPRange.parseAddress(hop) != nil else { return peer }
            if !trusted(hop) { return hop }
        }
        return chain.first.flatMap { IPRange.parseAddress($0) != nil ? $0 : nil } ?? peer
    }
}
