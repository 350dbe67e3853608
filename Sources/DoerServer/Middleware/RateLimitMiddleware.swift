import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A token bucket per API token: `burst` requests at once, refilled at `ratePerSecond`.
/// Over the limit the answer is 429 with Retry-After.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let limiter: TokenBucketLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = context.tokenID else { return try await next(request, context) }
        if let wait = limiter.take(key) {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw HTTPError(.tooManyRequests, headers: [.retryAfter: String(seconds)],
                            message: "rate limit exceeded for this token; retry after \(seconds) s")
        }
        return try await next(request, context)
    }
}

/// The buckets, shared by every request.
final class TokenBucketLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let ratePerSecond: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
    }

    /// Takes one token from `key`'s bucket: nil when allowed, else seconds until one is free.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Double? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * ratePerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return ratePerSecond > 0 ? (1 - bucket.tokens) / ratePerSecond : 60
        }
    }
}
