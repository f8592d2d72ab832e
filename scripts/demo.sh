#!/usr/bin/env bash
# `make demo`: a guided tour on a local AWS emulator (moto), with the kms CLI only.
# Starts moto, a stand-in for AWS's console federation endpoint and kms (embedded store), walks
# through every capability, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test >/dev/null
swift build --product kms >/dev/null
KMS="$PWD/.build/debug/kms"
work=$(mktemp -d /tmp/kms-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() { for _ in $(seq 1 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "timed out waiting for $1" >&2; exit 1; }

MOTO_PORT=$(port); FED_PORT=$(port); KMS_PORT=$(port)
MOTO="http://127.0.0.1:$MOTO_PORT"
step "Starting the AWS emulator (moto) on $MOTO and kms on port $KMS_PORT"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$work/moto.log" 2>&1 & pids+=($!)
wait_for "$MOTO/moto-api/data.json"
python3 scripts/demo_aws.py federation "$MOTO" "$FED_PORT" & pids+=($!)
export KMS_SERVER_URL="http://127.0.0.1:$KMS_PORT"
start_kms() {
  KMS_PORT=$KMS_PORT KMS_DATA_DIR="$work/data" AWS_ENDPOINT_URL="$MOTO" KMS_LEASE_REAPER_INTERVAL=1 KMS_LOG_LEVEL=warning \
    KMS_AWS_FEDERATION_ENDPOINT="http://127.0.0.1:$FED_PORT/federation" "$@" "$KMS" serve >>"$work/kms.log" 2>&1 &
  KMS_PID=$!; pids+=($KMS_PID)
  wait_for "$KMS_SERVER_URL/api/status"
}

step "kms bootstrap: the first organization, its admin user and admin identity (embedded store)"
export KMS_PASSWORD="demo password 1234"
KMS_BOOTSTRAP_PASSWORD="$KMS_PASSWORD" "$KMS" bootstrap --email admin@example.com --organization Acme --data-dir "$work/data" --json >"$work/boot.json"
export KMS_TOKEN=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['identity']['credentials']['token'])" "$work/boot.json")
# The server needs the emulator's keys, which exist only after seeding, and seeding needs the
# project id: start kms, create the project, seed, then restart kms with the keys.
start_kms env
echo "admin token: ${KMS_TOKEN:0:12}…"
PROJECT_JSON=$("$KMS" projects create --name "Web App" --json)
PROJECT_ID=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['project']['id'])" "$PROJECT_JSON")
echo "project web-app ($PROJECT_ID) with environments dev, staging, prod"

step "Seeding the emulator (IAM users and roles; role trust uses ExternalId = the project id), then enforcing signatures"
KEYS=$(python3 scripts/demo_aws.py seed "$MOTO" "$PROJECT_ID")
key() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]][int(sys.argv[3])])" "$KEYS" "$1" "$2"; }
kill "$KMS_PID"; wait "$KMS_PID" 2>/dev/null || true
# The server's own AWS identity is the operator's: only organizations listed in KMS_AWS_AMBIENT_ORGS
# may use it (assume-role, irsa, PAM). The demo allows its one organization, by slug.
start_kms env KMS_AWS_AMBIENT_ORGS=acme KMS_DYNAMIC_SECRET_AWS_ACCESS_KEY_ID="$(key kms-server 0)" KMS_DYNAMIC_SECRET_AWS_SECRET_ACCESS_KEY="$(key kms-server 1)" \
  KMS_PAM_AWS_ACCESS_KEY_ID="$(key kms-server 0)" KMS_PAM_AWS_SECRET_ACCESS_KEY="$(key kms-server 1)"

step "AWS Auth: an identity that the IAM user 'workload' may log in as"
IDENTITY_ID=$("$KMS" identities create --name workload --json | python3 -c "import json,sys; print(json.load(sys.stdin)['identity']['id'])")
"$KMS" identities attach-aws "$IDENTITY_ID" --principals "arn:aws:iam::123456789012:user/workload" --accounts 123456789012
step "kms login aws, as the workload (its AWS key in the environment)"
WORKLOAD_TOKEN=$(AWS_ACCESS_KEY_ID="$(key workload 0)" AWS_SECRET_ACCESS_KEY="$(key workload 1)" AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  "$KMS" login aws --identity-id "$IDENTITY_ID")
echo "workload token: ${WORKLOAD_TOKEN:0:12}…"

step "Dynamic secrets: IAM users through an assume-role connection"
"$KMS" dynamic-secrets create --project web-app --env dev --name deployers --default-ttl 30m --max-ttl 2h \
  --inputs '{"method":"assume-role","roleArn":"arn:aws:iam::123456789012:role/kms-dynamic","credentialType":"iam-user","awsPath":"/kms/","userGroups":"deployers"}'
LEASE=$("$KMS" leases create --project web-app --env dev deployers --env-format)
echo "$LEASE" | sed -E "s/(SECRET_ACCESS_KEY=')[^']{4}[^']*/\1****…/"
eval "$(echo "$LEASE" | grep '^export')"
echo -n "the leased key works: "; python3 scripts/demo_aws.py whoami "$MOTO" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
LEASE_ID=$(echo "$LEASE" | tail -1 | awk '{print $3}')
"$KMS" leases renew --project web-app --env dev "$LEASE_ID" --ttl 30m
"$KMS" leases revoke --project web-app --env dev "$LEASE_ID"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

step "Dynamic secrets: temporary credentials (AssumeRole, at most one hour)"
"$KMS" dynamic-secrets create --project web-app --env dev --name sessions --default-ttl 15m --max-ttl 1h \
  --inputs '{"method":"assume-role","roleArn":"arn:aws:iam::123456789012:role/kms-dynamic","credentialType":"temporary-credentials"}'
TEMP=$("$KMS" leases create --project web-app --env dev sessions --env-format)
eval "$(echo "$TEMP" | grep '^export')"
echo -n "the session works: "; python3 scripts/demo_aws.py whoami "$MOTO" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

step "PAM: a resource, an account, and a console URL for a person"
RESOURCE_ID=$("$KMS" pam resources create --project-id "$PROJECT_ID" --name production --role-arn arn:aws:iam::123456789012:role/kms-pam --json \
  | python3 -c "import json,sys; print(json.load(sys.stdin)['resource']['id'])")
ACCOUNT_ID=$("$KMS" pam accounts create --resource-id "$RESOURCE_ID" --name read-only --target-role-arn arn:aws:iam::123456789012:role/ReadOnly --duration 15m --json \
  | python3 -c "import json,sys; print(json.load(sys.stdin)['account']['id'])")
# An org admin invites; the person sets their own password when accepting (no admin ever sets one).
INVITE=$("$KMS" users invite --email alice@example.com --role member --json | python3 -c "import json,sys; print(json.load(sys.stdin)['inviteToken'])")
KMS_PASSWORD="alice's own passphrase" "$KMS" users accept-invite --token "$INVITE" >/dev/null
"$KMS" projects add-user "$PROJECT_ID" --email alice@example.com --role member
ALICE=$(KMS_PASSWORD="alice's own passphrase" "$KMS" login user --email alice@example.com)
echo "console URL for alice:"
KMS_TOKEN="$ALICE" "$KMS" pam access "$ACCOUNT_ID" --project-id "$PROJECT_ID" --reason "demo"
"$KMS" pam sessions --project-id "$PROJECT_ID"

step "The audit log (hash-chained)"
"$KMS" audit list --limit 12
"$KMS" audit verify
step "Done: everything started by the demo is being stopped."
