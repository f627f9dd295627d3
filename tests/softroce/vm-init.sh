#!/bin/sh
# vm-init.sh — PID 1 of the Soft-RoCE VM (busybox sh). vm-run.sh installs it as /init
# in the base initramfs; the per-run archive adds /etc/sxcoll-vm/run.conf (NONCE,
# SHARE_TAG, RAIL_ADDRS) and /etc/sxcoll-vm/command (COMMAND as a bash script).
# It brings up rxe0/rxe1 on two dummy rails, runs the command, prints the status marker
# that vm-run.sh looks for, and powers off.
export PATH=/opt/sxcoll/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/busybox/bin
export HOME=/root TERM=dumb
# shellcheck source=/dev/null  # written per run by vm-run.sh
. /etc/sxcoll-vm/run.conf

# On any setup failure: say why, no status marker (the host then exits 120), power off.
fail() {
  echo "vm-init: error: $*"
  poweroff -f
  sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# devtmpfs: the kernel creates /dev/infiniband/uverbsN itself, no udev needed.
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The initramfs root is itself a writable tmpfs; nothing is mounted over /tmp because a
# --bin file or library may have been copied there (its host path).
chmod 1777 /tmp

while read -r m; do
  insmod "$m" || fail "insmod $m failed"
done </etc/sxcoll-vm/modules.rdma

if [ -n "$SHARE_TAG" ]; then
  while read -r m; do
    insmod "$m" || fail "insmod $m failed"
  done </etc/sxcoll-vm/modules.share
  mkdir -p /out
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "$SHARE_TAG" /out ||
    fail "mount of the 9p share failed"
fi

# Rails: dummy netdevs (rxe loops back on the device it sends from; a veth pair inside one
# namespace does not pass traffic). iproute2's ip and rdma, not busybox's ip.
ip link set lo up || fail "ip link set lo up"
i=0
for addr in $RAIL_ADDRS; do
  ip link add "rail$i" type dummy || fail "ip link add rail$i type dummy"
  ip addr add "$addr" dev "rail$i" || fail "ip addr add $addr dev rail$i"
  ip link set "rail$i" up || fail "ip link set rail$i up"
  rdma link add "rxe$i" type rxe netdev "rail$i" || fail "rdma link add rxe$i type rxe netdev rail$i"
  i=$((i + 1))
done

# Wait (bounded) until every rxe device has its uverbs node and the RoCE v2 GID of its
# rail's IPv4 address: the GID table is filled from a work queue after `rdma link add`.
i=0
for addr in $RAIL_ADDRS; do
  ip4="${addr%/*}"
  gid="0000:0000:0000:0000:0000:ffff:$(echo "$ip4" | tr . ' ' | xargs printf '%02x%02x:%02x%02x')"
  n=0
  until grep -qsx "$gid" /sys/class/infiniband/rxe$i/ports/1/gids/* &&
        [ -c /dev/infiniband/uverbs$i ]; do
    n=$((n + 1))
    [ "$n" -le 100 ] || fail "rxe$i: no uverbs node or no IPv4 GID for $ip4 after 10 s"
    sleep 0.1
  done
  i=$((i + 1))
done

# shellcheck disable=SC3045  # busybox ash has ulimit -l; root may pin any memory anyway
ulimit -l unlimited 2>/dev/null || true
echo "vm-init: rails up: $(rdma link show | tr '\n' ';')"
mkdir -p /scratch
cd /scratch || fail "cannot enter /scratch"
bash /etc/sxcoll-vm/command </dev/null
rc=$?
sync
[ -z "$SHARE_TAG" ] || umount /out
echo
echo "SXCOLL_VM_EXIT_STATUS $NONCE $rc"
poweroff -f
sleep 60
