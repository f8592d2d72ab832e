import AWSKit
import Hummingbird
import Synchronization

/// An IAM endpoint that keeps users in memory and, unlike moto, refuses `DeleteUser` with
/// `DeleteConflict` while the user still has a key, a group or a policy, as AWS does: the
/// property revocation relies on to never leave anything behind.
final class FakeIAM: Sendable {
    struct User: Equatable {
        var keys: Set<String> = []
        var groups: Set<String> = []
        var inlinePolicies: Set<String> = []
        var attachedPolicies: Set<String> = []
    }

    let users = Mutex<[String: User]>([:])
    /// Every call, as `Action` or `Action:AccessKeyId` for key calls, in order.
    let calls = Mutex<[String]>([])

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            return self.answer(Dictionary(SigV4Encoding.parseQuery(body), uniquingKeysWith: { first, _ in first }))
        }
        return router
    }

    private func answer(_ p: [String: String]) -> Response {
        let action = p["Action"] ?? "", name = p["UserName"] ?? ""
        calls.withLock { $0.append(p["AccessKeyId"].map { "\(action):\($0)" } ?? action) }
        return users.withLock { users -> Response in
            guard var user = users[name] else { return Self.error(404, "NoSuchEntity") }
            func removing(_ item: String?, from set: WritableKeyPath<User, Set<String>>) -> Response {
                guard let item, user[keyPath: set].remove(item) != nil else { return Self.error(404, "NoSuchEntity") }
                users[name] = user
                return Self.ok(action, "")
            }
            func members(_ list: String, _ items: Set<String>, _ element: String?) -> Response {
                let xml = items.sorted().map { item in element.map { "<member><\($0)>\(item)</\($0)></member>" } ?? "<member>\(item)</member>" }.joined()
                return Self.ok(action, "<\(list)>\(xml)</\(list)><IsTruncated>false</IsTruncated>")
            }
            switch action {
            case "DeleteAccessKey": return removing(p["AccessKeyId"], from: \.keys)
            case "RemoveUserFromGroup": return removing(p["GroupName"], from: \.groups)
            case "DeleteUserPolicy": return removing(p["PolicyName"], from: \.inlinePolicies)
            case "DetachUserPolicy": return removing(p["PolicyArn"], from: \.attachedPolicies)
            case "ListAccessKeys": return members("AccessKeyMetadata", user.keys, "AccessKeyId")
            case "ListGroupsForUser": return members("Groups", user.groups, "GroupName")
            case "ListUserPolicies": return members("PolicyNames", user.inlinePolicies, nil)
            case "ListAttachedUserPolicies": return members("AttachedPolicies", user.attachedPolicies, "PolicyArn")
            case "DeleteUser":
                guard user == User() else { return Self.error(409, "DeleteConflict") }
                users[name] = nil
                return Self.ok(action, "")
            default: return Self.error(400, "InvalidAction")
            }
        }
    }

    static func ok(_ action: String, _ result: String) -> Response {
        xml(.ok, "<\(action)Response><\(action)Result>\(result)</\(action)Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></\(action)Response>")
    }

    static func error(_ status: Int, _ code: String) -> Response {
        xml(.init(code: status), "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>")
    }

    static func xml(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
