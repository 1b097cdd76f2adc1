# Sourced by scripts/test.sh: the PostgreSQL and Ceph RGW that the distributed-mode suites use.
# start_test_backends installs them when missing (through apt, as root), starts throwaway
# instances on free ports and exports their settings (SPOOL_TEST_*); stop_test_backends stops
# them and removes their files.

SERVICES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_BACKENDS_DIR=
POSTGRES_SETTINGS=()
CEPH_SETTINGS=()

install_test_backends() {
  local need=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
  command -v radosgw >/dev/null || need+=(ceph-mon ceph-osd radosgw ceph-common)
  command -v curl >/dev/null || need+=(curl)
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "The tests need these Debian packages: ${need[*]}. Install them, or run npm test as root." >&2
    return 1
  fi
  echo "Installing ${need[*]}…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}

start_test_backends() {
  install_test_backends
  TEST_BACKENDS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spool-test-backends.XXXXXX")
  chmod 755 "$TEST_BACKENDS_DIR" # the postgres user works inside it
  POSTGRES_SETTINGS=(PG_DIR="$TEST_BACKENDS_DIR/postgres" PG_PORT="$(free_port)")
  # The memstore OSD keeps objects in RAM; the suites hold a few hundred MiB at most, and
  # deleted objects are freed within seconds.
  CEPH_SETTINGS=(CEPH_DIR="$TEST_BACKENDS_DIR/ceph" CEPH_RGW_PORT="$(free_port)"
    CEPH_MON_PORT="$(free_port)" CEPH_OSD_SIZE=2147483648
    CEPH_ACCESS_KEY=SPOOLTESTACCESSKEY01 CEPH_SECRET_KEY=spoolTestSecretKey0000000000000000000001)
  SPOOL_TEST_POSTGRES_URL=$(env "${POSTGRES_SETTINGS[@]}" "$SERVICES/postgres.sh" start | tail -n 1)
  SPOOL_TEST_S3_ENDPOINT=$(env "${CEPH_SETTINGS[@]}" "$SERVICES/ceph.sh" start | tail -n 1)
  export SPOOL_TEST_POSTGRES_URL SPOOL_TEST_S3_ENDPOINT
  export SPOOL_TEST_S3_ACCESS_KEY=SPOOLTESTACCESSKEY01
  export SPOOL_TEST_S3_SECRET_KEY=spoolTestSecretKey0000000000000000000001
  echo "PostgreSQL: $SPOOL_TEST_POSTGRES_URL  Ceph RGW: $SPOOL_TEST_S3_ENDPOINT" >&2
}

stop_test_backends() {
  [ -n "$TEST_BACKENDS_DIR" ] || return 0
  env "${CEPH_SETTINGS[@]}" "$SERVICES/ceph.sh" stop || true
  env "${POSTGRES_SETTINGS[@]}" "$SERVICES/postgres.sh" stop || true
  rm -rf "$TEST_BACKENDS_DIR"
  TEST_BACKENDS_DIR=
}
