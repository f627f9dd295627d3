# nccl_env.sh written by sxcoll tune on 2026-11-27T18:01:23Z (host vm)
# engine sxcoll (--transport tcp), 2 ranks on this host
# sizes 1M..256M: 9 size(s) from 1M to 256M, each counted the same (geometric mean of busbw)
# 3 fresh processes per value, Welch's t interval on the busbw log-ratio, 95 % over the values of each knob (Bonferroni); a default changes only when the interval is above 0 and the gain at least 2 %
# busbw of the workload: default 2.177 GB/s, tuned 9.895 GB/s, ratio 4.545 [95 % interval 4.268, 4.840] (3 more processes each, default and tuned alternating after the search)
# sxcoll engine: the SXCOLL_* lines record sxcoll bench's flags (--nsocks 8 --buffsize 16777216); NCCL does not read them
# evidence: every trial in tune-sxcoll/trials.jsonl, the summary in tune-sxcoll/summary.json
#
# Fixed facts (detected, not tuned):
# NCCL_IB_HCA: not set: no RDMA device in /sys/class/infiniband
# NCCL_IB_GID_INDEX: not set: no active RDMA port
export NCCL_SOCKET_IFNAME=eth0  # detected: no SXCOLL_MASTER or MASTER_ADDR set; the interface of the default route in /proc/net/route (192.0.2.2)
#
# Tuned: gain = busbw ratio - 1 against the value before it, 3 fresh processes per value; the interval's level is 95 % over all the values of a knob (Bonferroni):
export SXCOLL_NSOCKS=8  # --nsocks: +217.3 % [98.3 % interval +160.9, +285.8] busbw over 1 (measured 2: +83.8 % [98.3 % interval +47.8, +128.5]; 4: +177.0 % [98.3 % interval +123.5, +243.2]; 8: +217.3 % [98.3 % interval +160.9, +285.8])
export SXCOLL_BUFFSIZE=16777216  # --buffsize: +49.4 % [98.8 % interval +34.0, +66.7] busbw over 4M (measured 1M: -70.3 % [98.8 % interval -81.2, -53.1]; 2M: -31.3 % [98.8 % interval -39.0, -22.6]; 8M: +38.0 % [98.8 % interval +22.6, +55.4]; 16M: +49.4 % [98.8 % interval +34.0, +66.7])
# --qps: skipped: RDMA knob; --transport tcp
# --channels: skipped: not asked for (--knob)
# --tc: skipped: RDMA knob; --transport tcp
# --algo: skipped: not asked for (--knob)
