import Core
import Foundation

/// The Infisical login body. Body, headers and URL arrive base64-encoded (the SDKs) or raw
/// (plain body, headers as a JSON string, as the Node SDK docs show).
struct LoginInput: Decodable, Sendable {
    let identityId: String
    let iamHttpRequestMethod: String
    let iamRequestBody: String
    let iamRequestHeaders: String
    let iamRequestUrl: String?

    func decodedBody() throws -> String {
        if iamRequestBody.contains("=") && iamRequestBody.contains("Action") { return iamRequestBody }
        guard let data = Data(base64Encoded: iamRequestBody), let text = String(data: data, encoding: .utf8) else {
            throw APIError.badRequest("iamRequestBody must be base64 of the form-encoded GetCallerIdentity body")
        }
        return text
    }

    func decodedHeaders() throws -> [String: String] {
        let trimmed = iamRequestHeaders.trimmingCharacters(in: .whitespaces)
        let json: Data
        if trimmed.hasPrefix("{") {
            json = Data(trimmed.utf8)
        } else {
            guard let data = Data(base64Encoded: trimmed) else { throw APIError.badRequest("iamRequestHeaders must be base64 of a JSON object") }
            json = data
        }
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw APIError.badRequest("iamRequestHeaders must be a JSON object of header names to values")
        }
        var headers: [String: String] = [:]
        for (name, value) in object {
            if let text = value as? String {
                headers[name] = text
            } else if let list = value as? [String], list.count == 1 {
                headers[name] = list[0]
            } else {
                throw APIError.badRequest("header \(name) must have exactly one string value")
            }
        }
        return headers
    }

    func decodedURL() throws -> String? {
        guard let iamRequestUrl, !iamRequestUrl.isEmpty else { return nil }
        if iamRequestUrl.hasPrefix("https://") || iamRequestUrl.hasPrefix("http://") { return iamRequestUrl }
        guard let data = Data(base64Encoded: iamRequestUrl), let text = String(data: data, encoding: .utf8) else {
            throw APIError.badRequest("iamRequestUrl must be base64 of the STS URL")
        }
        return text
    }
}

/// Aembit Edge's login body: `{clientId, client:{aws:{stsGetCallerIdentity:{headers, region}}}}`.
struct EdgeLoginInput: Decodable, Sendable {
    struct Client: Decodable, Sendable { let aws: AWS }
    struct AWS: Decodable, Sendable { let stsGetCallerIdentity: STS }
    struct STS: Decodable, Sendable { let headers: [String: String]; let region: String }
    let clientId: String
    let client: Client
}
