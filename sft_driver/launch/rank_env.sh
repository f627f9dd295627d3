#!/bin/sh
# Gives the worker torchrun's five variables under launchers that start one process per
# rank but name them their own way (srun: SLURM_*, mpirun: OMPI_COMM_WORLD_*).
# MASTER_ADDR and MASTER_PORT come from the driver through the launcher's environment.
if [ -n "${OMPI_COMM_WORLD_RANK:-}" ]; then
  RANK=$OMPI_COMM_WORLD_RANK WORLD_SIZE=$OMPI_COMM_WORLD_SIZE
  LOCAL_RANK=$OMPI_COMM_WORLD_LOCAL_RANK LOCAL_WORLD_SIZE=$OMPI_COMM_WORLD_LOCAL_SIZE
elif [ -n "${SLURM_PROCID:-}" ]; then
  RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS
  LOCAL_RANK=$SLURM_LOCALID LOCAL_WORLD_SIZE=${SLURM_NTASKS_PER_NODE%%(*}
else
  echo "rank_env.sh: neither OMPI_COMM_WORLD_RANK nor SLURM_PROCID is set: start me through mpirun or srun" >&2
  exit 2
fi
export RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE
exec "$@"
