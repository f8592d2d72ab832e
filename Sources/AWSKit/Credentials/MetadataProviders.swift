import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The JSON shape both the ECS and the EC2 metadata endpoints answer with.
struct MetadataCredentials: Decodable {
    let AccessKeyId: String
    let SecretAccessKey: String
    let Token: String?
    let Expiration: String?
    let Code: String?

    var credentials: AWSCredentials {
        AWSCredentials(accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: Token, expiration: Expiration.flatMap(parseISO8601))
    }
}

enum MetadataHTTP {
    static func send(_ client: HTTPClient, _ method: HTTPMethod, _ url: String, headers: [(String, String)], timeout: TimeAmount) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            throw AWSError.credentials("metadata endpoint \(url) unreachable: \(error)")
        }
    }
}

/// ECS / container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https, or http on loopback and the ECS/EKS link-local
/// hosts only), with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `_TOKEN_FILE`.
public struct ContainerCredentialProvider: ChainableCredentialProvider {
    let environment: [String: String]
    let httpClient: HTTPClient

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient) {
        self.environment = environment
        self.httpClient = httpClient
    }

    static let allowedHTTPHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]", "169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]

    public func resolve() async throws -> AWSCredentials? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2" + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let parsed = URL(string: full), let host = parsed.host,
                  parsed.scheme == "https" || (parsed.scheme == "http" && (Self.allowedHTTPHosts.contains(host) || host.hasPrefix("127."))) else {
                throw AWSError.credentials("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or http on a loopback or ECS/EKS host")
            }
            url = full
        } else {
            return nil
        }
        var headers: [(String, String)] = []
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let token = try? String(contentsOfFile: file, encoding: .utf8) else { throw AWSError.credentials("cannot read \(file)") }
            headers.append(("Authorization", token.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers.append(("Authorization", token))
        }
        let (status, data) = try await MetadataHTTP.send(httpClient, .GET, url, headers: headers, timeout: .seconds(5))
        guard status == 200, let body = try? JSONDecoder().decode(MetadataCredentials.self, from: data) else {
            throw AWSError.credentials("container credentials endpoint answered HTTP \(status)")
        }
        return body.credentials
    }
}

/// EC2 instance metadata, IMDSv2 only: a session token by PUT, then the role's credentials.
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it; `AWS_EC2_METADATA_DISABLED=true` turns it off.
public struct InstanceMetadataCredentialProvider: ChainableCredentialProvider {
    let endpoint: String
    let disabled: Bool
    let httpClient: HTTPClient

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient) {
        endpoint = (environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        disabled = environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
        self.httpClient = httpClient
    }

    func sessionToken() async throws -> String? {
        guard !disabled else { return nil }
        guard let (status, data) = try? await MetadataHTTP.send(httpClient, .PUT, "\(endpoint)/latest/api/token",
                                                                headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], timeout: .seconds(1)) else {
            return nil // not on EC2
        }
        guard status == 200 else { throw AWSError.credentials("instance metadata refused a session token (HTTP \(status))") }
        return String(decoding: data, as: UTF8.self)
    }

    public func resolve() async throws -> AWSCredentials? {
        guard let token = try await sessionToken() else { return nil }
        let auth = [("X-aws-ec2-metadata-token", token)]
        let (status, roles) = try await MetadataHTTP.send(httpClient, .GET, "\(endpoint)/latest/meta-data/iam/security-credentials/", headers: auth, timeout: .seconds(2))
        guard status == 200, let role = String(decoding: roles, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            throw AWSError.credentials("no IAM role is attached to this instance (HTTP \(status))")
        }
        let (s2, data) = try await MetadataHTTP.send(httpClient, .GET, "\(endpoint)/latest/meta-data/iam/security-credentials/\(role)", headers: auth, timeout: .seconds(2))
        guard s2 == 200, let body = try? JSONDecoder().decode(MetadataCredentials.self, from: data), body.Code == nil || body.Code == "Success" else {
            throw AWSError.credentials("instance metadata credentials unavailable (HTTP \(s2))")
        }
        return body.credentials
    }

    /// The instance's region, from metadata.
    public func region() async throws -> String? {
        guard let token = try await sessionToken() else { return nil }
        let (status, data) = try await MetadataHTTP.send(httpClient, .GET, "\(endpoint)/latest/meta-data/placement/region",
                                                         headers: [("X-aws-ec2-metadata-token", token)], timeout: .seconds(2))
        return status == 200 ? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}

/// The region, as the SDKs find it: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile, then IMDS.
public enum AWSRegionResolver {
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment, query: AWSQueryClient, httpClient: HTTPClient) async -> String? {
        if let r = environment["AWS_REGION"], !r.isEmpty { return r }
        if let r = environment["AWS_DEFAULT_REGION"], !r.isEmpty { return r }
        if let r = ProfileCredentialProvider(environment: environment, query: query).region() { return r }
        return try? await InstanceMetadataCredentialProvider(environment: environment, httpClient: httpClient).region()
    }
}
