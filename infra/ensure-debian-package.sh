#!/usr/bin/env bash
# Usage: ensure-debian-package.sh COMMAND PACKAGE
# Installs Debian's PACKAGE when COMMAND is missing (chromium for the browser tests, wrk for
# the benchmarks). Without apt-get it says so, and fails in CI.
set -euo pipefail
command_name=$1
package=$2
if command -v "$command_name" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$command_name is missing and apt-get is not available: install $package yourself" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing Debian's $package"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null
