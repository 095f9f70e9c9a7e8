/** A DIB-style build directory: the config and a params file as disk-image-create writes them. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes DIR/config.yaml and DIR/params.yaml (images in DIR/images, mounts in DIR/mnt); returns the params path. */
export function writeBuildDir(dir: string, config: string, imageSize = "1GiB"): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.yaml"), config);
  const params = join(dir, "params.yaml");
  writeFileSync(
    params,
    [
      `config: ${join(dir, "config.yaml")}`,
      `image-dir: ${join(dir, "images")}`,
      `image-size: ${imageSize}`,
      "root-fs-type: ext4",
      "root-label:",
      `mount-base: ${join(dir, "mnt")}`,
      `build-dir: ${dir}`,
      "",
    ].join("\n"),
  );
  return params;
}
