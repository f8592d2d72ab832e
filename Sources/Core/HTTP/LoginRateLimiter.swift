import Foundation
import Hummingbird
import Synchronization

/// Token-bucket rate limits on the unauthenticated login routes, per client (``ClientKey``) and
/// for all clients together, so no single client (and no crowd) can keep the password pool and
/// the identity providers busy: past them, 429 with `Retry-After`. Per replica, in memory; the
/// database-backed lockout is what holds across replicas.
public final class LoginRateLimiter: Sendable {
    struct Bucket { var tokens: Double; var updated: ContinuousClock.Instant }
    struct State { var perClient: [String: Bucket] = [:]; var global: Bucket?; var calls = 0 }
    private let state = Mutex(State())
    let perClientRate: Double, perClientBurst: Double, globalRate: Double, globalBurst: Double
    /// Clients tracked at most; past it, new clients share one bucket until the sweep frees room.
    let maxClients: Int

    /// Rates in requests per second (> 0); bursts in requests (>= 1).
    public init(perClientRate: Double = 10, perClientBurst: Double = 50, globalRate: Double = 200, globalBurst: Double = 400,
                maxClients: Int = 100_000) throws {
        guard perClientRate > 0, globalRate > 0, perClientRate.isFinite, globalRate.isFinite else {
            throw APIError.badRequest("login rates must be positive numbers of requests a second")
        }
        guard perClientBurst >= 1, globalBurst >= 1, perClientBurst.isFinite, globalBurst.isFinite else {
            throw APIError.badRequest("login bursts must be at least one request")
        }
        self.perClientRate = perClientRate
        self.perClientBurst = perClientBurst
        self.globalRate = globalRate
        self.globalBurst = globalBurst
        self.maxClients = maxClients
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    func refill(_ b: Bucket?, rate: Double, burst: Double, now: ContinuousClock.Instant) -> Bucket {
        guard var b else { return Bucket(tokens: burst, updated: now) }
        b.tokens = min(burst, b.tokens + max(0, Self.seconds(now - b.updated)) * rate)
        b.updated = now
        return b
    }

    func wait(_ tokens: Double, rate: Double) -> Int { Int(min(3600, max(1, ((1 - tokens) / rate).rounded(.up)))) }

    /// Takes a token for `client`; nil when admitted, else the seconds to wait.
    public func admit(client: String, now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { s in
            s.calls += 1
            // Now and then (not on every call), forget clients whose bucket has filled up again.
            if s.calls % 4096 == 0 || s.perClient.count >= maxClients {
                s.perClient = s.perClient.filter { $0.value.tokens + max(0, Self.seconds(now - $0.value.updated)) * perClientRate < perClientBurst }
            }
            let key = s.perClient.count >= maxClients && s.perClient[client] == nil ? "overflow" : client
            var mine = refill(s.perClient[key], rate: perClientRate, burst: perClientBurst, now: now)
            guard mine.tokens >= 1 else {
                s.perClient[key] = mine
                return wait(mine.tokens, rate: perClientRate)
            }
            var all = refill(s.global, rate: globalRate, burst: globalBurst, now: now)
            guard all.tokens >= 1 else {
                s.global = all
                return wait(all.tokens, rate: globalRate)
            }
            mine.tokens -= 1
            all.tokens -= 1
            s.perClient[key] = mine
            s.global = all
            return nil
        }
    }

    /// How many clients are tracked now.
    public var trackedClients: Int { state.withLock { $0.perClient.count } }
}

/// Applies a ``LoginRateLimiter`` to the routes of a group.
public struct LoginRateLimitMiddleware: RouterMiddleware {
    public typealias Context = KMSRequestContext
    let limiter: LoginRateLimiter

    public init(limiter: LoginRateLimiter) { self.limiter = limiter }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let wait = limiter.admit(client: ClientKey.of(context.clientIP)) {
            throw APIError.rateLimited("too many login attempts; slow down", retryAfter: wait)
        }
        return try await next(request, context)
    }
}
