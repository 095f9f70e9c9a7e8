/**
 * Mount point rules and the mount order.
 *
 * DIB sorts with `cmp(a, b) = -1 if b.startswith(a) else 1`, which is not a consistent comparator:
 * it treats "/var" as a parent of "/var2" and, depending on the input order, mounts /var/log before
 * /var. blocksmith compares mount points component by component, so the order is total, a parent
 * directory always precedes everything below it, and siblings are in byte order:
 * `/`, `/boot`, `/boot/efi`, `/home`, `/var`, `/var/log`, `/var/log/audit`, `/var2`.
 */

/** Why a mount point is not acceptable, or undefined when it is. */
export function mountPointProblem(mountPoint: string): { message: string; hint: string } | undefined {
  if (!mountPoint.startsWith("/"))
    return { message: `mount point "${mountPoint}" is not absolute`, hint: `write "/${mountPoint}"` };
  if (mountPoint === "/") return undefined;
  const parts = mountPoint.slice(1).split("/");
  if (parts.some((part) => part === "." || part === ".."))
    return {
      message: `mount point "${mountPoint}" contains "." or ".."`,
      hint: "write the plain absolute path",
    };
  if (parts.some((part) => part === ""))
    return {
      message: `mount point "${mountPoint}" has an empty path component (a doubled or trailing "/")`,
      hint: `write "/${parts.filter((part) => part !== "").join("/")}"`,
    };
  if (/[\s\\]/.test(mountPoint))
    return {
      message: `mount point "${mountPoint}" contains white space or a backslash`,
      hint: "fstab cannot hold such paths unescaped; choose another directory name",
    };
  return undefined;
}

export function mountPointComponents(mountPoint: string): string[] {
  return mountPoint === "/" ? [] : mountPoint.slice(1).split("/");
}

/** Total order on mount points: component-wise byte order, so a parent sorts before its children. */
export function compareMountPoints(a: string, b: string): number {
  const left = mountPointComponents(a);
  const right = mountPointComponents(b);
  const common = Math.min(left.length, right.length);
  for (let index = 0; index < common; index += 1) {
    const x = left[index]!;
    const y = right[index]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/** True when `child` lies strictly below `parent` (by path components, not string prefix). */
export function isBelow(child: string, parent: string): boolean {
  const c = mountPointComponents(child);
  const p = mountPointComponents(parent);
  return c.length > p.length && p.every((part, index) => c[index] === part);
}

export function sortMountPoints<T>(items: readonly T[], mountPointOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => compareMountPoints(mountPointOf(a), mountPointOf(b)));
}
