# Sourced by scripts/test.sh: the PostgreSQL and Ceph RGW that the distributed-mode suites use
# (scripts/system-packages.sh installs them). start_test_backends starts throwaway instances on
# free ports and exports their settings (SPOOL_TEST_*); stop_test_backends stops them and removes
# their files.

SERVICES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_BACKENDS_DIR=
POSTGRES_SETTINGS=()
CEPH_SETTINGS=()

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}

start_test_backends() {
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
