/** File system label limits, from each mkfs tool's own limit (DIB checks ext/xfs/vfat only). */
export const MAX_LABEL_LENGTH: Record<string, number> = {
  ext2: 16,
  ext3: 16,
  ext4: 16,
  xfs: 12,
  vfat: 11,
  fat: 11,
  swap: 16,
  btrfs: 255,
};

export function labelProblem(fsType: string, label: string): { message: string; hint: string } | undefined {
  const max = MAX_LABEL_LENGTH[fsType];
  // Limits are in bytes on disk; labels are stored as UTF-8.
  const length = Buffer.byteLength(label, "utf8");
  if (max !== undefined && length > max)
    return {
      message: `label "${label}" is ${length} bytes long; ${fsType} allows at most ${max}`,
      hint: `shorten it to ${max} characters, e.g. "${label.slice(0, max)}"${fsType === "xfs" ? ' (DIB uses "img-rootfs" for xfs roots)' : ""}`,
    };
  if ((fsType === "vfat" || fsType === "fat") && /[*?.,;:/\\|+=<>[\]"]/.test(label))
    return {
      message: `label "${label}" contains a character FAT labels cannot hold`,
      hint: "use letters, digits, '-' and '_'",
    };
  return undefined;
}
