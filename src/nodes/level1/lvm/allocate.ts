/**
 * Where lvcreate puts each extent of a linear LV, for offline mode, which writes the metadata itself and
 * must put the file systems where lvm will look for them.
 *
 * In a new VG whose LVs are created one after another, each PV's free space is one area, its tail, and
 * lvcreate (lvm2 2.03.16, normal policy) fills an LV like this, as measured with `lvs -o seg_pe_ranges`
 * (the cases are in the unit test):
 *   - when a tail holds all the extents still needed, the first such tail in VG order takes them;
 *   - otherwise the largest tail (the first on a tie) is taken whole, and the rest is placed again.
 * Every piece is taken from the start of its tail.
 */
import type { LvmSegment } from "../../../formats/lvm2.js";

export interface AllocationRequest {
  name: string;
  extents: number;
}

/** Segments of each LV in creation order, or throws when the VG runs out (the planner refuses that first). */
export function allocateLinear(
  pvExtentCounts: readonly number[],
  lvs: readonly AllocationRequest[],
): Map<string, LvmSegment[]> {
  const used = pvExtentCounts.map(() => 0);
  const result = new Map<string, LvmSegment[]>();
  for (const lv of lvs) {
    const segments: LvmSegment[] = [];
    let allocated = 0;
    const free = (pv: number) => pvExtentCounts[pv]! - used[pv]!;
    while (allocated < lv.extents) {
      const needed = lv.extents - allocated;
      let best = pvExtentCounts.findIndex((_, pv) => free(pv) >= needed);
      if (best < 0)
        for (let pv = 0; pv < pvExtentCounts.length; pv += 1)
          if (free(pv) > 0 && (best < 0 || free(pv) > free(best))) best = pv;
      if (best < 0)
        throw new Error(
          `internal: LV ${lv.name} needs ${lv.extents - allocated} more extents than the VG has`,
        );
      const count = Math.min(needed, free(best));
      segments.push({ pv: best, pvStartExtent: used[best]!, lvStartExtent: allocated, extentCount: count });
      used[best]! += count;
      allocated += count;
    }
    result.set(lv.name, segments);
  }
  return result;
}
