import Core
import Foundation
import Hummingbird
import Prometheus

/// `GET /api/status`, `GET /metrics` and the OpenAPI document; none needs a token.
struct OperationsRoutes: Sendable {
    let database: any Database
    let metrics: PrometheusCollectorRegistry
    let openAPI: String

    func register(open: RouterGroup<KMSRequestContext>) {
        open.get("/api/status") { _, _ in
            JSONResponse(["status": "ok", "version": KMSVersion.current])
        }
        open.get("/api/health") { _, _ in
            try await database.ping()
            return JSONResponse(["status": "ok", "database": "ok"])
        }
        open.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        let document = openAPI
        open.get("/api/docs/openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document)))
        }
    }
}

enum KMSVersion {
    static let current = "0.1.0"
}
