import Foundation
import Hummingbird
import Synchronization

/// Token-bucket rate limits on the unauthenticated login routes, per client address and for all
/// clients together, so no single client (and no crowd) can keep the password pool and the
/// identity providers busy: past them, 429 with `Retry-After`. Per replica, in memory; the
/// database-backed lockout is what holds across replicas.
public final class LoginRateLimiter: Sendable {
    struct Bucket { var tokens: Double; var updated: ContinuousClock.Instant }
    private let state = Mutex<(perClient: [String: Bucket], global: Bucket?)>(([:], nil))
    let perClientRate: Double, perClientBurst: Double, globalRate: Double, globalBurst: Double

    /// Rates in requests per second; bursts in requests.
    public init(perClientRate: Double = 20, perClientBurst: Double = 100, globalRate: Double = 200, globalBurst: Double = 400) {
        self.perClientRate = perClientRate
        self.perClientBurst = perClientBurst
        self.globalRate = globalRate
        self.globalBurst = globalBurst
    }

    /// Takes a token for `client`; nil when admitted, else the seconds to wait.
    public func admit(client: String, now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { s in
            func refill(_ b: Bucket?, rate: Double, burst: Double) -> Bucket {
                guard var b else { return Bucket(tokens: burst, updated: now) }
                let elapsed = Double((now - b.updated).components.seconds) + Double((now - b.updated).components.attoseconds) / 1e18
                b.tokens = min(burst, b.tokens + max(0, elapsed) * rate)
                b.updated = now
                return b
            }
            if s.perClient.count > 50_000 { s.perClient = s.perClient.filter { $0.value.tokens < perClientBurst } }
            var mine = refill(s.perClient[client], rate: perClientRate, burst: perClientBurst)
            var all = refill(s.global, rate: globalRate, burst: globalBurst)
            defer { s.perClient[client] = mine; s.global = all }
            guard mine.tokens >= 1 else { return max(1, Int(((1 - mine.tokens) / perClientRate).rounded(.up))) }
            guard all.tokens >= 1 else { return max(1, Int(((1 - all.tokens) / globalRate).rounded(.up))) }
            mine.tokens -= 1
            all.tokens -= 1
            return nil
        }
    }
}

/// Applies a ``LoginRateLimiter`` to the routes of a group.
public struct LoginRateLimitMiddleware: RouterMiddleware {
    public typealias Context = KMSRequestContext
    let limiter: LoginRateLimiter

    public init(limiter: LoginRateLimiter) { self.limiter = limiter }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = limiter.admit(client: context.clientIP ?? "-") {
            throw APIError.rateLimited("too many login attempts; slow down", retryAfter: wait)
        }
        return try await next(request, context)
    }
}
