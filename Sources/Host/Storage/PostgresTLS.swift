import Core
import Foundation
import NIOSSL
import PostgresNIO

/// libpq's `sslmode` (and `sslrootcert`) as postgres-nio TLS settings, with libpq's meanings:
/// `disable` (the default when none is given) no TLS; `allow`/`prefer` TLS when the server offers it, unverified;
/// `require` TLS, unverified (verified like `verify-ca` when `sslrootcert` is given);
/// `verify-ca` TLS with the chain checked against `sslrootcert`; `verify-full` that and the
/// server's host name. As in libpq, the verifying modes need `sslrootcert`: a file, or `system`
/// for the system's roots (which any public CA's certificate for any name would satisfy under
/// `verify-ca`, so `system` is accepted with `verify-full` only).
enum PostgresTLS {
    static func settings(sslmode: String, rootCertFile: String?, host: String) throws -> PostgresClient.Configuration.TLS {
        if ["verify-ca", "verify-full"].contains(sslmode) {
            guard let rootCertFile else {
                throw StorageError.other("KMS_DATABASE_URL: sslmode=\(sslmode) needs sslrootcert=/path/to/ca.pem (or sslrootcert=system with verify-full)")
            }
            if rootCertFile == "system", sslmode == "verify-ca" {
                throw StorageError.other("KMS_DATABASE_URL: sslmode=verify-ca with the system roots would accept any public certificate; use verify-full")
            }
        }
        func configuration(_ verification: CertificateVerification) throws -> TLSConfiguration {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = verification
            if let rootCertFile, rootCertFile != "system" {
                guard FileManager.default.isReadableFile(atPath: rootCertFile) else {
                    throw StorageError.other("KMS_DATABASE_URL: sslrootcert \(rootCertFile) cannot be read")
                }
                tls.trustRoots = .file(rootCertFile)
            }
            return tls
        }
        switch sslmode {
        case "disable":
            return .disable
        case "allow", "prefer":
            return .prefer(try configuration(.none))
        case "require":
            return .require(try configuration(rootCertFile == nil ? .none : .noHostnameVerification))
        case "verify-ca":
            return .require(try configuration(.noHostnameVerification))
        case "verify-full":
            // postgres-nio turns SNI and name checks off for IP literals; refuse rather than
            // quietly check less than verify-full promises.
            guard !isIPLiteral(host) else {
                throw StorageError.other("KMS_DATABASE_URL: sslmode=verify-full needs the server's host name as in its certificate, not an IP address")
            }
            return .require(try configuration(.fullVerification))
        default:
            throw StorageError.other("KMS_DATABASE_URL: sslmode must be disable, allow, prefer, require, verify-ca or verify-full")
        }
    }

    static func isIPLiteral(_ host: String) -> Bool {
        IPRange(host) != nil || host.hasPrefix("[")
    }
}
