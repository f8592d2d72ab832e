/// A field of a form a plugin contributes to the web console. The console renders it (label,
/// help, the API's error next to it) and turns what was typed into the JSON the plugin's API
/// route takes, so a plugin describes its fields once and never writes HTML.
public struct ConsoleField: Sendable {
    /// How a field is typed in and which JSON it becomes.
    public enum Kind: Sendable, Equatable {
        /// A one-line string.
        case text
        /// A string never shown back (a password, a secret key).
        case secret
        /// A multi-line string (a PEM certificate, a policy document).
        case textarea
        /// An integer.
        case number
        /// A boolean.
        case checkbox
        /// One of a fixed set of strings.
        case select([String])
        /// One string per line (or comma-separated), sent as a JSON array of strings.
        case list
        /// One `key=value` per line, sent as `[{key, value}]`.
        case tags
        /// One address or CIDR per line, sent as `[{ipAddress}]`.
        case ipList
        /// One `claim=values` per line, sent as an object of strings.
        case keyValues
    }

    /// The JSON member, dotted for nested objects (`method` or `credentials.targetRoleArn`).
    public let name: String
    public let label: String
    public let kind: Kind
    public let required: Bool
    public let help: String?
    public let placeholder: String?
    /// The value a new form starts with.
    public let defaultValue: String?

    public init(_ name: String, _ label: String, _ kind: Kind = .text, required: Bool = false, help: String? = nil,
                placeholder: String? = nil, defaultValue: String? = nil) {
        self.name = name
        self.label = label
        self.kind = kind
        self.required = required
        self.help = help
        self.placeholder = placeholder
        self.defaultValue = defaultValue
    }
}

/// An extra credential a login method hands out beside its config (Universal Auth's client
/// secrets, Token Auth's tokens): made by a POST, shown once, optionally listed and revoked.
public struct ConsoleCredentialAction: Sendable {
    /// The button's text, e.g. `Create client secret`.
    public let title: String
    /// The API route that makes one; `{identityId}` is filled in.
    public let path: String
    public let fields: [ConsoleField]
    /// The members of the answer shown once, each with a copy button (e.g. `clientSecret`).
    public let reveal: [String]
    /// The existing ones: the route that lists them (`{identityId}` filled in), the answer's
    /// member holding the array, the columns shown, and the route that revokes one
    /// (`{identityId}` and `{id}` filled in).
    public let list: Listing?

    public struct Listing: Sendable {
        public let path: String
        public let key: String
        public let columns: [(key: String, label: String)]
        public let revokePath: String?
        public init(path: String, key: String, columns: [(key: String, label: String)], revokePath: String?) {
            self.path = path
            self.key = key
            self.columns = columns
            self.revokePath = revokePath
        }
    }

    public init(title: String, path: String, fields: [ConsoleField] = [], reveal: [String], list: Listing? = nil) {
        self.title = title
        self.path = path
        self.fields = fields
        self.reveal = reveal
        self.list = list
    }
}

/// A plugin's form in the web console, registered with ``ProviderRegistry/register(consoleForm:)``.
/// Core's routes own the parts shared by every provider of a kind; the form describes only the
/// provider's own part:
/// - `identityAuth`: the top-level fields of the attach / update body (the console adds the
///   access-token settings);
/// - `dynamicSecret`: the members of `provider.inputs` (the console adds name, path and TTLs);
/// - `pamResource`: the members of `connectionDetails`; `pamAccount`: of `credentials`.
public struct ConsoleForm: Sendable {
    public enum Target: Sendable, Hashable {
        case identityAuth(method: String)
        case dynamicSecret(type: String)
        case pamResource(type: String)
        case pamAccount(type: String)
    }

    public let target: Target
    /// The provider's name as people know it, e.g. `AWS Auth` or `AWS IAM`.
    public let title: String
    /// One sentence on what it is for.
    public let summary: String
    public let fields: [ConsoleField]
    public let actions: [ConsoleCredentialAction]
    /// For credentials handed out (a lease's data, PAM CLI credentials): the environment
    /// variable each key is exported as in the shell block (e.g. `ACCESS_KEY` ->
    /// `AWS_ACCESS_KEY_ID`); keys not named are exported under their own name.
    public let exports: [String: String]

    public init(target: Target, title: String, summary: String, fields: [ConsoleField], actions: [ConsoleCredentialAction] = [],
                exports: [String: String] = [:]) {
        self.target = target
        self.title = title
        self.summary = summary
        self.fields = fields
        self.actions = actions
        self.exports = exports
    }
}
