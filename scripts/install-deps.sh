#!/usr/bin/env bash
# Installs what blocksmith and its test suites need on Debian 12: the tools it runs or checks against
# (from Debian's archive) and the npm packages pinned in package-lock.json. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  fdisk gdisk util-linux            # sfdisk -J / sgdisk: independent readers of partition tables
  python3-diskimage-builder         # the reference implementation, for differential tests
  e2fsprogs xfsprogs dosfstools btrfs-progs
  lvm2 cryptsetup-bin mdadm
  mtools                            # offline build: mcopy fills vfat inside the image file
  attr                              # tests: setfattr/getfattr put xattrs in the tree and read them back
  qemu-utils bmap-tools             # offline build: --format qcow2; tests check --bmap with bmaptool
  libguestfs-tools linux-image-amd64  # guestfish: independent reader of finished images (tests);
                                      # the kernel is only a Recommends of supermin, so named here
)

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "blocksmith needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The VM suite's User-mode Linux bind-mounts its kernel modules onto /lib/modules (-> usr/lib/modules);
# a machine without any kernel modules installed lacks the directory, and the VM then does not boot.
if [ ! -d /usr/lib/modules ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" mkdir -p /usr/lib/modules
fi

npm ci --no-audit --no-fund
