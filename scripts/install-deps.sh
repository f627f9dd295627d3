#!/usr/bin/env bash
# Installs what sxcoll needs to build and test, from Debian's packages (Debian 12).
# Optional pieces (ibverbs headers, MPI) are installed too, so that the build has them.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  openmpi-bin libopenmpi-dev   # the MPI_Allreduce peer of the benchmark, and mpirun launches
  libibverbs-dev               # the verbs transport (headers; the Soft-RoCE tests install the rest)
  python3-torch                # the SFT worker and its tests (CPU PyTorch for /usr/bin/python3)
  python3-typing-extensions    # the vendored pydantic 1 that sft_deepspeed_config loads DeepSpeed's config models with
  gnuplot-nox                  # sxcoll sft: the report's charts
  weasyprint                   # sxcoll sft: the report's PDF (HTML -> PDF)
  poppler-utils                # sxcoll sft tests: pdftotext, pdftoppm read the PDF back
  iproute2                     # the netns tests: ip netns, veth, bridge, tc (tests/netns)
  pdsh openssh-server          # netns_validate_pdsh: pdsh -R ssh to an sshd on every namespace host
  slurmd slurmctld slurm-client munge  # cluster_slurm_*: real Slurm in the namespace hosts (tests/cluster)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# The tests start their own munged, slurmctld and slurmd: installing starts no daemon (Debian's
# policy-rc.d convention, only where the machine has no policy of its own).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap '$SUDO rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
