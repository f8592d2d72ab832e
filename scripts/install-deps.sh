#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine, skipping what is present.
#   scripts/install-deps.sh          build and run: libargon2-dev, libldap-dev, pkg-config
#   scripts/install-deps.sh --test   also PostgreSQL, slapd and ldap-utils (LDAP Auth's suite), rsyslog (audit streams), chromium and
#                                    chromium-driver (the console's browser suite), wrk, openssl (test
#                                    certificates) and the Python test tools
set -euo pipefail
need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libargon2-dev libldap-dev pkg-config; do have_pkg "$p" || need_apt+=("$p"); done
if [ "${1:-}" = "--test" ]; then
  for p in postgresql slapd ldap-utils rsyslog wrk openssl chromium chromium-driver; do have_pkg "$p" || need_apt+=("$p"); done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  echo "installing Debian packages: ${need_apt[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  python3 -m pip install -q --disable-pip-version-check -r "$here/tests/e2e/requirements.txt"
fi
