public enum AWSKitPlaceholder {}
