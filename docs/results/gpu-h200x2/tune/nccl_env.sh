# nccl_env.sh written by sxcoll tune on 2026-11-27T17:43:51Z (host vm)
# engine nccl (--transport socket), 2 ranks on this host
# sizes 1M..256M: 9 size(s) from 1M to 256M, each counted the same (geometric mean of busbw)
# 3 fresh processes per value, Welch's t interval on the busbw log-ratio, 95 % over the values of each knob (Bonferroni); a default changes only when the interval is above 0 and the gain at least 2 %
# busbw of the workload: default 3.563 GB/s, tuned 9.161 GB/s, ratio 2.571 [95 % interval 2.430, 2.721] (3 more processes each, default and tuned alternating after the search)
# evidence: every trial in tune/trials.jsonl, the summary in tune/summary.json
#
# Fixed facts (detected, not tuned):
# NCCL_IB_HCA: not set: no RDMA device in /sys/class/infiniband
# NCCL_IB_GID_INDEX: not set: no active RDMA port
export NCCL_SOCKET_IFNAME=eth0  # detected: no SXCOLL_MASTER or MASTER_ADDR set; the interface of the default route in /proc/net/route (192.0.2.2)
# The trials ran with NCCL_IB_DISABLE=1 NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 (measurement conditions, not exported).
#
# Tuned: gain = busbw ratio - 1 against the value before it, 3 fresh processes per value; the interval's level is 95 % over all the values of a knob (Bonferroni):
# NCCL_NSOCKS_PERTHREAD: default kept: no significant difference (2: +11.0 % [98.3 % interval -5.7, +30.7]; 4: +7.2 % [98.3 % interval -8.6, +25.7]; 8: +7.0 % [98.3 % interval -8.8, +25.5])
export NCCL_SOCKET_NTHREADS=2  # NCCL_SOCKET_NTHREADS: +182.9 % [98.3 % interval +131.5, +245.6] busbw over NCCL default (measured 2: +182.9 % [98.3 % interval +131.5, +245.6]; 4: +137.9 % [98.3 % interval +85.7, +204.9]; 8: +71.1 % [98.3 % interval +40.1, +109.1])
# NCCL_BUFFSIZE: default kept: no significant difference (2M: -16.1 % [98.3 % interval -44.4, +26.6]; 8M: +2.9 % [98.3 % interval -7.1, +13.9]; 16M: -2.4 % [98.3 % interval -8.4, +3.9])
# NCCL_IB_QPS_PER_CONNECTION: skipped: RDMA knob; --transport socket
# NCCL_MIN/MAX_NCHANNELS: skipped: not asked for (--knob)
# NCCL_IB_SPLIT_DATA_ON_QPS: skipped: RDMA knob; --transport socket
# NCCL_IB_TC: skipped: RDMA knob; --transport socket
# NCCL_ALGO: skipped: not asked for (--knob)
# NCCL_PROTO: skipped: not asked for (--knob)
