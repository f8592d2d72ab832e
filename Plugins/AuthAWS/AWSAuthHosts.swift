import AWSKit

enum AWSAuthHosts {
    static func isSTS(_ host: String) -> Bool { AWSEndpointResolver.isRealSTSHost(host) != nil }
}
