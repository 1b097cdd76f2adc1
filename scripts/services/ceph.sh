#!/usr/bin/env bash
# A throwaway single-node Ceph (one monitor, one OSD, the RADOS gateway) serving the S3 API on
# 127.0.0.1, from Debian's ceph-mon, ceph-osd, radosgw and ceph-common packages. For tests and
# benchmarks: `start` always builds a fresh, empty cluster in CEPH_DIR.
#
#   scripts/services/ceph.sh start   # prints the S3 endpoint URL once the gateway answers
#   scripts/services/ceph.sh stop
#
# Settings (environment), with defaults:
#   CEPH_DIR=$TMPDIR/spool-ceph   CEPH_RGW_PORT=17480   CEPH_MON_PORT=13300
#   CEPH_OSD_SIZE=2147483648      bytes the OSD may hold. The memstore OSD keeps data in RAM, so
#                                 this caps both; CEPH_OSD_STORE=bluestore keeps it in a sparse file.
#   CEPH_ACCESS_KEY, CEPH_SECRET_KEY   the S3 credentials of the user this script creates.
set -euo pipefail
CEPH_DIR=${CEPH_DIR:-${TMPDIR:-/tmp}/spool-ceph}
CEPH_RGW_PORT=${CEPH_RGW_PORT:-17480}
CEPH_MON_PORT=${CEPH_MON_PORT:-13300}
CEPH_OSD_SIZE=${CEPH_OSD_SIZE:-2147483648}
CEPH_OSD_STORE=${CEPH_OSD_STORE:-memstore}
CEPH_ACCESS_KEY=${CEPH_ACCESS_KEY:-SPOOLTESTACCESSKEY01}
CEPH_SECRET_KEY=${CEPH_SECRET_KEY:-spoolTestSecretKey0000000000000000000001}
export CEPH_CONF=$CEPH_DIR/ceph.conf

# Daemons run in the foreground under nohup so that $! is the daemon itself; their PIDs go here.
pids_of() { cat "$CEPH_DIR"/run/*.pid 2>/dev/null || true; }

alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1")" != Z ]; }

stop() {
  local pids p
  pids=$(pids_of)
  [ -n "$pids" ] || return 0
  kill $pids 2>/dev/null || true
  for _ in $(seq 1 50); do
    local running=0
    for p in $pids; do alive "$p" && running=1; done
    [ $running = 0 ] && break
    sleep 0.2
  done
  kill -9 $pids 2>/dev/null || true
  rm -f "$CEPH_DIR"/run/*.pid
}

write_config() {
  local fsid=$1 store
  if [ "$CEPH_OSD_STORE" = bluestore ]; then
    store="osd objectstore = bluestore
bluestore block path = $CEPH_DIR/osd.img
bluestore block create = true
bluestore block size = $CEPH_OSD_SIZE
bluestore fsck on mkfs = false"
  else
    store="osd objectstore = memstore
memstore device bytes = $CEPH_OSD_SIZE"
  fi
  cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$CEPH_MON_PORT
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $CEPH_DIR/run
log file = $CEPH_DIR/log/\$name.log
# One OSD: one copy of everything, few placement groups (the gateway creates about 7 pools).
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false

[mon.a]
mon data = $CEPH_DIR/mon
mon data avail crit = 0
mon data avail warn = 0
# Commit map changes (each pool the gateway creates) in milliseconds instead of about a second.
paxos propose interval = 0.05
paxos min wait = 0.01

[osd.0]
osd data = $CEPH_DIR/osd
$store
osd class load list = *
osd class default list = *

[client.rgw.spool]
rgw data = $CEPH_DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$CEPH_RGW_PORT
rgw dns name = 127.0.0.1
rgw thread pool size = 128
# Free the space of deleted objects within seconds, not hours: a memstore OSD holds it in RAM.
rgw gc obj min wait = 2
rgw gc processor period = 2
# The gateway asks for cephx and a secure monitor connection unless told otherwise.
ms mon client mode = crc
auth client required = none
CONF
}

start() {
  command -v radosgw >/dev/null ||
    { echo "Ceph is not installed (apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common)" >&2; exit 1; }
  stop
  rm -rf "$CEPH_DIR"
  mkdir -p "$CEPH_DIR"/{mon,osd,rgw,log,run}
  local fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_config "$fsid"
  # The monitor must find itself in the initial map, at the chosen port.
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$CEPH_MON_PORT]" "$CEPH_DIR/monmap" >/dev/null
  ceph-mon --id a --mkfs --monmap "$CEPH_DIR/monmap" --keyring /dev/null
  nohup ceph-mon --id a -f >"$CEPH_DIR/log/mon.out" 2>&1 &
  echo $! >"$CEPH_DIR/run/mon.pid"
  ceph --connect-timeout 30 osd create >/dev/null
  ceph osd crush add osd.0 1 root=default host=localhost >/dev/null 2>&1
  ceph-osd --id 0 --mkfs >"$CEPH_DIR/log/osd-mkfs.out" 2>&1
  nohup ceph-osd --id 0 -f >"$CEPH_DIR/log/osd.out" 2>&1 &
  echo $! >"$CEPH_DIR/run/osd.pid"
  radosgw-admin user create --uid spool --display-name "Spool tests" \
    --access-key "$CEPH_ACCESS_KEY" --secret-key "$CEPH_SECRET_KEY" >"$CEPH_DIR/log/user.out"
  nohup radosgw --id rgw.spool -f >"$CEPH_DIR/log/rgw.out" 2>&1 &
  echo $! >"$CEPH_DIR/run/rgw.pid"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$CEPH_RGW_PORT/" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$CEPH_RGW_PORT"
      return 0
    fi
    sleep 0.2
  done
  echo "the Ceph gateway did not answer on port $CEPH_RGW_PORT; logs in $CEPH_DIR/log" >&2
  tail -n 20 "$CEPH_DIR"/log/*.out >&2
  stop
  return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
