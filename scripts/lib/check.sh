# Sourced by the GPU scripts (gpu-check.sh, gpu-sft-compare.sh): one named check at a time.
# check NAME COMMAND...: runs COMMAND, its output in $RESULTS/NAME.log; a failure is
# remembered in the array `failed` (which the caller declares), not fatal.
check() {
  local name=$1
  shift
  echo "== $name: $*"
  local start=$SECONDS
  if "$@" >"$RESULTS/$name.log" 2>&1; then
    echo "   ok ($((SECONDS - start)) s)"
  else
    echo "   FAILED ($((SECONDS - start)) s): last lines of $RESULTS/$name.log:"
    tail -5 "$RESULTS/$name.log" | sed 's/^/   | /'
    failed+=("$name")
  fi
}

# The end of a GPU script: exit 1 naming the failed checks, else say that all passed.
finish() {
  if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
  fi
  echo "all passed"
}
