import AWSKit
import Core
import Foundation

/// The inputs of an `aws-iam` dynamic secret (api.md), parsed and checked.
struct AWSIAMInputs: Sendable {
    enum Method: String, Sendable { case accessKey = "access-key", assumeRole = "assume-role", irsa }
    enum CredentialType: String, Sendable { case iamUser = "iam-user", temporaryCredentials = "temporary-credentials" }

    let method: Method
    let credentialType: CredentialType
    let region: String
    let roleArn: String?
    let accessKey: String?
    let secretAccessKey: String?
    let awsPath: String
    let permissionBoundaryPolicyArn: String?
    let policyDocument: String?
    let userGroups: [String]
    let policyArns: [String]
    let tags: [(String, String)]
    let usernameTemplate: String

    static let defaultTemplate = "kms-{{randomUsername}}"

    /// Parses and checks inputs. `forRevocation` accepts configs saved under older, looser
    /// rules (an irsa connection without a tenant role, scoping inputs on temporary
    /// credentials), so leases made with them can still be cleaned up; nothing new is made so.
    init(_ json: JSONValue, forRevocation: Bool = false) throws {
        guard let o = json.object else { throw APIError.badRequest("provider.inputs must be an object") }
        func str(_ k: String) -> String? { o[k]?.string.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        guard let m = Method(rawValue: str("method") ?? "access-key") else { throw APIError.badRequest("inputs.method must be access-key, assume-role or irsa") }
        method = m
        guard let t = CredentialType(rawValue: str("credentialType") ?? "iam-user") else {
            throw APIError.badRequest("inputs.credentialType must be iam-user or temporary-credentials")
        }
        credentialType = t
        region = str("region") ?? "us-east-1"
        guard AWSEndpointResolver.isRegion(region) else { throw APIError.badRequest("inputs.region is not a valid AWS region") }
        roleArn = str("roleArn")
        accessKey = str("accessKey")
        secretAccessKey = str("secretAccessKey")
        switch m {
        case .accessKey:
            guard accessKey != nil, secretAccessKey != nil else { throw APIError.badRequest("inputs.accessKey and inputs.secretAccessKey are required for access-key") }
        case .assumeRole:
            guard let roleArn, Self.isRoleArn(roleArn) else { throw APIError.badRequest("inputs.roleArn must be an IAM role ARN for assume-role") }
        case .irsa:
            // The server's IRSA role is the operator's: a tenant always names its own role, which
            // the server's role assumes with ExternalId = project id.
            if let roleArn, !Self.isRoleArn(roleArn) { throw APIError.badRequest("inputs.roleArn must be an IAM role ARN") }
            if roleArn == nil, !forRevocation {
                throw APIError.badRequest("inputs.roleArn must be the IAM role ARN to assume for irsa (the server's own role is never used directly)")
            }
        }
        awsPath = str("awsPath") ?? "/"
        guard awsPath.hasPrefix("/"), awsPath.hasSuffix("/"), awsPath.count <= 512,
              awsPath.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/_+=,.@-".contains($0)) }) else {
            throw APIError.badRequest("inputs.awsPath must start and end with / and use IAM path characters")
        }
        permissionBoundaryPolicyArn = str("permissionBoundaryPolicyArn")
        if let arn = permissionBoundaryPolicyArn, !arn.hasPrefix("arn:aws") || !arn.contains(":policy/") {
            throw APIError.badRequest("inputs.permissionBoundaryPolicyArn must be an IAM policy ARN")
        }
        policyDocument = str("policyDocument")
        if let doc = policyDocument, (try? JSONSerialization.jsonObject(with: Data(doc.utf8))) == nil {
            throw APIError.badRequest("inputs.policyDocument must be a JSON policy document")
        }
        userGroups = (str("userGroups") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        policyArns = (str("policyArns") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for arn in policyArns where !arn.hasPrefix("arn:aws") || !arn.contains(":policy/") {
            throw APIError.badRequest("inputs.policyArns: '\(arn)' is not an IAM policy ARN")
        }
        tags = try (o["tags"]?.array ?? []).map { tag in
            guard let k = tag["key"]?.string, let v = tag["value"]?.string, (1...128).contains(k.count), v.count <= 256, !k.lowercased().hasPrefix("aws:") else {
                throw APIError.badRequest("inputs.tags must be [{key, value}] with 1-128 character keys not starting with aws:")
            }
            return (k, v)
        }
        usernameTemplate = str("usernameTemplate") ?? Self.defaultTemplate
        guard usernameTemplate.contains("{{randomUsername}}") else { throw APIError.badRequest("inputs.usernameTemplate must contain {{randomUsername}}") }
        if credentialType == .temporaryCredentials, !forRevocation {
            // STS sessions have no groups or boundary; GetSessionToken (access-key) takes no
            // session policy either: refuse rather than hand out the connection's full power.
            var ignored: [String] = []
            if !userGroups.isEmpty { ignored.append("userGroups") }
            if permissionBoundaryPolicyArn != nil { ignored.append("permissionBoundaryPolicyArn") }
            if method == .accessKey {
                if policyDocument != nil { ignored.append("policyDocument") }
                if !policyArns.isEmpty { ignored.append("policyArns") }
                if !tags.isEmpty { ignored.append("tags") }
            }
            if !ignored.isEmpty {
                let why = method == .accessKey
                    ? "temporary-credentials over access-key (GetSessionToken) cannot be scoped; use assume-role or irsa to scope them, or iam-user"
                    : "temporary credentials have no groups or permission boundary; scope them with policyDocument or policyArns"
                throw APIError.badRequest("inputs.\(ignored.joined(separator: ", inputs.")) cannot apply: \(why)")
            }
        }
    }

    static func isRoleArn(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4].count == 12 && parts[5].hasPrefix("role/")
    }

    /// The inputs shown on reads: everything but the secret key (masked).
    var publicJSON: JSONValue {
        var o: [String: JSONValue] = [
            "method": .string(method.rawValue), "credentialType": .string(credentialType.rawValue), "region": .string(region),
            "awsPath": .string(awsPath), "userGroups": .string(userGroups.joined(separator: ",")), "policyArns": .string(policyArns.joined(separator: ",")),
            "usernameTemplate": .string(usernameTemplate),
            "tags": .array(tags.map { .object(["key": .string($0.0), "value": .string($0.1)]) }),
        ]
        if let roleArn { o["roleArn"] = .string(roleArn) }
        if let accessKey { o["accessKey"] = .string(accessKey) }
        if secretAccessKey != nil { o["secretAccessKey"] = .string("********") }
        if let permissionBoundaryPolicyArn { o["permissionBoundaryPolicyArn"] = .string(permissionBoundaryPolicyArn) }
        if let policyDocument { o["policyDocument"] = .string(policyDocument) }
        return .object(o)
    }

    var secretJSON: JSONValue { .object(secretAccessKey.map { ["secretAccessKey": .string($0)] } ?? [:]) }

    /// A username from the template: `{{randomUsername}}` becomes a random part derived from the
    /// lease id, `{{unixTimestamp}}` the time; the result is cut to IAM's 64 characters.
    func username(leaseId: String, now: Date) throws -> String {
        let random = String(leaseId.replacingOccurrences(of: "-", with: "").prefix(16))
        let name = usernameTemplate.replacingOccurrences(of: "{{randomUsername}}", with: random)
            .replacingOccurrences(of: "{{unixTimestamp}}", with: String(Int(now.timeIntervalSince1970)))
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+=,.@-".contains($0)) }
        guard allowed, !name.isEmpty else { throw APIError.badRequest("the username template produces invalid IAM characters") }
        return String(name.suffix(64))
    }
}
