#!/usr/bin/env bash
# vm-run.sh — run a command inside a throw-away qemu VM that has a real RoCEv2 stack:
# Debian's stock kernel with rdma_rxe (Soft-RoCE) on two dummy rails.
#
#   vm-run.sh [--timeout SECONDS] [--bin PATH]... [--workdir DIR] [--out DIR]
#             [--env NAME=VALUE]... [--memory MIB] -- COMMAND...
#   vm-run.sh --prepare [--workdir DIR]     (install, download, build the cache; no VM)
#
# Why a VM: the CI machines have no RDMA hardware and their kernel has no InfiniBand
# support, so rdma_rxe cannot be loaded on the host. The VM boots Debian's kernel .deb
# (unpacked, never installed) with a small initramfs; nothing leaves the VM (-nic none).
# See tests/softroce/README.md and shared/softroce.md.
#
# Exit status: COMMAND's exit status, or
#   2    bad usage
#   120  the VM ended without reporting COMMAND's status (setup inside the VM failed,
#        kernel panic, qemu could not start); the console above says why
#   121  host-side preparation failed (package install, kernel download, initramfs)
#   124  --timeout expired (the VM was killed)
set -euo pipefail

readonly EXIT_NO_MARKER=120
readonly EXIT_HOST_SETUP=121
readonly EXIT_TIMEOUT=124

# Debian packages this script needs on the host. Tools are taken from the host's own
# packages (same Debian release as the kernel) and copied into the initramfs.
# rdma-core itself is not needed: `rdma` comes from iproute2 and the rxe provider from
# ibverbs-providers; rdma-core would only pull in udev.
readonly HOST_PACKAGES=(qemu-system-x86 busybox-static cpio kmod ibverbs-providers
                        ibverbs-utils perftest iproute2)
# Tools every VM gets, looked up on the host's PATH after the install above.
readonly VM_TOOLS=(bash ip rdma ib_write_bw ib_write_lat ib_read_bw ib_send_bw
                   ibv_rc_pingpong ibv_devinfo ibv_devices)
# Kernel modules in load order (shared/softroce.md); their dependencies are resolved
# with modprobe --show-depends against the unpacked kernel's modules.dep. crc32_generic
# is not a declared dependency of rdma_rxe but rxe asks the crypto API for "crc32"; without
# it `rdma link add` fails with "No such file or directory".
readonly RDMA_MODULES=(ib_core ib_uverbs crc32_generic udp_tunnel ip6_udp_tunnel dummy veth rdma_rxe)
# Only loaded when --out asks for the 9p share.
readonly SHARE_MODULES=(virtio_pci 9pnet_virtio 9p)

rdma_mods=() share_mods=() base_files=()
SELF="$(readlink -f "${BASH_SOURCE[0]}")"
INIT_SCRIPT="$(dirname "$SELF")/vm-init.sh"
readonly SELF INIT_SCRIPT

log() { echo "vm-run: $*" >&2; }
die_setup() { echo "vm-run: error: $*" >&2; exit "$EXIT_HOST_SETUP"; }
die_usage() {
  echo "vm-run: $*" >&2
  echo "usage: vm-run.sh [--timeout SECONDS] [--bin PATH]... [--workdir DIR] [--out DIR]" \
       "[--env NAME=VALUE]... [--memory MIB] -- COMMAND...  (or --prepare; --help)" >&2
  exit 2
}

usage() {
  cat <<'EOF'
usage: vm-run.sh [options] -- COMMAND...

Boots Debian's kernel under qemu with Soft-RoCE on two rails and runs COMMAND there
(with bash, in the writable directory /scratch), then exits with COMMAND's status.

  rail0 192.0.2.1/24    -> rxe0        rail1 198.51.100.1/24 -> rxe1

options:
  --timeout SECONDS  kill the VM after this long, exit 124 (default 900)
  --bin PATH         copy an executable (or script) into the VM, on PATH as its
                     basename, with its shared libraries; repeatable
  --workdir DIR      cache for the kernel and the base initramfs
                     (default ${XDG_CACHE_HOME:-$HOME/.cache}/sxcoll-softroce)
  --out DIR          share host DIR into the VM at /out (9p), for results and logs;
                     the console is also saved as DIR/console.log
  --env NAME=VALUE   set an environment variable for COMMAND; repeatable
  --memory MIB       VM memory (default 2048)
  --prepare          only prepare the host and the cache (packages, kernel, base
                     initramfs), boot nothing; no COMMAND

In the VM, COMMAND sees SXCOLL_VM=1, SXCOLL_VM_HCAS=rxe0,rxe1,
SXCOLL_VM_ADDRS=192.0.2.1,198.51.100.1 and, with --out, SXCOLL_VM_OUT=/out.
Exit status: COMMAND's; 124 timeout; 120 VM ended without reporting a status;
121 host-side preparation failed; 2 bad usage.
EOF
}

# ----------------------------------------------------------------------------- arguments
timeout_s=900
memory_mib=2048
workdir=""
outdir=""
bins=()
envs=()
prepare_only=0
while (($#)); do
  case "$1" in
    --timeout) (($# >= 2)) || die_usage "--timeout needs a value"
               [[ "$2" =~ ^[1-9][0-9]*$ ]] || die_usage "--timeout: not a positive number of seconds: '$2'"
               timeout_s="$2"; shift 2 ;;
    --memory)  (($# >= 2)) || die_usage "--memory needs a value"
               [[ "$2" =~ ^[1-9][0-9]*$ ]] || die_usage "--memory: not a positive number of MiB: '$2'"
               memory_mib="$2"; shift 2 ;;
    --bin)     (($# >= 2)) || die_usage "--bin needs a path"
               [[ -f "$2" && -r "$2" ]] || die_usage "--bin: no such readable file: '$2'"
               bins+=("$(readlink -f "$2")"); shift 2 ;;
    --workdir) (($# >= 2)) || die_usage "--workdir needs a directory"
               workdir="$2"; shift 2 ;;
    --out)     (($# >= 2)) || die_usage "--out needs a directory"
               outdir="$2"; shift 2 ;;
    --env)     (($# >= 2)) || die_usage "--env needs NAME=VALUE"
               [[ "$2" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die_usage "--env: not NAME=VALUE: '$2'"
               envs+=("$2"); shift 2 ;;
    --prepare) prepare_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --)        shift; break ;;
    *)         die_usage "unknown argument '$1' (COMMAND goes after --)" ;;
  esac
done
if ((prepare_only)); then
  (($# == 0)) || die_usage "--prepare takes no COMMAND"
else
  (($#)) || die_usage "no COMMAND given after --"
fi
command_argv=("$@")

# Two --bin files with one basename would overwrite each other on the VM's PATH.
declare -A seen_bin=()
for b in "${bins[@]}"; do
  n="$(basename "$b")"
  [[ -z "${seen_bin[$n]:-}" ]] || die_usage "--bin: two files named '$n'"
  seen_bin[$n]=1
done

cache="${workdir:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sxcoll-softroce}"
mkdir -p "$cache" || die_setup "cannot create cache directory $cache"
cache="$(readlink -f "$cache")"
if [[ -n "$outdir" ]]; then
  mkdir -p "$outdir" || die_usage "--out: cannot create '$outdir'"
  outdir="$(readlink -f "$outdir")"
fi

# Parallel runs (ctest -j) share the cache: installs and cache builds happen under a lock,
# the VMs themselves run unlocked, each from its own temporary directory.
exec {lock_fd}>"$cache/.lock"
flock "$lock_fd"

# ----------------------------------------------------------------------- host packages
as_root() {
  if ((EUID == 0)); then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die_setup "need root to run: $* (install these packages by hand or run as root)"
  fi
}

pkg_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# apt-get update only when needed: a fresh machine may have no lists, or stale ones whose
# files the mirror no longer has.
apt_updated=0
apt_update_once() {
  ((apt_updated)) && return 0
  log "apt-get update"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2 ||
    die_setup "apt-get update failed"
  apt_updated=1
}

install_host_packages() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  # Lock::Timeout: wait for another apt/dpkg (e.g. CI's own installs) instead of failing.
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300
             install -y -q --no-install-recommends)
  if ! as_root "${apt[@]}" "${missing[@]}" >&2; then
    apt_update_once
    as_root "${apt[@]}" "${missing[@]}" >&2 || die_setup "apt-get install ${missing[*]} failed"
  fi
}

# ------------------------------------------------------------------------------ kernel
# The kernel is Debian's linux-image-<abi>-amd64, the package that the linux-image-amd64
# metapackage depends on; unpacked into $cache/kernel/<package>/ and never installed.
# A kernel already in the cache is reused, so runs stay the same until the cache is wiped
# (SXCOLL_VM_KERNEL_PKG=linux-image-... picks one explicitly).
resolve_kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

prepare_kernel() {
  local pkg="${SXCOLL_VM_KERNEL_PKG:-}"
  if [[ -z "$pkg" ]]; then
    # Newest kernel already unpacked, if any.
    local done_marker
    for done_marker in "$cache"/kernel/linux-image-*/.complete; do
      [[ -e "$done_marker" ]] || continue
      pkg="$(printf '%s\n' "$pkg" "$(basename "$(dirname "$done_marker")")" | sort -V | tail -n1)"
    done
  fi
  if [[ -z "$pkg" ]]; then
    pkg="$(resolve_kernel_pkg)"
    if [[ -z "$pkg" ]]; then apt_update_once; pkg="$(resolve_kernel_pkg)"; fi
    [[ -n "$pkg" ]] || die_setup "apt-cache cannot tell which linux-image-*-amd64 linux-image-amd64 depends on"
  fi
  kroot="$cache/kernel/$pkg"
  if [[ ! -e "$kroot/.complete" ]]; then
    log "downloading and unpacking $pkg"
    local dl="$cache/kernel/.download"
    rm -rf "$dl" "$kroot"
    mkdir -p "$dl"
    # No _apt sandbox: the cache directory is usually not readable by _apt (apt warns).
    local download=(apt-get -q -o APT::Sandbox::User=root download "$pkg")
    if ! (cd "$dl" && "${download[@]}" >&2); then
      apt_update_once
      (cd "$dl" && "${download[@]}" >&2) || die_setup "apt-get download $pkg failed"
    fi
    local debs=("$dl/$pkg"_*.deb)
    [[ ${#debs[@]} == 1 && -f "${debs[0]}" ]] || die_setup "apt-get download $pkg left no single .deb"
    rm -rf "$kroot.tmp"
    dpkg-deb -x "${debs[0]}" "$kroot.tmp" || die_setup "dpkg-deb -x of $pkg failed"
    rm -rf "$dl"
    local ver
    ver="$(basename "$(find "$kroot.tmp/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)")"
    [[ -n "$ver" && -f "$kroot.tmp/boot/vmlinuz-$ver" ]] || die_setup "$pkg has no boot/vmlinuz-<version>"
    # The package ships no modules.dep (its postinst makes it); depmod -b builds it here.
    depmod -b "$kroot.tmp" "$ver" || die_setup "depmod -b failed for $pkg"
    echo "$ver" > "$kroot.tmp/.version"
    touch "$kroot.tmp/.complete"
    mv "$kroot.tmp" "$kroot"
  fi
  kver="$(cat "$kroot/.version")"
  kernel_image="$kroot/boot/vmlinuz-$kver"
}

# Module files, in insmod order, for the given module names (dependencies first, each once),
# into the array named by $1. Paths are relative to the unpacked kernel root.
resolve_modules() {
  local -n result="$1"; shift
  local m line path
  declare -A have=()
  result=()
  for m in "$@"; do
    modprobe -d "$kroot" -S "$kver" --show-depends "$m" >"$tmp/modprobe.out" 2>&1 ||
      die_setup "kernel $kver has no module '$m': $(cat "$tmp/modprobe.out")"
    while read -r line; do
      [[ "$line" == insmod\ * ]] || continue   # "builtin x" needs nothing
      path="${line#insmod }"; path="${path%% *}"; path="${path#"$kroot"}"
      [[ -n "${have[$path]:-}" ]] && continue
      have[$path]=1
      result+=("$path")
    done <"$tmp/modprobe.out"
  done
}

# ------------------------------------------------------------------------- initramfs
# Appends to the array named by $1 the absolute paths of the shared libraries and the
# dynamic loader that FILE ($2) needs (nothing for static executables and scripts). A
# library ldd cannot find is an error here: in the VM it would fail less clearly.
elf_deps() {
  local -n into="$1"
  local out lib
  out="$(LC_ALL=C ldd "$2" 2>&1)" || return 0   # "not a dynamic executable"
  if grep -q 'not found' <<<"$out"; then
    die_setup "$2: missing shared libraries:"$'\n'"$(grep 'not found' <<<"$out")"
  fi
  while read -r lib; do
    into+=("$lib")
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
}

# Make the staging root look like the host's top level (on merged-/usr Debian /lib, /bin,
# /lib64 are symlinks into /usr), so that a library copied to the path ldd printed lands
# where the loader will look for it.
make_skeleton() {
  local root="$1" d target
  mkdir -p "$root"
  for d in bin sbin lib lib32 lib64 libx32; do
    [[ -L "/$d" ]] || continue
    target="$(readlink "/$d")"
    # An absolute link would point the staging copy into the host's own /usr.
    [[ "$target" != /* ]] || die_setup "/$d -> $target: absolute top-level link not supported"
    mkdir -p "$root/$target"
    ln -sfn "$target" "$root/$d"
  done
}

# Copy host files to the same absolute path under ROOT, following symlinks.
copy_files() {
  local root="$1" f; shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L --preserve=mode "$f" "$root$f"
  done
}

host_tool() {
  PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" command -v "$1" ||
    die_setup "tool '$1' not found on the host"
}

# The base initramfs (everything but --bin files and the command) is cached; its key
# covers this script, vm-init.sh, the kernel, and the identity of every host file copied
# in, so a package upgrade on the host rebuilds it.
prepare_base() {
  local root="$tmp/base" tools=() t f
  local busybox
  busybox="$(host_tool busybox)"
  # It runs before any library is in place (it is init's shell): it must be static.
  ! LC_ALL=C ldd "$busybox" >/dev/null 2>&1 || die_setup "$busybox is not static (package busybox-static)"
  for t in "${VM_TOOLS[@]}"; do tools+=("$(host_tool "$t")"); done
  local provider
  provider="$(dpkg -L ibverbs-providers | grep -E '/librxe-rdmav[0-9]+\.so$' | head -n1)"
  [[ -n "$provider" && -e "$provider" ]] || die_setup "ibverbs-providers ships no librxe-rdmav*.so"
  [[ -f /etc/libibverbs.d/rxe.driver ]] || die_setup "/etc/libibverbs.d/rxe.driver missing"

  local wanted=("${tools[@]}" "$provider" /etc/libibverbs.d/rxe.driver)
  for f in "${tools[@]}" "$provider"; do elf_deps wanted "$f"; done
  mapfile -t base_files < <(printf '%s\n' "${wanted[@]}" | sort -u)
  resolve_modules rdma_mods "${RDMA_MODULES[@]}"
  resolve_modules share_mods "${SHARE_MODULES[@]}"

  local key
  key="$( { sha256sum "$SELF" "$INIT_SCRIPT"; echo "$kroot $kver"; echo "$busybox";
            stat -L -c '%n %s %Y' "$busybox" "${base_files[@]}"; } | sha256sum | cut -c1-16)"
  base_cpio="$cache/initramfs/base-$key.cpio"
  [[ -f "$base_cpio" ]] && return 0

  log "building base initramfs ($key)"
  make_skeleton "$root"
  mkdir -p "$root"/{proc,sys,dev,tmp,run,root,scratch,etc/sxcoll-vm,opt/sxcoll/bin,opt/busybox/bin}
  mkdir -p "$root/usr/bin" "$root/usr/sbin"
  copy_files "$root" "${base_files[@]}"
  # busybox-static: the shell of init and the small tools; its applets live in their own
  # directory at the end of PATH so that they never shadow the real ip or bash.
  cp "$busybox" "$root/usr/bin/busybox"
  local applet
  for applet in $("$busybox" --list); do
    ln -sf /usr/bin/busybox "$root/opt/busybox/bin/$applet"
  done
  [[ -e "$root/usr/bin/sh" ]] || ln -s busybox "$root/usr/bin/sh"
  [[ -e "$root/bin/sh" ]] || ln -s /usr/bin/busybox "$root/bin/sh"
  # Scripts start with #!/usr/bin/env bash.
  [[ -e "$root/usr/bin/env" ]] || ln -s busybox "$root/usr/bin/env"

  # Modules, uncompressed (busybox insmod may lack xz/zstd support).
  local m
  for m in "${rdma_mods[@]}" "${share_mods[@]}"; do
    mkdir -p "$root$(dirname "${m%.xz}")"
    case "$m" in
      *.ko)    cp "$kroot$m" "$root$m" ;;
      *.ko.xz) command -v xz >/dev/null || die_setup "$m is xz-compressed: install xz-utils"
               xz -dc "$kroot$m" >"$root${m%.xz}" ;;
      *)       die_setup "unexpected module file $m" ;;
    esac
  done
  printf '%s\n' "${rdma_mods[@]%.xz}" >"$root/etc/sxcoll-vm/modules.rdma"
  printf '%s\n' "${share_mods[@]%.xz}" >"$root/etc/sxcoll-vm/modules.share"

  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n192.0.2.1 rail0\n198.51.100.1 rail1\n' >"$root/etc/hosts"
  # PID 1: vm-init.sh beside this script (busybox sh), settings from the per-run archive.
  install -m 755 "$INIT_SCRIPT" "$root/init"

  mkdir -p "$cache/initramfs"
  rm -f "$cache"/initramfs/base-*.cpio   # one base at a time
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) \
    >"$base_cpio.tmp" || die_setup "cpio of the base initramfs failed"
  mv "$base_cpio.tmp" "$base_cpio"
  rm -rf "$root"
}

# The per-run archive, appended to the base one (the kernel unpacks concatenated cpio
# archives in order): --bin files and their libraries, the command, per-run settings.
build_run_archive() {
  local root="$tmp/run" f lib
  make_skeleton "$root"
  mkdir -p "$root/opt/sxcoll/bin" "$root/etc/sxcoll-vm"
  declare -A in_base=()
  for f in "${base_files[@]}"; do in_base[$f]=1; done
  local libs=()
  for f in "${bins[@]}"; do
    cp -L --preserve=mode "$f" "$root/opt/sxcoll/bin/$(basename "$f")"
    chmod a+rx "$root/opt/sxcoll/bin/$(basename "$f")"
    local needed=()
    elf_deps needed "$f"
    for lib in "${needed[@]}"; do
      [[ -n "${in_base[$lib]:-}" ]] || libs+=("$lib")
    done
  done
  if ((${#libs[@]})); then
    mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)
    copy_files "$root" "${libs[@]}"
  fi

  {
    echo "NONCE=$nonce"
    echo "SHARE_TAG=${outdir:+sxcoll_out}"
    echo "RAIL_ADDRS='192.0.2.1/24 198.51.100.1/24'"
  } >"$root/etc/sxcoll-vm/run.conf"   # read by vm-init.sh
  {
    echo "export SXCOLL_VM=1 SXCOLL_VM_HCAS=rxe0,rxe1 SXCOLL_VM_ADDRS=192.0.2.1,198.51.100.1"
    [[ -z "$outdir" ]] || echo "export SXCOLL_VM_OUT=/out"
    local e
    for e in "${envs[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
    printf '%q ' "${command_argv[@]}"; echo
  } >"$root/etc/sxcoll-vm/command"

  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) \
    >"$tmp/run.cpio" || die_setup "cpio of the per-run initramfs failed"
  cat "$base_cpio" "$tmp/run.cpio" >"$tmp/initrd.img"
  rm -rf "$root" "$tmp/run.cpio"
}

# ------------------------------------------------------------------------------ main
tmp="$(mktemp -d "${TMPDIR:-/tmp}/sxcoll-vm.XXXXXX")"
qemu_pid_file="$tmp/qemu.pid"
console_pid=""
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
  # Interrupted while the VM runs: stop it (timeout passes TERM on to qemu) and let the
  # console pipeline finish before its directory goes.
  if [[ -s "$qemu_pid_file" ]]; then kill -TERM "$(cat "$qemu_pid_file")" 2>/dev/null || true; fi
  if [[ -n "$console_pid" ]]; then wait "$console_pid" 2>/dev/null || true; fi
  if [[ "${SXCOLL_VM_KEEP:-0}" == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Any unexpected failure while preparing is a host-side failure, with its own exit status.
set -E
trap 'log "error: host preparation failed at line $LINENO"; exit $EXIT_HOST_SETUP' ERR
t_start=$SECONDS
install_host_packages
prepare_kernel
prepare_base
if ((prepare_only)); then
  trap - ERR
  log "prepared in $((SECONDS - t_start)) s: kernel $kver, $base_cpio"
  exit 0
fi

nonce="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
build_run_archive   # still locked: it reads the base archive, which a rebuild replaces
flock -u "$lock_fd"
trap - ERR
log "host preparation took $((SECONDS - t_start)) s; booting kernel $kver"

# TCG: the CI machines have no usable KVM (where /dev/kvm exists it hangs at "Booting from
# ROM": no VMX for the guest). SXCOLL_VM_ACCEL=kvm is for machines where KVM does work.
# The default CPU model (qemu64) is the x86-64 baseline: binaries built with -march=native
# may die of SIGILL. SXCOLL_VM_CPU=max emulates AVX2 too, at some cost (ib_write_bw ~30%
# slower, because glibc then picks AVX2 string functions that TCG runs slowly).
qemu=(qemu-system-x86_64 -accel "${SXCOLL_VM_ACCEL:-tcg}" ${SXCOLL_VM_CPU:+-cpu "$SXCOLL_VM_CPU"}
      -m "$memory_mib" -smp 2 -nographic -no-reboot -nic none
      -kernel "$kernel_image" -initrd "$tmp/initrd.img"
      -append "console=ttyS0 quiet panic=-1")
if [[ -n "$outdir" ]]; then
  qemu+=(-virtfs "local,path=$outdir,mount_tag=sxcoll_out,security_model=none,id=sxcoll_out")
fi

# qemu runs in the background so that a TERM/INT to this script reaches it (through
# timeout, whose pid is recorded) instead of waiting for the pipeline to end. The console
# is streamed to stdout without the serial line's \r and SeaBIOS's terminal resets, and
# kept for the marker.
t_boot=$SECONDS
{
  set +e   # the pipeline's failure is data here (124 = timeout), not a reason to stop
  ( echo "$BASHPID" >"$qemu_pid_file"
    exec timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 ) |
    tr -d '\r' | sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$tmp/console.log"
  echo "${PIPESTATUS[0]}" >"$tmp/qemu.rc"
} &
console_pid=$!
wait "$console_pid" || true
console_pid=""
: >"$qemu_pid_file"
qemu_rc="$(cat "$tmp/qemu.rc" 2>/dev/null || echo 255)"
[[ -z "$outdir" ]] || cp "$tmp/console.log" "$outdir/console.log"

if ((qemu_rc == 124 || qemu_rc == 137)); then
  log "timeout: the VM ran longer than $timeout_s s and was killed"
  exit "$EXIT_TIMEOUT"
fi
marker="$(grep -aE "^SXCOLL_VM_EXIT_STATUS $nonce [0-9]+\$" "$tmp/console.log" | tail -n1 || true)"
if [[ -z "$marker" ]]; then
  log "error: the VM ended (qemu exit status $qemu_rc) without reporting the command's exit status;" \
      "see the console output above"
  exit "$EXIT_NO_MARKER"
fi
rc="${marker##* }"
log "COMMAND exited with status $rc; VM ran $((SECONDS - t_boot)) s, total $((SECONDS - t_start)) s"
exit "$rc"
