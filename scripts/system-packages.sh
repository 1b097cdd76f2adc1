#!/usr/bin/env bash
# Installs the Debian packages the test suites use, when they are missing and we are root (CI
# machines start without them). Developers without root install them once themselves.
set -euo pipefail
# PostgreSQL and Ceph (monitor, OSD, RADOS gateway) for the distributed-mode suites: see
# scripts/services/. curl is how ceph.sh sees the gateway answer. Chromium for the browser suite
# (tests/src/browser/), driven by playwright-core.
packages=(rclone openssl postgresql ceph-mon ceph-osd radosgw ceph-common curl chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "The test suites need these Debian packages: ${missing[*]} (apt-get install ${missing[*]})." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
