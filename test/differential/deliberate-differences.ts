/**
 * Where blocksmith and diskimage-builder part ways on purpose. The differential suites compare the two
 * on every corpus config and expect identical behaviour, except for the rows below; for each row they
 * assert that the difference really occurs (so a row cannot go stale silently), and a final test
 * checks that every row is exercised by at least one config.
 *
 * Per-config rows name one config (path from the repository root). Rule rows have `config: "*"` and
 * describe a difference that shows on many configs; the suites check the rule itself instead (for
 * instance that blocksmith's mount order is exactly the component-wise order).
 */

export type DifferenceAspect =
  /** DIB's config_tree_to_graph and `blocksmith graph --no-validate` disagree on accepting the config. */
  | "tree-outcome"
  /** DIB (config_tree_to_graph + create_graph) and `blocksmith graph` disagree on accepting the config. */
  | "graph-outcome"
  /** Both accept the config but print different graphs. */
  | "graph-output"
  /** DIB's partitioning/create step and `blocksmith plan` disagree on accepting the config. */
  | "plan-outcome"
  /** Both lay the disk out, differently. */
  | "layout"
  /** DIB mounts a child before its parent; blocksmith does not. */
  | "mount-order"
  /** The fstab lines differ (beyond their order). */
  | "fstab"
  /** Rule: blocksmith sorts mount points component by component; DIB's order depends on config order. */
  | "mount-order-rule"
  /** Rule: DIB's writefstab crashes when there is no mount at all; blocksmith plans an empty fstab. */
  | "fstab-without-mounts";

export interface DeliberateDifference {
  /** Config path relative to the repository root, or "*" for a rule row. */
  config: string;
  aspect: DifferenceAspect;
  /** What DIB does. */
  dib: string;
  /** What blocksmith does instead. */
  blocksmith: string;
  why: string;
}

export const deliberateDifferences: readonly DeliberateDifference[] = [
  {
    config: "*",
    aspect: "mount-order-rule",
    dib:
      "re-sorts its mount list after each mount entry with cmp_mount_order (a < b iff b.startswith(a), " +
      "else a > b), so unrelated mount points keep an order that depends on the config order",
    blocksmith:
      "compares mount points component by component, byte order within a level: /, /boot, /boot/efi, " +
      "/home, /var, /var/log, /var2",
    why: "a total order gives the same mounts and fstab for the same set of mount points, whatever order the config lists them in",
  },
  {
    config: "test/differential/configs/mounts-dib-wrong-order.yaml",
    aspect: "mount-order",
    dib: "mounts /, /var/log, /boot, /var: /var/log is mounted first and then hidden under the /var mount",
    blocksmith: "mounts /, /boot, /var, /var/log",
    why:
      "DIB's comparator is not transitive (/var/log vs /boot and /boot vs /var both say 'greater'), so the " +
      "sort cannot see that /var must precede /var/log once /boot sits between them",
  },
  {
    config: "test/differential/configs/mounts-shuffled.yaml",
    aspect: "mount-order",
    dib:
      "mounts /, /srv/data, /var/log/audit, /home, /tmp, /var/log, /boot, /boot/efi, /var: three children " +
      "before their parents",
    blocksmith: "mounts /, /boot, /boot/efi, /home, /srv/data, /tmp, /var, /var/log, /var/log/audit",
    why: "same non-transitive comparator as mounts-dib-wrong-order.yaml, on a realistic set of nine mounts",
  },
  // ---- blocksmith refuses, when validating, configs DIB accepts (and then mishandles)
  {
    config: "test/differential/configs/quirks/unknown-keys.yaml",
    aspect: "graph-outcome",
    dib: "ignores unknown keys: fstab 'optoins'/'fck-passno' and mkfs 'lable' silently fall back to the defaults",
    blocksmith: "refuses each unknown key with its file:line and a did-you-mean hint",
    why: "a misspelt key is a setting the user believes is applied; DIB's own tests/config carries such a typo",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/lvm_tree_multiple_partitions.yaml",
    aspect: "graph-outcome",
    dib: "accepts 'fck-passno' (a typo) when building the graph (and crashes later, writing type 0xEF00 into an MBR byte)",
    blocksmith: "refuses the unknown key 'fck-passno'",
    why: "same rule as unknown-keys.yaml, on DIB's own test config",
  },
  {
    config: "test/fixtures/dib/yaml-edge/duplicate-key.yaml",
    aspect: "graph-outcome",
    dib: "PyYAML keeps the last of two 'type' keys (ext4), silently",
    blocksmith: "refuses the duplicate key",
    why: "one of the two values is a mistake, and the reader cannot tell which",
  },
  {
    config: "test/differential/configs/quirks/empty-partitions.yaml",
    aspect: "graph-outcome",
    dib: "accepts 'partitions: []' and writes no partition table at all (the partitioning code only runs from a partition node)",
    blocksmith: "refuses an empty partitions list",
    why: "a partitioning that leaves the disk blank is a mistake, not a layout",
  },
  {
    config: "test/differential/configs/quirks/fstab-on-mkfs.yaml",
    aspect: "graph-outcome",
    dib: "accepts an fstab based on a mkfs, keys it by the mkfs name, and cmd_writefstab (which looks fstab entries up by mount name) never writes it",
    blocksmith: "refuses: an fstab must be based on a mount",
    why: "DIB silently drops the fstab line the config asks for",
  },
  {
    config: "test/differential/configs/quirks/two-fstabs-one-mount.yaml",
    aspect: "graph-outcome",
    dib: "accepts two fstab nodes on one mount; the one created last in topological order overwrites the other",
    blocksmith: "refuses the second fstab on the same mount",
    why: "one of the two entries is silently lost",
  },
  {
    config: "test/differential/configs/quirks/gpt-long-name.yaml",
    aspect: "graph-outcome",
    dib: "passes a 45-character name to 'sgdisk -c', which truncates it to GPT's 36 UTF-16 units",
    blocksmith: "refuses GPT partition names longer than 36 UTF-16 code units",
    why: "the name on disk would not be the name in the config",
  },
  {
    config: "test/differential/configs/quirks/relative-mount-point.yaml",
    aspect: "graph-outcome",
    dib: "accepts mount_point 'var' and writes 'var' into fstab",
    blocksmith: "refuses a mount point that is not absolute",
    why: "fstab needs absolute paths; 'var' is almost certainly '/var'",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/multiple_partitions_graph.yaml",
    aspect: "graph-outcome",
    dib: "accepts uuid 'root-uuid-1234' and would pass it to 'mkfs.xfs -m uuid=…', which rejects it in a real build",
    blocksmith: "refuses a uuid that is not a UUID (or a vfat volume id)",
    why: "the build would fail at mkfs time anyway; blocksmith says so before touching a disk",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/multiple_partitions_tree.yaml",
    aspect: "graph-outcome",
    dib: "same as multiple_partitions_graph.yaml (its tree form)",
    blocksmith: "refuses the non-UUID uuids",
    why: "same as multiple_partitions_graph.yaml",
  },
  // ---- DIB's own test configs that a real DIB build cannot finish either
  {
    config: "test/fixtures/dib/upstream/tests-config/lvm_tree.yaml",
    aspect: "plan-outcome",
    dib: "lays the disk out and would run mkfs.xfs on 100M LVs (lv_tmp, lv_log, lv_audit)",
    blocksmith: "refuses xfs on the 100M LVs: mkfs.xfs needs at least 300 MB",
    why: "mkfs.xfs (xfsprogs >= 5.19; Debian 12 has 6.1) refuses such a device, so the DIB build fails at mkfs time; the oracle records mkfs without running it",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/lvm_graph.yaml",
    aspect: "plan-outcome",
    dib: "same as lvm_tree.yaml",
    blocksmith: "refuses xfs on the 100M LVs: mkfs.xfs needs at least 300 MB",
    why: "mkfs.xfs (xfsprogs >= 5.19; Debian 12 has 6.1) refuses such a device, so the DIB build fails at mkfs time; the oracle records mkfs without running it",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/lvm_tree_multiple_pv.yaml",
    aspect: "plan-outcome",
    dib: "same as lvm_tree.yaml",
    blocksmith: "refuses xfs on the 100M LVs: mkfs.xfs needs at least 300 MB",
    why: "mkfs.xfs (xfsprogs >= 5.19; Debian 12 has 6.1) refuses such a device, so the DIB build fails at mkfs time; the oracle records mkfs without running it",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/lvm_tree_multiple_pv_vg.yaml",
    aspect: "plan-outcome",
    dib: "same as lvm_tree.yaml",
    blocksmith: "refuses xfs on the 100M LVs: mkfs.xfs needs at least 300 MB",
    why: "mkfs.xfs (xfsprogs >= 5.19; Debian 12 has 6.1) refuses such a device, so the DIB build fails at mkfs time; the oracle records mkfs without running it",
  },
  {
    config: "test/fixtures/dib/upstream/tests-config/lvm_tree_spanned_vg.yaml",
    aspect: "plan-outcome",
    dib: "lays the disk out and would run 'lvcreate -L 2G' on a VG of two 1G (10^9-byte) PVs, which holds only 1.86 GiB",
    blocksmith: "refuses: lv_data needs 512 extents, vg_data has 476",
    why: "lvcreate fails on it in a real DIB build; the oracle records lvcreate without running it",
  },
  // ---- blocksmith accepts what DIB crashes on
  {
    config: "test/differential/configs/bad/mbr-type-yaml-int.yaml",
    aspect: "graph-outcome",
    dib: "crashes on an unquoted MBR type (YAML integer 83): int(83, 16) raises TypeError",
    blocksmith: "reads the digits as the hex the user wrote: type 83 is 0x83",
    why: "the intent is unambiguous and the crash is a DIB bug",
  },
  {
    config: "test/differential/configs/bad/partition-size-yaml-int.yaml",
    aspect: "plan-outcome",
    dib: "crashes on a partition size given as a YAML integer: parse_rel_size_spec indexes size_spec[-1] (TypeError)",
    blocksmith: 'takes the integer as a byte count, like the string "1073741824"',
    why: "the intent is unambiguous and the crash is a DIB bug",
  },
  // ---- blocksmith refuses layouts DIB writes although they are broken
  {
    config: "test/differential/configs/quirks/mbr-partition-beyond-disk.yaml",
    aspect: "plan-outcome",
    dib: "writes an MBR entry for a 3 GiB partition on a 2 GiB disk (its MBR class never checks sizes)",
    blocksmith: "refuses: the partition does not fit, by how many bytes",
    why: "the image would hold a partition table pointing past its end",
  },
  {
    config: "test/differential/configs/quirks/mbr-zero-size-after-full.yaml",
    aspect: "plan-outcome",
    dib: "writes a zero-length primary entry for the second '100%' (100% of 0 bytes); no device appears for it",
    blocksmith: "refuses a partition smaller than one sector",
    why: "anything built on that partition would fail later on a missing device",
  },
  {
    config: "*",
    aspect: "fstab-without-mounts",
    dib: "cmd_writefstab raises KeyError 'mount_order' when no mount node exists (state['mount_order'] is only created by a mount)",
    blocksmith: "plans an empty fstab",
    why: "a layout-only config (no file systems mounted) is valid; writing an empty fstab is what DIB evidently means to do",
  },
];

export function differenceFor(config: string, aspect: DifferenceAspect): DeliberateDifference | undefined {
  return deliberateDifferences.find((row) => row.config === config && row.aspect === aspect);
}

export function ruleFor(aspect: DifferenceAspect): DeliberateDifference | undefined {
  return differenceFor("*", aspect);
}
