import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends one batch of events to a stream's receiver; returns once the receiver has it (a 2xx,
/// a closed syslog connection, an fsync), throws otherwise.
protocol StreamSender: Sendable {
    func send(_ events: [AuditChainEvent], stream: AuditStream) async throws
    /// Releases what the sender holds (connections), when the worker stops.
    func shutdown() async
}

extension StreamSender {
    func shutdown() async {}
}

/// A delivery failure, shown as the stream's `lastError` (never a secret).
struct DeliveryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The address a destination may be reached at now: resolved and checked by the egress policy
/// at every delivery, and then connected to directly, so a name that changes its answer after
/// the check (DNS rebinding) still cannot lead inside.
func checkedAddress(_ host: String, egress: EgressPolicy) async throws -> String {
    do {
        guard let address = try await egress.check(host: host).first else { throw DeliveryError("\(host) does not resolve") }
        return address
    } catch let refused as EgressRefusal {
        throw DeliveryError(refused.description)
    }
}

/// HTTPS POST of `{"events":[...]}` with the stream's headers and `X-KMS-Signature:
/// sha256=<hex HMAC-SHA256 of the body>`.
final class WebhookSender: StreamSender {
    static let timeout: TimeAmount = .seconds(10)
    /// One client per checked address (pinned with `dnsOverride`), kept while it stays valid.
    private let clients: PinnedHTTPClients

    init(egress: EgressPolicy) {
        clients = PinnedHTTPClients(egress: egress)
    }


    static func body(_ events: [AuditChainEvent]) throws -> [UInt8] {
        struct Batch: Encodable { let events: [AuditChainEvent] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(Batch(events: events)))
    }

    func send(_ events: [AuditChainEvent], stream: AuditStream) async throws {
        guard let url = stream.destination.url, let host = URLComponents(string: url)?.host else { throw DeliveryError("the stream has no url") }
        // Errors name the host only: the URL may carry a token.
        let client: HTTPClient
        do { client = try await clients.client(host: host) } catch let refused as EgressRefusal { throw DeliveryError(refused.description) }
        let body = try Self.body(events)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "kms-audit-stream")
        for (name, value) in stream.secrets.headers ?? [:] { request.headers.add(name: name, value: value) }
        request.headers.add(name: Webhook.signatureHeader, value: Webhook.signature(body: body, secret: stream.secrets.secret ?? ""))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: Self.timeout)
        } catch {
            throw DeliveryError("POST to \(host) failed: \(error)")
        }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else { throw DeliveryError("POST to \(host) answered \(response.status.code)") }
    }

    func shutdown() async { await clients.shutdown() }
}

/// RFC 5424 messages over TCP (optionally TLS), framed by octet counting (RFC 6587), one per
/// event, the event's JSON as the message. A batch is delivered once the receiver closes the
/// connection after reading our end of it.
struct SyslogSender: StreamSender {
    let egress: EgressPolicy
    let hostname: String

    /// `LEN <110>1 TIMESTAMP HOST kms - EVENT-TYPE - JSON` (facility 13 log audit, severity 6 info).
    static func frame(_ event: AuditChainEvent, hostname: String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(event), as: UTF8.self)
        let msgid = String(event.eventType.unicodeScalars.filter { (33...126).contains($0.value) }.map(Character.init).prefix(32))
        let message = "<110>1 \(event.createdAt) \(hostname) kms - \(msgid.isEmpty ? "-" : msgid) - \(json)"
        return Array("\(message.utf8.count) \(message)".utf8)
    }

    func send(_ events: [AuditChainEvent], stream: AuditStream) async throws {
        guard let host = stream.destination.host, let port = stream.destination.port else { throw DeliveryError("the stream has no host") }
        let address = try await checkedAddress(host, egress: egress)
        var payload = ByteBuffer()
        for event in events { payload.writeBytes(try Self.frame(event, hostname: hostname)) }
        let tls: NIOSSLContext?
        if stream.destination.tls ?? true {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let pem = stream.destination.caCert { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))) }
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
        let serverName = IPRange.parseAddress(host) == nil ? host : nil
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                        try channel.pipeline.syncOperations.addHandler(PeerCloseWatcher())
                    }
                }
                .connect(host: address, port: port).get()
            try await Self.deliver(payload, on: channel)
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw DeliveryError("syslog to \(host):\(port) failed: \(error)")
        }
    }

    /// Writes the batch, closes our side and waits for the receiver to close its side after
    /// reading everything: only that counts as delivered. One deadline covers the write and the
    /// wait; a reset, a timeout or a cancelled task is a failure.
    static func deliver(_ payload: ByteBuffer, on channel: any Channel) async throws {
        let closed = channel.eventLoop.makePromise(of: Void.self)
        try await channel.eventLoop.submit { try channel.pipeline.syncOperations.handler(type: PeerCloseWatcher.self).watch(closed) }.get()
        let timer = channel.eventLoop.scheduleTask(in: .seconds(15)) {
            (try? channel.pipeline.syncOperations.handler(type: PeerCloseWatcher.self))?
                .finish(.failure(DeliveryError("the syslog receiver did not take the batch within 15 s")))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await channel.writeAndFlush(payload).get()
            try await channel.close(mode: .output).get()
            try await closed.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Completes a promise once: with success when the peer closes the connection, with the error
/// when the connection fails. Event-loop confined.
final class PeerCloseWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private var promise: EventLoopPromise<Void>?
    private var outcome: Result<Void, any Error>?

    /// Completes `promise` with the outcome, now if the connection already ended.
    func watch(_ promise: EventLoopPromise<Void>) {
        self.promise = promise
        if let outcome { promise.completeWith(outcome) }
    }

    func finish(_ result: Result<Void, any Error>) {
        guard outcome == nil else { return }
        outcome = result
        promise?.completeWith(result)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelInactive(context: ChannelHandlerContext) {
        finish(.success(()))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }
}

/// JSON lines appended to a local file (0600, never through a symbolic link), fsynced per batch.
struct FileSender: StreamSender {
    static let pool = BlockingWorkPool(label: "kms.audit-file", concurrency: 2, maxWaiting: 64, busyMessage: "audit file writes are queued")

    func send(_ events: [AuditChainEvent], stream: AuditStream) async throws {
        guard let path = stream.destination.path else { throw DeliveryError("the stream has no path") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for event in events {
            data.append(try encoder.encode(event))
            data.append(0x0A)
        }
        let bytes = data
        try await Self.pool.run {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DeliveryError("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else { throw DeliveryError("cannot write \(path): \(String(cString: strerror(errno)))") }
            guard fsync(fd) == 0 else { throw DeliveryError("cannot sync \(path): \(String(cString: strerror(errno)))") }
        }
    }
}
