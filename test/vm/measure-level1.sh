#!/bin/bash
# Measures the numbers that blocksmith's level-1 size math (LVM, LUKS, md RAID) must reproduce, by running
# the real tools (lvm2, cryptsetup, mdadm) on sparse loop devices. Needs root and a kernel with
# device-mapper (linear, thin-pool, crypt) and md; on the build host that means the VM:
#
#   /work/shared/vm/run-in-vm --no-udev --mem 4G --timeout 1800 -- \
#     bash test/vm/measure-level1.sh >test/fixtures/level1-measurements.txt
#
# Optional arguments pick sections: lvm luks raid (default: all three).
#
# Output: one record per line, `<kind> key=value ...` (values with spaces are double-quoted); lines starting
# with `#` are comments. test/unit/nodes/level1/*/measured.test.ts replays every record against the layout
# functions, so a re-run on a new tool version shows exactly which number moved.
#
# Every loop device, VG, dm-crypt mapping and md array is created under a unique name and released in the
# EXIT trap, even on failure. No global commands (losetup -D, vgchange -an without a name, mdadm --stop
# --scan) are used. Images live in a private temp dir (tmpfs in the VM) and are sparse.
set -u
set -o pipefail
export LC_ALL=C
export LVM_SUPPRESS_FD_WARNINGS=1

PREFIX="bsm$$"
WORK=$(mktemp -d "/tmp/${PREFIX}.XXXXXX")
LOOPS=()
VGS=()
CRYPTS=()
MDS=()
declare -A LOOPFILE=()
LOOP=""

cleanup() {
  local x
  for x in "${MDS[@]}"; do mdadm --stop "$x" >/dev/null 2>&1; done
  for x in "${CRYPTS[@]}"; do cryptsetup close "$x" >/dev/null 2>&1; done
  for x in "${VGS[@]}"; do
    vgchange -an "$x" >/dev/null 2>&1
    vgremove -ff "$x" >/dev/null 2>&1
  done
  for x in "${LOOPS[@]}"; do losetup -d "$x" >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  echo "measure-level1: $*" >&2
  exit 1
}

# forget ARRAY VALUE: drops VALUE from the named array (after it was released normally).
forget() {
  local -n arr=$1
  local kept=() x
  for x in "${arr[@]}"; do [ "$x" = "$2" ] || kept+=("$x"); done
  arr=("${kept[@]}")
}

# new_loop BYTES: a sparse image of BYTES attached to a loop device; sets $LOOP.
new_loop() {
  local file
  file=$(mktemp "$WORK/img.XXXXXX") || die "mktemp failed"
  truncate -s "$1" "$file" || die "truncate $1 failed"
  LOOP=$(losetup --find --show "$file") || die "losetup failed"
  LOOPS+=("$LOOP")
  LOOPFILE[$LOOP]=$file
}

free_loop() {
  losetup -d "$1" || echo "measure-level1: losetup -d $1 failed" >&2
  rm -f "${LOOPFILE[$1]}"
  forget LOOPS "$1"
}

rec() { printf '%s\n' "$*"; }

# first_error FILE: the first meaningful stderr line, safe inside double quotes.
first_error() {
  grep -v -e '^[[:space:]]*$' -e 'WARNING' -e 'leaked on' "$1" | head -n1 | sed -e 's/^[[:space:]]*//' -e 's/"/'"'"'/g'
}

# DIB's parse_abs_size_spec for the integer specs used below, then DIB's rounding down to 4 MiB
# (diskimage_builder/block_device/level1/lvm.py: `size - size % PHYSICAL_EXTENT_BYTES`).
dib_lvm_bytes() {
  local spec=$1 number unit factor
  number=${spec%%[!0-9]*}
  unit=${spec#"$number"}
  case "$unit" in
    "" | B) factor=1 ;;
    K | KB) factor=1000 ;;
    M | MB) factor=1000000 ;;
    G | GB) factor=1000000000 ;;
    T | TB) factor=1000000000000 ;;
    KiB) factor=1024 ;;
    MiB) factor=1048576 ;;
    GiB) factor=1073741824 ;;
    TiB) factor=1099511627776 ;;
    *) die "dib_lvm_bytes: unit $unit not handled" ;;
  esac
  local bytes=$((number * factor))
  echo $((bytes - bytes % 4194304))
}

section_header() {
  rec "# ---- $1"
}

# ---------------------------------------------------------------------------------------------- LVM

vg_make() { # vg_make NAME EXTENT_OPTION(- for default) DEVICE...
  local name=$1 extent=$2
  shift 2
  local opts=()
  [ "$extent" = - ] || opts=(-s "$extent")
  pvcreate -q -y "$@" >/dev/null 2>"$WORK/err" || return 1
  VGS+=("$name")
  vgcreate -q "$name" "$@" "${opts[@]}" >/dev/null 2>"$WORK/err" || return 1
}

vg_drop() {
  vgchange -an "$1" >/dev/null 2>&1
  vgremove -ff "$1" >/dev/null 2>&1
  forget VGS "$1"
}

vg_field() { vgs --noheadings --units b --nosuffix -o "$2" "$1" | tr -d ' '; }

measure_pv() { # measure_pv DEVICE_BYTES EXTENT_OPTION
  local bytes=$1 extent=$2 vg="${PREFIX}pv"
  new_loop "$bytes"
  local dev=$LOOP
  if ! pvcreate -q -y "$dev" >/dev/null 2>"$WORK/err"; then
    rec "lvm-pv dev_bytes=$bytes vgcreate_s=$extent pvcreate_error=\"$(first_error "$WORK/err")\""
    free_loop "$dev"
    return
  fi
  local pe_start
  pe_start=$(pvs --noheadings --units b --nosuffix -o pe_start "$dev" | tr -d ' ')
  if vg_make "$vg" "$extent" "$dev"; then
    rec "lvm-pv dev_bytes=$bytes vgcreate_s=$extent pe_start_bytes=$pe_start" \
      "extent_bytes=$(vg_field "$vg" vg_extent_size) pe_count=$(pvs --noheadings -o pv_pe_count "$dev" | tr -d ' ')" \
      "vg_extents=$(vg_field "$vg" vg_extent_count) vg_free=$(vg_field "$vg" vg_free_count)"
  else
    rec "lvm-pv dev_bytes=$bytes vgcreate_s=$extent pe_start_bytes=$pe_start vgcreate_error=\"$(first_error "$WORK/err")\""
  fi
  vg_drop "$vg"
  pvremove -q -ff -y "$dev" >/dev/null 2>&1
  free_loop "$dev"
}

# measure_pv_stacked KIND MEMBERS: pe_start of a PV on an md array of MEMBERS x 256 MiB (KIND raidN) or on
# an opened LUKS2 mapping of a 256 MiB device (KIND luks2), where the kernel reports io_min/io_opt hints.
measure_pv_stacked() {
  local kind=$1 count=$2 devs=() i dev="" vg="${PREFIX}m" md="/dev/md$MD_NUMBER" name="${PREFIX}p"
  for ((i = 0; i < count; i++)); do
    new_loop $((256 * MiB))
    devs+=("$LOOP")
  done
  case "$kind" in
    raid*)
      MD_NUMBER=$((MD_NUMBER + 1))
      MDS+=("$md")
      mdadm --create "$md" --run --assume-clean --level="${kind#raid}" --raid-devices="$count" "${devs[@]}" \
        >/dev/null 2>"$WORK/err" || die "mdadm for $kind failed: $(first_error "$WORK/err")"
      dev=$md
      ;;
    luks2)
      CRYPTS+=("$name")
      cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$WORK/key" \
        "${devs[0]}" >/dev/null 2>"$WORK/err" || die "luksFormat failed: $(first_error "$WORK/err")"
      cryptsetup open --key-file "$WORK/key" "${devs[0]}" "$name" >/dev/null 2>"$WORK/err" ||
        die "cryptsetup open failed: $(first_error "$WORK/err")"
      dev=/dev/mapper/$name
      ;;
  esac
  local majmin io_min io_opt bytes
  # By major:minor: with --no-udev, /dev/mapper/NAME is a device node, not a link to dm-N.
  majmin=$(lsblk -ndo MAJ:MIN "$dev" | tr -d ' ')
  io_min=$(cat "/sys/dev/block/$majmin/queue/minimum_io_size")
  io_opt=$(cat "/sys/dev/block/$majmin/queue/optimal_io_size")
  bytes=$(blockdev --getsize64 "$dev")
  if vg_make "$vg" - "$dev"; then
    rec "lvm-pv-stacked base=$kind members=$count dev_bytes=$bytes io_min=$io_min io_opt=$io_opt" \
      "pe_start_bytes=$(pvs --noheadings --units b --nosuffix -o pe_start "$dev" | tr -d ' ')" \
      "pe_count=$(pvs --noheadings -o pv_pe_count "$dev" | tr -d ' ')"
  else
    rec "lvm-pv-stacked base=$kind members=$count dev_bytes=$bytes error=\"$(first_error "$WORK/err")\""
  fi
  vg_drop "$vg"
  pvremove -q -ff -y "$dev" >/dev/null 2>&1
  case "$kind" in
    raid*)
      mdadm --stop "$md" >/dev/null 2>&1 || echo "measure-level1: mdadm --stop $md failed" >&2
      forget MDS "$md"
      for i in "${devs[@]}"; do mdadm --zero-superblock "$i" >/dev/null 2>&1; done
      ;;
    luks2)
      cryptsetup close "$name" || echo "measure-level1: cryptsetup close $name failed" >&2
      forget CRYPTS "$name"
      ;;
  esac
  for i in "${devs[@]}"; do free_loop "$i"; done
}

# measure_size_arg VG EXTENT_BYTES SPEC: what `lvcreate -L SPEC` allocates (or its error).
measure_size_arg() {
  local vg=$1 extent_bytes=$2 spec=$3
  if lvcreate -q -y -n sz -L "$spec" "$vg" >/dev/null 2>"$WORK/err"; then
    rec "lvm-L spec=\"$spec\" extent_bytes=$extent_bytes lv_bytes=$(lvs --noheadings --units b --nosuffix -o lv_size "$vg/sz" | tr -d ' ')"
    lvremove -q -y "$vg/sz" >/dev/null 2>&1
  else
    rec "lvm-L spec=\"$spec\" extent_bytes=$extent_bytes error=\"$(first_error "$WORK/err")\""
  fi
}

SEQ=""
SEQ_VG=""
SEQ_STEP=0
SEQ_LOOPS=()

# seq_begin ID EXTENT_OPTION PV_BYTES...: a fresh VG for one sequence of lvcreate calls.
seq_begin() {
  SEQ=$1
  local extent=$2
  shift 2
  SEQ_VG="${PREFIX}s"
  SEQ_STEP=0
  SEQ_LOOPS=()
  local devs=() bytes
  for bytes in "$@"; do
    new_loop "$bytes"
    devs+=("$LOOP")
    SEQ_LOOPS+=("$LOOP")
  done
  vg_make "$SEQ_VG" "$extent" "${devs[@]}" || die "seq $SEQ: vgcreate failed: $(first_error "$WORK/err")"
  local pv_list
  pv_list=$(
    IFS=,
    echo "$*"
  )
  rec "lvm-seq-vg seq=$SEQ vgcreate_s=$extent pv_bytes=$pv_list extent_bytes=$(vg_field "$SEQ_VG" vg_extent_size)" \
    "vg_extents=$(vg_field "$SEQ_VG" vg_extent_count) vg_free=$(vg_field "$SEQ_VG" vg_free_count)"
}

seq_end() {
  vg_drop "$SEQ_VG"
  local dev
  for dev in "${SEQ_LOOPS[@]}"; do
    pvremove -q -ff -y "$dev" >/dev/null 2>&1
    free_loop "$dev"
  done
  SEQ_LOOPS=()
}

# lv_extents VG LV: extents of a (possibly hidden, possibly multi-segment) LV, 0 when it does not exist.
lv_extents() {
  lvs -a --noheadings -o lv_name,seg_size_pe "$1" 2>/dev/null |
    awk -v name="$2" '{ gsub(/[][]/, "", $1) } $1 == name { sum += $2 } END { print sum + 0 }'
}

# step NAME SPEC LVCREATE_ARGS...: runs `lvcreate --name NAME ARGS VG` like DIB, records the outcome.
# SPEC is the blocksmith/DIB config of the LV, e.g. "size=100M" or "type=thin-pool extents=100%FREE".
step() {
  local name=$1 spec=$2
  shift 2
  SEQ_STEP=$((SEQ_STEP + 1))
  local head="lvm-seq seq=$SEQ step=$SEQ_STEP name=$name spec=\"$spec\" argv=\"$*\""
  if ! lvcreate -q -y --name "$name" "$@" "$SEQ_VG" >/dev/null 2>"$WORK/err"; then
    rec "$head error=\"$(first_error "$WORK/err")\" vg_free=$(vg_field "$SEQ_VG" vg_free_count)"
    return
  fi
  local extra=""
  case " $* " in
    *" thin-pool "*)
      extra="tmeta_extents=$(lv_extents "$SEQ_VG" "${name}_tmeta") pmspare_extents=$(lv_extents "$SEQ_VG" lvol0_pmspare)"
      extra+=" chunk_bytes=$(lvs --noheadings --units b --nosuffix -o chunk_size "$SEQ_VG/$name" | tr -d ' ')"
      ;;
  esac
  rec "$head lv_extents=$(lvs --noheadings -o seg_size_pe "$SEQ_VG/$name" | awk '{ s += $1 } END { print s }')" \
    "lv_bytes=$(lvs --noheadings --units b --nosuffix -o lv_size "$SEQ_VG/$name" | tr -d ' ')" \
    "$extra vg_free=$(vg_field "$SEQ_VG" vg_free_count)"
}

# dib_step NAME SPEC [TYPE [POOL]]: the argv DIB builds for a `size:` LV, with its 4 MiB rounding.
dib_size_step() {
  local name=$1 size=$2 type=${3:-} pool=${4:-} bytes
  bytes=$(dib_lvm_bytes "$size")
  case "$type" in
    "") step "$name" "size=$size" -L "${bytes}B" ;;
    thin-pool) step "$name" "type=thin-pool size=$size" --type thin-pool -L "${bytes}B" ;;
    thin) step "$name" "type=thin pool=$pool size=$size" --type thin --thin-pool "$pool" -V "${bytes}B" ;;
  esac
}

MiB=1048576
GiB=1073741824
TiB=1099511627776

measure_lvm() {
  section_header "lvm: pvcreate + vgcreate (pe_start, extent count)"
  local bytes extent
  for bytes in $((2 * MiB - 512)) $((2 * MiB)) $((3 * MiB)) $((5 * MiB)) $((8 * MiB)) $((100 * MiB)) \
    $((100 * MiB + 512)) $((103 * MiB + 512)) $((GiB)) $((GiB + 3 * MiB + 512 * 1024)) $((40 * GiB + 12 * MiB)); do
    for extent in - 1m 8m 32m 384k; do measure_pv "$bytes" "$extent"; done
  done
  measure_pv $((100 * MiB)) 1s
  measure_pv $((100 * MiB)) 4M
  measure_pv $((100 * MiB)) 4MiB
  measure_pv $((100 * MiB)) 0.5m
  measure_pv $((100 * MiB)) 100k
  measure_pv $((100 * MiB)) 3000b
  measure_pv $((100 * MiB)) +4m

  section_header "lvm: pvcreate on md arrays and dm-crypt (device topology hints)"
  measure_pv_stacked raid0 3
  measure_pv_stacked raid5 3
  measure_pv_stacked raid5 4
  measure_pv_stacked raid1 2
  measure_pv_stacked raid10 4
  measure_pv_stacked luks2 1

  section_header "lvm: lvcreate -L parsing (512-byte extents show the exact size)"
  new_loop $((3 * GiB))
  local fine=$LOOP
  vg_make "${PREFIX}f" 1s "$fine" || die "vgcreate -s 1s failed: $(first_error "$WORK/err")"
  local spec
  for spec in 10 10m 10M 1.5g 1.5G 0.3m .5m 0.0001m 2048s 2048S 1048576b 1048576B 1000b 10MiB 10mb 10x 1k 1K \
    1e1m 0x10 0 00.5 -5m +5m 1t; do
    measure_size_arg "${PREFIX}f" 512 "$spec"
  done
  vg_drop "${PREFIX}f"
  free_loop "$fine"
  new_loop $((GiB))
  local coarse=$LOOP
  vg_make "${PREFIX}c" - "$coarse" || die "vgcreate failed: $(first_error "$WORK/err")"
  for spec in 1 4 5 4.1 1t 1T 1p 1e 16e; do measure_size_arg "${PREFIX}c" 4194304 "$spec"; done
  vg_drop "${PREFIX}c"
  free_loop "$coarse"

  section_header "lvm: lvcreate sequences as DIB runs them (percentages, sizes, errors)"
  local e997=$((MiB + 997 * 4 * MiB)) e250=$((MiB + 250 * 4 * MiB))

  seq_begin vg40g-vg - $((40 * GiB + 12 * MiB))
  step a "extents=23%VG" -l 23%VG
  step b "extents=57%VG" -l 57%VG
  step c "extents=20%VG" -l 20%VG
  step d "extents=100%FREE" -l 100%FREE
  seq_end

  seq_begin vg997-vg - $e997
  step a "extents=23%VG" -l 23%VG
  step b "extents=57%VG" -l 57%VG
  step c "extents=20%VG" -l 20%VG
  step d "extents=100%FREE" -l 100%FREE
  step e "extents=1" -l 1
  seq_end

  seq_begin vg997-cap - $e997
  step a "extents=60%VG" -l 60%VG
  step b "extents=60%VG" -l 60%VG
  step c "extents=10%VG" -l 10%VG
  seq_end

  seq_begin vg997-over - $e997
  step a "extents=150%VG" -l 150%VG
  seq_end

  seq_begin vg997-free - $e997
  step a "extents=50%FREE" -l 50%FREE
  step b "extents=50%FREE" -l 50%FREE
  step c "extents=33%FREE" -l 33%FREE
  step d "extents=100%FREE" -l 100%FREE
  step e "extents=100%FREE" -l 100%FREE
  seq_end

  seq_begin vg997-freeover - $e997
  step a "extents=150%FREE" -l 150%FREE
  step b "extents=1%FREE" -l 1%FREE
  step c "extents=0%FREE" -l 0%FREE
  seq_end

  seq_begin vg997-pvs - $e997
  step a "extents=30%PVS" -l 30%PVS
  step b "extents=80%PVS" -l 80%PVS
  step c "extents=70%PVS" -l 70%PVS
  step d "extents=100%FREE" -l 100%FREE
  seq_end

  seq_begin two-pv - $e997 $e250
  step a "extents=23%VG" -l 23%VG
  step b "extents=50%PVS" -l 50%PVS
  step c "extents=100%FREE" -l 100%FREE
  seq_end

  seq_begin vg997-abs - $e997
  step a "extents=100" -l 100
  step b "extents=1000" -l 1000
  step c "extents=23.5%VG" -l 23.5%VG
  step d "extents=0" -l 0
  dib_size_step e 1G
  dib_size_step f 100M
  dib_size_step g 1GiB
  dib_size_step h 5G
  dib_size_step i 3MiB
  dib_size_step j 4MiB
  step k "extents=10%LV" -l 10%LV
  seq_end

  seq_begin ext8m 8m $((GiB))
  dib_size_step a 12MiB
  dib_size_step b 100M
  dib_size_step c 3MiB
  step d "extents=10%VG" -l 10%VG
  seq_end

  seq_begin ext1m 1m $((GiB))
  dib_size_step a 100M
  dib_size_step b 10MiB
  step c "extents=10%VG" -l 10%VG
  seq_end

  seq_begin ext384k 384k $((GiB))
  dib_size_step a 100M
  step b "extents=50%FREE" -l 50%FREE
  seq_end

  section_header "lvm: thin pools (hidden _tmeta and lvol0_pmspare LVs) and thin LVs"
  seq_begin thin-small - $((40 * GiB + 12 * MiB))
  dib_size_step pool 100M thin-pool
  dib_size_step t1 1G thin pool
  dib_size_step t2 100M thin pool
  dib_size_step t3 50GiB thin pool
  step t4 "type=thin pool=pool extents=100" --type thin --thin-pool pool -l 100
  step t5 "type=thin pool=pool extents=10%VG" --type thin --thin-pool pool -l 10%VG
  seq_end

  seq_begin thin-two - $((40 * GiB + 12 * MiB))
  dib_size_step p1 1G thin-pool
  dib_size_step p2 10G thin-pool
  dib_size_step p3 1G thin-pool
  seq_end

  seq_begin thin-40g - $((40 * GiB + 12 * MiB))
  dib_size_step pool 40GiB thin-pool
  seq_end

  seq_begin thin-free - $((40 * GiB + 12 * MiB))
  step pool "type=thin-pool extents=100%FREE" --type thin-pool -l 100%FREE
  dib_size_step t1 100G thin pool
  seq_end

  seq_begin thin-vg-then-free - $((40 * GiB + 12 * MiB))
  step p1 "type=thin-pool extents=50%VG" --type thin-pool -l 50%VG
  step p2 "type=thin-pool extents=100%FREE" --type thin-pool -l 100%FREE
  seq_end

  seq_begin thin-100vg - $((40 * GiB + 12 * MiB))
  step pool "type=thin-pool extents=100%VG" --type thin-pool -l 100%VG
  step p2 "type=thin-pool extents=90%VG" --type thin-pool -l 90%VG
  seq_end

  seq_begin thin-pvs - $e997
  step pool "type=thin-pool extents=100%PVS" --type thin-pool -l 100%PVS
  seq_end

  seq_begin thin-abs - $e997
  step pool "type=thin-pool extents=990" --type thin-pool -l 990
  step p2 "type=thin-pool extents=10" --type thin-pool -l 10
  seq_end

  local size
  for size in 100G 128GiB 129GiB 200G 256GiB 257GiB 1TiB; do
    seq_begin "thin-$size" - $((2 * TiB + MiB))
    dib_size_step pool "$size" thin-pool
    seq_end
  done

  seq_begin thin-ext1m 1m $((40 * GiB + 12 * MiB))
  dib_size_step p1 1G thin-pool
  dib_size_step p2 10G thin-pool
  seq_end

  seq_begin thin-ext32m 32m $((40 * GiB + 12 * MiB))
  dib_size_step p1 1G thin-pool
  dib_size_step p2 33G thin-pool
  seq_end

  seq_begin thin-ext32m-big 32m $((2 * TiB + MiB))
  dib_size_step pool 1TiB thin-pool
  seq_end
}

# --------------------------------------------------------------------------------------------- LUKS

printf 'blocksmith-measure' >"$WORK/key"

# luks_case TYPE BASE_BYTES ARGS...: luksFormat + luksDump + open, records the offset and mapped size.
luks_case() {
  local type=$1 bytes=$2
  shift 2
  local name="${PREFIX}c"
  new_loop "$bytes"
  local dev=$LOOP
  local head="luks type=$type base_bytes=$bytes argv=\"$*\""
  if ! cryptsetup luksFormat -q --type "$type" "$@" --key-file "$WORK/key" "$dev" >/dev/null 2>"$WORK/err"; then
    rec "$head error=\"$(first_error "$WORK/err")\""
    free_loop "$dev"
    return
  fi
  cryptsetup luksDump "$dev" >"$WORK/dump" 2>&1
  local offset cipher key_bits sector pbkdf hash
  if [ "$type" = luks1 ]; then
    offset=$(($(awk -F: '/^Payload offset/ { gsub(/ /, "", $2); print $2 }' "$WORK/dump") * 512))
    # "Cipher mode:" may itself hold a colon (cbc-essiv:sha256), so strip the label instead of splitting.
    cipher="$(sed -n 's/^Cipher name:[[:space:]]*//p' "$WORK/dump")-$(sed -n 's/^Cipher mode:[[:space:]]*//p' "$WORK/dump")"
    key_bits=$(awk -F: '/^MK bits/ { gsub(/[ \t]/, "", $2); print $2 }' "$WORK/dump")
    sector=512
    pbkdf=pbkdf2 # a LUKS1 header has no PBKDF field: its keyslots are always PBKDF2
    hash=$(awk -F: '/^Hash spec/ { gsub(/[ \t]/, "", $2); print $2 }' "$WORK/dump")
  else
    # The first "offset:" / "sector:" / "cipher:" lines belong to the data segment (segment 0).
    offset=$(awk '/^Data segments:/ { s = 1 } s && $1 == "offset:" { print $2; exit }' "$WORK/dump")
    sector=$(awk '/^Data segments:/ { s = 1 } s && $1 == "sector:" { print $2; exit }' "$WORK/dump")
    cipher=$(awk '/^Data segments:/ { s = 1 } s && $1 == "cipher:" { print $2; exit }' "$WORK/dump")
    key_bits=$(awk '/^Keyslots:/ { s = 1 } s && $1 == "Key:" { print $2; exit }' "$WORK/dump")
    pbkdf=$(awk '/^Keyslots:/ { s = 1 } s && $1 == "PBKDF:" { print $2; exit }' "$WORK/dump")
    hash=$(awk '/^Keyslots:/ { s = 1 } s && $1 == "Hash:" { print $2; exit }' "$WORK/dump")
  fi
  local fields="offset_bytes=$offset sector_bytes=$sector cipher=$cipher key_bits=$key_bits pbkdf=$pbkdf hash=$hash"
  CRYPTS+=("$name")
  if cryptsetup open --key-file "$WORK/key" "$dev" "$name" >/dev/null 2>"$WORK/err"; then
    rec "$head $fields mapped_bytes=$(blockdev --getsize64 "/dev/mapper/$name")"
    cryptsetup close "$name" || echo "measure-level1: cryptsetup close $name failed" >&2
  else
    rec "$head $fields open_error=\"$(first_error "$WORK/err")\""
  fi
  forget CRYPTS "$name"
  free_loop "$dev"
}

measure_luks() {
  section_header "luks: cryptsetup --help defaults"
  cryptsetup --help | grep -E 'Default PBKDF|Iteration time|LUKS: |Default compiled-in metadata format' |
    sed -e 's/^[[:space:]]*/# help: /'
  local fast=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
  section_header "luks: defaults as luksFormat applies them (no -c/-s/--pbkdf; cheap timing only)"
  luks_case luks1 $((64 * MiB)) --iter-time 1
  luks_case luks2 $((64 * MiB)) --iter-time 1 --pbkdf-memory 32 --pbkdf-parallel 1

  section_header "luks: payload offsets and mapped sizes"
  local bytes
  for bytes in $((2 * MiB)) $((3 * MiB)) $((4 * MiB)) $((64 * MiB)) $((100 * MiB + 512)) $((GiB)); do
    luks_case luks1 "$bytes" "${fast[@]}"
  done
  luks_case luks1 $((100 * MiB + 512)) "${fast[@]}" -s 512
  luks_case luks1 $((100 * MiB + 512)) "${fast[@]}" -s 256
  luks_case luks1 $((100 * MiB + 512)) "${fast[@]}" -s 128
  luks_case luks1 $((100 * MiB + 512)) "${fast[@]}" -c aes-cbc-essiv:sha256 -s 256
  luks_case luks1 $((100 * MiB + 512)) "${fast[@]}" -c aes-cbc-essiv:sha256 -s 128
  luks_case luks1 $((100 * MiB + 512)) "${fast[@]}" -c serpent-xts-plain64 -s 512
  luks_case luks1 $((100 * MiB + 512)) --pbkdf argon2id --iter-time 1 --pbkdf-memory 32 --pbkdf-parallel 1
  for bytes in $((16 * MiB)) $((16 * MiB + 4096)) $((17 * MiB)) $((64 * MiB)) $((100 * MiB + 512)) $((GiB)); do
    luks_case luks2 "$bytes" "${fast[@]}"
  done
  luks_case luks2 $((100 * MiB + 512)) "${fast[@]}" -s 256
  luks_case luks2 $((100 * MiB + 512)) "${fast[@]}" -c aes-cbc-essiv:sha256 -s 256
  luks_case luks2 $((64 * MiB)) "${fast[@]}" --sector-size 4096
  luks_case luks2 $((100 * MiB + 512)) "${fast[@]}" --sector-size 4096
  luks_case luks2 $((100 * MiB + 2048)) "${fast[@]}" --sector-size 4096
}

# --------------------------------------------------------------------------------------------- RAID

MD_NUMBER=100

kib_field() { # kib_field FILE LABEL: "Array Size : 130048 (127.00 MiB ...)" -> 130048
  awk -F: -v label="$2" '{ key = $1; gsub(/^[ \t]+|[ \t]+$/, "", key) } key == label { split($2, v, " "); print v[1]; exit }' "$1"
}

# raid_case LEVEL METADATA MEMBER_BYTES...: mdadm --create, then --detail/--examine.
raid_case() {
  local level=$1 metadata=$2
  shift 2
  local devs=() bytes md="/dev/md$MD_NUMBER"
  MD_NUMBER=$((MD_NUMBER + 1))
  for bytes in "$@"; do
    new_loop "$bytes"
    devs+=("$LOOP")
  done
  local members
  members=$(
    IFS=,
    echo "$*"
  )
  local head="raid level=$level metadata=$metadata members=$members"
  MDS+=("$md")
  if mdadm --create "$md" --run --assume-clean --level="$level" --raid-devices=$# --metadata="$metadata" \
    "${devs[@]}" >/dev/null 2>"$WORK/err"; then
    mdadm --detail "$md" >"$WORK/detail" 2>&1
    local offsets="" dev
    for dev in "${devs[@]}"; do
      mdadm --examine "$dev" >"$WORK/examine" 2>&1
      local offset
      offset=$(awk -F: '$1 ~ /Data Offset/ { split($2, v, " "); print v[1]; exit }' "$WORK/examine")
      offsets+="${offsets:+,}${offset:-0}"
    done
    mdadm --examine "${devs[0]}" >"$WORK/examine" 2>&1
    local super avail bitmap=no
    super=$(awk -F: '$1 ~ /Super Offset/ { split($2, v, " "); print v[1]; exit }' "$WORK/examine")
    avail=$(awk -F: '$1 ~ /Avail Dev Size/ { split($2, v, " "); print v[1]; exit }' "$WORK/examine")
    grep -q 'Intent Bitmap : Internal' "$WORK/detail" && bitmap=yes
    local used chunk
    used=$(kib_field "$WORK/detail" "Used Dev Size")
    chunk=$(kib_field "$WORK/detail" "Chunk Size" | tr -d K)
    rec "$head data_offset_sectors=$offsets super_offset_sectors=${super:-none} avail_dev_sectors=${avail:-none}" \
      "array_kib=$(kib_field "$WORK/detail" "Array Size") used_dev_kib=${used:-none}" \
      "md_bytes=$(blockdev --getsize64 "$md") chunk_kib=${chunk:-none} bitmap=$bitmap"
    mdadm --stop "$md" >/dev/null 2>&1 || echo "measure-level1: mdadm --stop $md failed" >&2
  else
    rec "$head error=\"$(first_error "$WORK/err")\""
  fi
  forget MDS "$md"
  for dev in "${devs[@]}"; do
    mdadm --zero-superblock "$dev" >/dev/null 2>&1
    free_loop "$dev"
  done
}

repeat() { # repeat N BYTES
  local i out=()
  for ((i = 0; i < $1; i++)); do out+=("$2"); done
  echo "${out[@]}"
}

measure_raid() {
  local metadata bytes level
  section_header "raid: equal members, smallest usual member count"
  for metadata in 1.2 1.1 1.0 0.90; do
    for bytes in $((64 * MiB)) $((100 * MiB)) $((GiB)) $((3 * GiB)); do
      # shellcheck disable=SC2046 # word splitting of the member list is intended
      raid_case 0 "$metadata" $(repeat 2 "$bytes")
      # shellcheck disable=SC2046
      raid_case 1 "$metadata" $(repeat 2 "$bytes")
      # shellcheck disable=SC2046
      raid_case 5 "$metadata" $(repeat 3 "$bytes")
      # shellcheck disable=SC2046
      raid_case 6 "$metadata" $(repeat 4 "$bytes")
      # shellcheck disable=SC2046
      raid_case 10 "$metadata" $(repeat 4 "$bytes")
    done
  done

  section_header "raid: other member counts"
  for metadata in 1.2 1.0 0.90; do
    bytes=$((100 * MiB))
    # shellcheck disable=SC2046
    {
      raid_case 0 "$metadata" $(repeat 3 "$bytes")
      raid_case 1 "$metadata" $(repeat 3 "$bytes")
      raid_case 5 "$metadata" $(repeat 2 "$bytes")
      raid_case 5 "$metadata" $(repeat 4 "$bytes")
      raid_case 6 "$metadata" $(repeat 5 "$bytes")
      raid_case 10 "$metadata" $(repeat 2 "$bytes")
      raid_case 10 "$metadata" $(repeat 3 "$bytes")
      raid_case 10 "$metadata" $(repeat 5 "$bytes")
    }
  done

  section_header "raid: member counts mdadm refuses (without --force)"
  raid_case 0 1.2 $((100 * MiB))
  raid_case 1 1.2 $((100 * MiB))
  raid_case 5 1.2 $((100 * MiB))
  raid_case 10 1.2 $((100 * MiB))
  # shellcheck disable=SC2046
  raid_case 6 1.2 $(repeat 3 $((100 * MiB)))

  section_header "raid: unequal and odd-sized members"
  for metadata in 1.2 1.1 1.0 0.90; do
    for level in 0 1 5; do
      raid_case "$level" "$metadata" $((100 * MiB)) $((64 * MiB)) $((GiB))
      raid_case "$level" "$metadata" $((GiB)) $((64 * MiB)) $((100 * MiB))
    done
    for level in 6 10; do
      raid_case "$level" "$metadata" $((GiB)) $((64 * MiB)) $((100 * MiB)) $((3 * GiB))
      raid_case "$level" "$metadata" $((64 * MiB)) $((3 * GiB)) $((100 * MiB)) $((GiB))
    done
    for level in 0 1 5 10; do
      raid_case "$level" "$metadata" $((100 * MiB + 512)) $((100 * MiB + 512)) $((64 * MiB + 65 * 1024)) $((GiB + 7 * 512))
    done
    raid_case 1 "$metadata" $((3 * GiB + 5 * 512)) $((3 * GiB + 5 * 512))
  done

  section_header "raid: tiny members"
  for metadata in 1.2 1.0 0.90; do
    for bytes in $((1 * MiB)) $((2 * MiB)) $((3 * MiB)) $((5 * MiB)); do
      raid_case 1 "$metadata" "$bytes" "$bytes"
      raid_case 5 "$metadata" "$bytes" "$bytes" "$bytes"
    done
  done

  section_header "raid: large members (write-intent bitmap above 100 GiB per member)"
  for metadata in 1.2 1.0 0.90; do
    raid_case 1 "$metadata" $((101 * GiB)) $((101 * GiB))
    raid_case 0 "$metadata" $((101 * GiB)) $((101 * GiB))
    raid_case 5 "$metadata" $((9 * GiB)) $((9 * GiB)) $((9 * GiB))
  done
  raid_case 1 1.2 $((300 * GiB)) $((300 * GiB))
  raid_case 1 1.0 $((300 * GiB)) $((300 * GiB))
}

# --------------------------------------------------------------------------------------------- main

rec "# blocksmith level-1 measurements: $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r)"
rec "# $(lvm version | head -n1 | sed 's/^ *//'); cryptsetup $(cryptsetup --version | awk '{ print $2 }');" \
  "$(mdadm --version 2>&1 | head -n1)"
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(lvm luks raid)
for section in "${sections[@]}"; do
  case "$section" in
    lvm) measure_lvm ;;
    luks) measure_luks ;;
    raid) measure_raid ;;
    *) die "unknown section $section (lvm, luks, raid)" ;;
  esac
done
rec "# done"
