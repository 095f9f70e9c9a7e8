#!/usr/bin/env bash
# The VM suite: test/vm/*.test.ts need device-mapper and md, which the build host's kernel may lack, so
# they run in one throw-away VM (../shared/vm/run-in-vm, or $RUN_IN_VM) booted once for the whole suite.
# Then test/image-check reads the image the VM suite left, outside the VM, with guestfish.
# Expects `npm run build` to have run. Without the VM it skips with a reason, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

run_in_vm="${RUN_IN_VM:-$(cd .. && pwd)/shared/vm/run-in-vm}"
if [ ! -x "$run_in_vm" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "test:vm: CI=true but there is no VM runner at $run_in_vm (set RUN_IN_VM)" >&2
    exit 1
  fi
  echo "# VM suite skipped: no VM runner at $run_in_vm (set RUN_IN_VM)"
  exit 0
fi
# run-in-vm's User-mode Linux stage 1 bind-mounts the UML modules onto /lib/modules (-> usr/lib/modules);
# a fresh machine without any kernel modules installed lacks that directory and the VM does not boot.
if [ ! -d /usr/lib/modules ]; then
  if [ "$(id -u)" -eq 0 ]; then mkdir -p /usr/lib/modules; else sudo mkdir -p /usr/lib/modules; fi
fi

"$run_in_vm" --timeout "${VM_TIMEOUT:-600}" -- \
  node --test --test-reporter=spec --test-concurrency=1 dist/test/vm/
node --test --test-reporter=spec dist/test/image-check/
