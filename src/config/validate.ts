/**
 * Validation of the graph form: per-node schemas, then the cross-node checks DIB lacks (dangling or
 * wrongly typed `base`, names used twice, devices used twice, cycles, labels, mount points). Every
 * problem found is reported at once, each with its file, line and key path.
 */
import { z } from "zod";
import { closestMatch, didYouMean } from "../core/did-you-mean.js";
import { ConfigError, type Problem } from "../core/errors.js";
import { parseAbsoluteSize } from "../core/size.js";
import type { KeyPath, SourceDocument } from "../core/source.js";
import { NODE_TYPES, type NodeKind } from "../nodes/registry.js";
import type { DeviceConfig } from "../nodes/level0/device/schema.js";
import type { LocalLoopConfig } from "../nodes/level0/local-loop/schema.js";
import type { LuksConfig } from "../nodes/level1/luks/schema.js";
import type { LvmConfig } from "../nodes/level1/lvm/schema.js";
import { resolveGptType } from "../formats/gpt-types.js";
import type { PartitioningConfig } from "../nodes/level1/partitioning/schema.js";
import { MD_MIN_MEMBERS } from "../nodes/level1/raid/raid-layout.js";
import type { RaidConfig } from "../nodes/level1/raid/schema.js";
import { labelProblem } from "../nodes/level2/mkfs/labels.js";
import type { MkfsConfig } from "../nodes/level2/mkfs/schema.js";
import type { MountConfig } from "../nodes/level3/mount/schema.js";
import type { FstabConfig } from "../nodes/level4/fstab/schema.js";
import { type ConfigModel, type ModelNode, nodeKey, partitioningKey } from "./model.js";
import { compareMountPoints, mountPointProblem } from "./mount-order.js";
import type { GraphEntry } from "./tree-to-graph.js";

const GPT_NAME_MAX_UTF16 = 36;

export function validateGraph(source: SourceDocument, entries: GraphEntry[]): ConfigModel {
  return new GraphValidator(source, entries).run();
}

class GraphValidator {
  private readonly problems: Problem[] = [];
  private readonly nodes = new Map<string, ModelNode>();

  constructor(
    private readonly source: SourceDocument,
    private readonly entries: GraphEntry[],
  ) {}

  run(): ConfigModel {
    this.entries.forEach((entry, index) => this.addEntry(entry, index));
    if (this.problems.length === 0) this.checkReferences();
    if (this.problems.length === 0) this.checkFilesystems();
    const mountOrder = this.problems.length === 0 ? this.checkMounts() : [];
    const order = this.problems.length === 0 ? this.creationOrder(mountOrder) : [];
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return { source: this.source, entries: this.entries, nodes: this.nodes, order, mountOrder };
  }

  // ---- per-entry schema checks -------------------------------------------------------------------

  private addEntry(entry: GraphEntry, entryIndex: number): void {
    const kind = entry.kind as NodeKind;
    const schema = NODE_TYPES[kind].schema;
    const result = schema.safeParse(entry.values);
    if (!result.success) {
      for (const issue of result.error.issues) this.reportIssue(entry, schema, issue);
      return;
    }
    const values = result.data as Record<string, unknown>;
    const common = { name: String(values.name), origin: entry.origin, entryIndex };
    switch (kind) {
      case "local_loop": {
        const v = values as LocalLoopConfig;
        this.addNode(entry, [], {
          ...common,
          kind,
          ...(v.size !== undefined ? { size: v.size } : {}),
          ...(v.directory !== undefined ? { directory: v.directory } : {}),
          wipe: false,
          sectorSize: v["sector-size"] ?? 512,
        });
        return;
      }
      case "device": {
        const v = values as DeviceConfig;
        this.addNode(entry, [], {
          ...common,
          kind,
          ...(v.size !== undefined ? { size: v.size } : {}),
          devicePath: v.path,
          wipe: v.wipe ?? false,
          sectorSize: v["sector-size"] ?? 512,
        });
        return;
      }
      case "partitioning":
        return this.addPartitioning(entry, values as PartitioningConfig, common);
      case "lvm":
        return this.addLvm(entry, values as LvmConfig, common);
      case "luks": {
        const v = values as LuksConfig;
        const luksType = v.type ?? "luks2";
        this.addNode(entry, [], {
          ...common,
          kind,
          base: v.base,
          luksType,
          cipher: v.cipher ?? "aes-xts-plain64",
          keySizeBits: v["key-size"] ?? 512,
          pbkdf: v.pbkdf ?? (luksType === "luks1" ? "pbkdf2" : "argon2id"),
          ...(v["key-file"] !== undefined ? { keyFile: v["key-file"] } : {}),
          ...(v["passphrase-file"] !== undefined ? { passphraseFile: v["passphrase-file"] } : {}),
          ...(v.label !== undefined ? { label: v.label } : {}),
          ...(v["iter-time"] !== undefined ? { iterTimeMs: v["iter-time"] } : {}),
        });
        if (luksType === "luks1" && v.pbkdf !== undefined && v.pbkdf !== "pbkdf2")
          this.problem(
            [...entry.origin, "pbkdf"],
            `LUKS1 supports only pbkdf2, not ${v.pbkdf}`,
            "use type: luks2",
          );
        if (v.label !== undefined && luksType === "luks1")
          this.problem(
            [...entry.origin, "label"],
            "LUKS1 headers have no label",
            "remove label or use type: luks2",
          );
        return;
      }
      case "raid": {
        const v = values as RaidConfig;
        this.addNode(entry, [], {
          ...common,
          kind,
          bases: v.base,
          level: v.level,
          metadata: v.metadata ?? "1.2",
        });
        const minimum = MD_MIN_MEMBERS[v.level];
        if (v.base.length < minimum)
          this.problem(
            [...entry.origin, "base"],
            `RAID ${v.level} needs at least ${minimum} members, got ${v.base.length}`,
            "add members or choose another level",
          );
        return;
      }
      case "mkfs": {
        const v = values as MkfsConfig;
        let label = v.label ?? v.name;
        // DIB upper-cases FAT labels because it identifies the disk by label and FAT stores them upper-cased.
        if (v.type === "vfat" || v.type === "fat") label = label.toUpperCase();
        this.addNode(entry, [], {
          ...common,
          kind,
          base: v.base,
          fsType: v.type,
          label,
          ...(v.uuid !== undefined ? { uuid: v.uuid } : {}),
          opts: v.opts === undefined ? [] : v.opts.trim().split(" "),
        });
        return;
      }
      case "mount": {
        const v = values as MountConfig;
        this.addNode(entry, [], { ...common, kind, base: v.base, mountPoint: v.mount_point });
        return;
      }
      case "fstab": {
        const v = values as FstabConfig;
        this.addNode(entry, [], {
          ...common,
          kind,
          base: v.base,
          options: v.options ?? "defaults",
          dumpFreq: v["dump-freq"] ?? 0,
          fsckPassNo: v["fsck-passno"] ?? 2,
        });
        return;
      }
    }
  }

  private addPartitioning(
    entry: GraphEntry,
    v: PartitioningConfig,
    common: { name: string; origin: KeyPath; entryIndex: number },
  ): void {
    const names = v.partitions.map((p) => p.name);
    this.addNode(entry, [], {
      ...common,
      kind: "partitioning",
      base: v.base,
      label: v.label,
      alignBytes: v.align === undefined ? 1024 * 1024 : parseAbsoluteSize(v.align),
      partitions: names,
      ...(v["hybrid-mbr"] !== undefined ? { hybridMbr: v["hybrid-mbr"] } : {}),
    });
    // `hybrid-mbr` (blocksmith extension): refuse what `sgdisk -h` would refuse, before anything runs.
    const hybrid = v["hybrid-mbr"] ?? [];
    const hybridAt: KeyPath = [...entry.origin, "hybrid-mbr"];
    if (hybrid.length > 0 && v.label !== "gpt")
      this.problem(
        hybridAt,
        "hybrid-mbr exists only for GPT: an MBR label already is an MBR",
        "remove `hybrid-mbr`, or use `label: gpt`",
      );
    // Four MBR slots, one of which is the 0xEE entry that protects the GPT.
    if (v.label === "gpt" && hybrid.length > 3)
      this.problem(
        [...hybridAt, 3],
        `a hybrid MBR holds at most 3 partitions besides its 0xEE entry; ${hybrid.length} are listed`,
        "keep the 3 partitions that firmware or the other system must see",
      );
    const hybridSeen = new Set<string>();
    if (v.label === "gpt")
      hybrid.forEach((name, index) => {
        if (!names.includes(name))
          this.problem(
            [...hybridAt, index],
            `"${name}" is not a partition of this partitioning`,
            didYouMean(name, names) ?? `its partitions: ${names.join(", ")}`,
          );
        else if (hybridSeen.has(name))
          this.problem(
            [...hybridAt, index],
            `"${name}" is listed twice in hybrid-mbr`,
            "list each partition once",
          );
        hybridSeen.add(name);
      });
    const alignBytes = v.align === undefined ? 1024 * 1024 : parseAbsoluteSize(v.align);
    if (alignBytes <= 0 || alignBytes % 512 !== 0)
      this.problem(
        [...entry.origin, "align"],
        `align must be a positive multiple of 512 bytes, got ${alignBytes}`,
      );
    v.partitions.forEach((partition, index) => {
      const origin = entry.partitionOrigins?.[index] ?? [...entry.origin, "partitions", index];
      const flags = partition.flags ?? [];
      if (v.label === "gpt" && flags.includes("primary"))
        this.problem(
          [...origin, "flags"],
          "the primary flag exists only for MBR",
          "remove `primary` (GPT has no logicals)",
        );
      if (v.label === "gpt" && utf16Length(partition.name) > GPT_NAME_MAX_UTF16)
        this.problem(
          [...origin, "name"],
          `GPT partition names hold at most ${GPT_NAME_MAX_UTF16} UTF-16 code units; "${partition.name}" has ${utf16Length(partition.name)}`,
          "shorten the name",
        );
      if (v.label === "gpt" && partition.type !== undefined) {
        const resolved = resolveGptType(String(partition.type));
        if (!resolved.ok)
          this.problem(
            [...origin, "type"],
            resolved.error,
            typeof partition.type === "number"
              ? 'quote the type ("0700"): unquoted, YAML reads it as a number (0700 is octal 448)'
              : undefined,
          );
      }
      this.addNode(entry, [...origin, "name"], {
        kind: "partition",
        name: partition.name,
        origin,
        entryIndex: common.entryIndex,
        base: v.base,
        partitioning: partitioningKey(common.name),
        index,
        size: partition.size,
        flags,
        ...(partition.type !== undefined ? { type: String(partition.type) } : {}),
      });
    });
  }

  private addLvm(
    entry: GraphEntry,
    v: LvmConfig,
    common: { name: string; origin: KeyPath; entryIndex: number },
  ): void {
    this.addNode(entry, [], {
      ...common,
      kind: "lvm",
      pvs: v.pvs.map((pv) => pv.name),
      vgs: v.vgs.map((vg) => vg.name),
      lvs: v.lvs.map((lv) => lv.name),
    });
    const at = (list: string, index: number): KeyPath => [...entry.origin, list, index];
    v.pvs.forEach((pv, index) =>
      this.addNode(entry, [...at("pvs", index), "name"], {
        kind: "pv",
        name: pv.name,
        origin: at("pvs", index),
        entryIndex: common.entryIndex,
        lvm: common.name,
        base: pv.base,
        options: pv.options ?? [],
      }),
    );
    v.vgs.forEach((vg, index) =>
      this.addNode(entry, [...at("vgs", index), "name"], {
        kind: "vg",
        name: vg.name,
        origin: at("vgs", index),
        entryIndex: common.entryIndex,
        lvm: common.name,
        pvs: vg.base,
        options: vg.options ?? [],
      }),
    );
    v.lvs.forEach((lv, index) => {
      const origin = at("lvs", index);
      const lvType = lv.type ?? "linear";
      if (lv.size === undefined && lv.extents === undefined)
        this.problem(
          origin,
          `logical volume "${lv.name}" needs a size or extents`,
          "add e.g. `size: 2G` or `extents: 100%FREE`",
        );
      if (lv.size !== undefined && lv.extents !== undefined)
        this.problem(
          [...origin, "extents"],
          `logical volume "${lv.name}" has both size and extents`,
          "keep one of them",
        );
      if (lvType === "thin" && lv["thin-pool"] === undefined)
        this.problem(
          origin,
          `thin volume "${lv.name}" needs \`thin-pool\``,
          "name the thin-pool LV it allocates from",
        );
      if (lvType === "thin" && lv.size === undefined)
        this.problem(origin, `thin volume "${lv.name}" needs a (virtual) size`, "add `size: …`");
      if (lvType !== "thin" && lv["thin-pool"] !== undefined)
        this.problem(
          [...origin, "thin-pool"],
          "`thin-pool` applies only to `type: thin`",
          "add `type: thin`",
        );
      this.addNode(entry, [...origin, "name"], {
        kind: "lv",
        name: lv.name,
        origin,
        entryIndex: common.entryIndex,
        lvm: common.name,
        vg: lv.base,
        ...(lv.size !== undefined ? { size: String(lv.size) } : {}),
        ...(lv.extents !== undefined ? { extents: String(lv.extents) } : {}),
        options: lv.options ?? [],
        lvType,
        ...(lv["thin-pool"] !== undefined ? { thinPool: lv["thin-pool"] } : {}),
      });
    });
  }

  private addNode(entry: GraphEntry, namePath: KeyPath, node: ModelNode): void {
    const key = nodeKey(node);
    const existing = this.nodes.get(key);
    if (existing) {
      const where = this.source.locate(existing.origin);
      this.problem(
        namePath.length > 0 ? namePath : entry.derived.has("name") ? entry.origin : [...entry.origin, "name"],
        `the name "${node.name}" is already used by a ${existing.kind} entry (line ${where.line ?? "?"})`,
        entry.derived.has("name")
          ? `this name was derived as <plugin>_<base>; give this entry an explicit \`name:\``
          : "every node needs a unique name",
      );
      return;
    }
    this.nodes.set(key, node);
  }

  private reportIssue(entry: GraphEntry, schema: z.ZodType, issue: z.core.$ZodIssue): void {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const sourcePath = this.sourcePathOf(entry, path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const allowed = keysAt(schema, path);
        const suggestion = didYouMean(key, [...allowed, ...Object.keys(NODE_TYPES)]);
        this.problem(
          [...sourcePath, key],
          `unknown key "${key}" in ${entry.kind}`,
          suggestion ?? `allowed keys: ${allowed.join(", ")}`,
          true,
        );
      }
      return;
    }
    const last = path[path.length - 1];
    const keyName = typeof last === "string" ? last : undefined;
    let message = issue.message;
    let hint: string | undefined;
    // zod does not report the input by default; read it from the values.
    const input = valueAt(entry.values, path);
    if (input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
      message = `${entry.kind} needs \`${keyName ?? formatPath(path)}\``;
      hint = `add \`${keyName}: …\``;
    } else if (issue.code === "too_small" && issue.origin === "array") {
      message = `\`${keyName ?? formatPath(path)}\` needs at least ${String(issue.minimum)} entr${issue.minimum === 1 ? "y" : "ies"}`;
      hint = keyName === "partitions" ? "list the partitions as `- name: …` items with a size" : undefined;
    } else if (issue.code === "invalid_value" && "values" in issue) {
      const values = (issue.values as unknown[]).map(String);
      const given = String(input);
      message = `"${given}" is not a valid ${keyName ?? "value"}`;
      hint = didYouMean(given, values) ?? `use one of: ${values.join(", ")}`;
    }
    // A derived base/name does not appear in the source; point at the entry itself.
    const at = keyName && entry.derived.has(keyName) && path.length === 1 ? entry.origin : sourcePath;
    this.problem(at, message, hint);
  }

  /** Maps a path inside an entry's values to the path in the source document. */
  private sourcePathOf(entry: GraphEntry, path: (string | number)[]): KeyPath {
    if (path[0] === "partitions" && typeof path[1] === "number" && entry.partitionOrigins?.[path[1]])
      return [...entry.partitionOrigins[path[1]]!, ...path.slice(2)];
    return [...entry.origin, ...path];
  }

  // ---- cross-node checks -------------------------------------------------------------------------

  private checkReferences(): void {
    const consumers = new Map<string, ModelNode>();
    const use = (consumer: ModelNode, device: string, path: KeyPath) => {
      const previous = consumers.get(device);
      if (previous) this.problem(path, ...alreadyUsed(consumer, device, previous));
      else consumers.set(device, consumer);
    };
    for (const node of this.nodes.values()) {
      switch (node.kind) {
        case "partitioning":
          if (
            this.expect(
              node,
              node.base,
              [...node.origin, "base"],
              ["local_loop", "device"],
              "a disk (local_loop or device)",
            )
          )
            use(node, node.base, [...node.origin, "base"]);
          break;
        case "pv":
          if (this.expectBlockDevice(node, node.base, [...node.origin, "base"]))
            use(node, node.base, [...node.origin, "base"]);
          break;
        case "vg":
          node.pvs.forEach((pv, index) => {
            const target = this.nodes.get(pv);
            if (
              this.expect(node, pv, [...node.origin, "base", index], ["pv"], "a physical volume") &&
              target?.kind === "pv" &&
              target.lvm !== node.lvm
            )
              this.problem(
                [...node.origin, "base", index],
                `physical volume "${pv}" belongs to another lvm entry`,
                "declare the VG in the same lvm entry as its PVs",
              );
          });
          break;
        case "lv": {
          const vg = this.nodes.get(node.vg);
          if (
            this.expect(node, node.vg, [...node.origin, "base"], ["vg"], "a volume group") &&
            vg?.kind === "vg" &&
            vg.lvm !== node.lvm
          )
            this.problem(
              [...node.origin, "base"],
              `volume group "${node.vg}" belongs to another lvm entry`,
              "declare the LV in the same lvm entry as its VG",
            );
          if (node.thinPool !== undefined) {
            const pool = this.nodes.get(node.thinPool);
            if (
              this.expect(node, node.thinPool, [...node.origin, "thin-pool"], ["lv"], "a thin-pool LV") &&
              pool?.kind === "lv"
            ) {
              if (pool.lvType !== "thin-pool")
                this.problem(
                  [...node.origin, "thin-pool"],
                  `"${node.thinPool}" is not a thin pool`,
                  "give that LV `type: thin-pool`",
                );
              else if (pool.vg !== node.vg)
                this.problem(
                  [...node.origin, "thin-pool"],
                  `thin pool "${node.thinPool}" is in VG "${pool.vg}", not "${node.vg}"`,
                  "use the pool's VG as base",
                );
            }
          }
          break;
        }
        case "lvm": {
          const entry = this.entries[node.entryIndex]!;
          const base = entry.values.base;
          const bases = base === undefined ? [] : Array.isArray(base) ? base : [base];
          bases.forEach((ref, index) => {
            // DIB ignores an lvm entry's base; it may name a partitioning (tests-config/lvm_tree.yaml).
            if (typeof ref === "string" && !this.nodes.has(ref) && !this.nodes.has(partitioningKey(ref)))
              this.dangling(
                ref,
                Array.isArray(base) ? [...node.origin, "base", index] : [...node.origin, "base"],
                entry.derived.has("base") ? node.origin : undefined,
              );
          });
          break;
        }
        case "luks":
        case "mkfs":
          if (this.expectBlockDevice(node, node.base, [...node.origin, "base"]))
            use(node, node.base, [...node.origin, "base"]);
          break;
        case "raid":
          node.bases.forEach((member, index) => {
            if (this.expectBlockDevice(node, member, [...node.origin, "base", index]))
              use(node, member, [...node.origin, "base", index]);
          });
          break;
        case "mount":
          if (this.expect(node, node.base, [...node.origin, "base"], ["mkfs"], "a mkfs entry"))
            use(node, node.base, [...node.origin, "base"]);
          break;
        case "fstab":
          if (this.expect(node, node.base, [...node.origin, "base"], ["mount"], "a mount entry"))
            use(node, node.base, [...node.origin, "base"]);
          break;
        default:
          break;
      }
    }
    if (this.problems.length === 0) this.checkCycles();
  }

  private expectBlockDevice(node: ModelNode, ref: string, path: KeyPath): boolean {
    return this.expect(
      node,
      ref,
      path,
      ["local_loop", "device", "partition", "lv", "luks", "raid"],
      "a block device (disk, partition, LV, luks or raid)",
    );
  }

  private expect(node: ModelNode, ref: string, path: KeyPath, kinds: string[], what: string): boolean {
    const target = this.nodes.get(ref);
    if (!target) {
      const entry = this.entries[node.entryIndex]!;
      this.dangling(
        ref,
        path,
        entry.derived.has("base") && path[path.length - 1] === "base" ? node.origin : undefined,
      );
      return false;
    }
    if (!kinds.includes(target.kind)) {
      const candidates = [...this.nodes.values()].filter((n) => kinds.includes(n.kind)).map((n) => n.name);
      this.problem(
        path,
        `${node.kind} "${node.name}" must be based on ${what}, but "${ref}" is a ${target.kind}`,
        candidates.length > 0 ? `candidates: ${candidates.slice(0, 8).join(", ")}` : undefined,
      );
      return false;
    }
    return true;
  }

  private dangling(ref: string, path: KeyPath, derivedAt?: KeyPath): void {
    const suggestion = closestMatch(ref, this.nodes.keys());
    this.problem(
      derivedAt ?? path,
      `base "${ref}" does not name any entry${derivedAt ? " (derived from the enclosing entry)" : ""}`,
      suggestion
        ? `did you mean "${suggestion}"?`
        : `defined names: ${[...this.nodes.keys()].slice(0, 10).join(", ")}`,
    );
  }

  private checkCycles(): void {
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (name: string): boolean => {
      const mark = state.get(name);
      if (mark === "done") return false;
      if (mark === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(name)), name];
        const node = this.nodes.get(name)!;
        this.problem(
          node.origin,
          `dependency cycle: ${cycle.join(" → ")}`,
          "break the cycle by changing one of these bases",
        );
        return true;
      }
      state.set(name, "visiting");
      stack.push(name);
      for (const parent of this.parentsOf(this.nodes.get(name)!))
        if (this.nodes.has(parent) && visit(parent)) return true;
      stack.pop();
      state.set(name, "done");
      return false;
    };
    for (const name of this.nodes.keys()) if (visit(name)) return;
  }

  /** The nodes a node is built on (graph edges into it), excluding mount-order edges. */
  private parentsOf(node: ModelNode): string[] {
    switch (node.kind) {
      case "local_loop":
      case "device":
      case "lvm":
        return node.kind === "lvm" ? node.pvs.map((pv) => (this.nodes.get(pv) as { base: string }).base) : [];
      case "partitioning":
        return [node.base];
      case "partition": {
        const partitioning = this.nodes.get(node.partitioning);
        const siblings = partitioning?.kind === "partitioning" ? partitioning.partitions : [];
        return node.index > 0 ? [node.partitioning, siblings[node.index - 1]!] : [node.partitioning];
      }
      case "pv":
        return [node.base, node.lvm];
      case "vg":
        return node.pvs;
      case "lv":
        return node.thinPool !== undefined ? [node.vg, node.thinPool] : [node.vg];
      case "raid":
        return node.bases;
      case "luks":
      case "mkfs":
      case "mount":
      case "fstab":
        return [node.base];
    }
  }

  private checkFilesystems(): void {
    const labels = new Map<string, ModelNode>();
    for (const node of this.nodes.values()) {
      if (node.kind !== "mkfs") continue;
      const problem = labelProblem(node.fsType, node.label);
      const entry = this.entries[node.entryIndex]!;
      const labelPath = "label" in entry.values ? [...node.origin, "label"] : node.origin;
      if (problem) this.problem(labelPath, problem.message, problem.hint);
      const previous = labels.get(node.label);
      if (previous)
        this.problem(
          labelPath,
          `file system label "${node.label}" is already used by "${previous.name}"`,
          "labels identify file systems in fstab; make them unique",
        );
      else labels.set(node.label, node);
    }
  }

  private checkMounts(): string[] {
    const byPoint = new Map<string, ModelNode>();
    const mounts: { name: string; mountPoint: string }[] = [];
    for (const node of this.nodes.values()) {
      if (node.kind !== "mount") continue;
      const path = [...node.origin, "mount_point"];
      const problem = mountPointProblem(node.mountPoint);
      if (problem) {
        this.problem(path, problem.message, problem.hint);
        continue;
      }
      const previous = byPoint.get(node.mountPoint);
      if (previous) {
        this.problem(
          path,
          `mount point "${node.mountPoint}" is already used by "${previous.name}"`,
          "mount each directory once",
        );
        continue;
      }
      byPoint.set(node.mountPoint, node);
      mounts.push(node);
    }
    return mounts.sort((a, b) => compareMountPoints(a.mountPoint, b.mountPoint)).map((m) => m.name);
  }

  /** Kahn's algorithm, always taking the ready node declared first, so the order is stable. */
  private creationOrder(mountOrder: string[]): string[] {
    const names = [...this.nodes.keys()];
    const position = new Map(names.map((name, index) => [name, index]));
    const children = new Map<string, string[]>(names.map((name) => [name, []]));
    const pending = new Map<string, number>();
    const addEdge = (from: string, to: string) => {
      children.get(from)!.push(to);
      pending.set(to, (pending.get(to) ?? 0) + 1);
    };
    for (const [key, node] of this.nodes)
      for (const parent of new Set(this.parentsOf(node))) addEdge(parent, key);
    // Mounts also wait for the mount before them in mount order, as in DIB.
    for (let index = 1; index < mountOrder.length; index += 1)
      addEdge(mountOrder[index - 1]!, mountOrder[index]!);
    const ready = names.filter((name) => (pending.get(name) ?? 0) === 0);
    const order: string[] = [];
    while (ready.length > 0) {
      ready.sort((a, b) => position.get(a)! - position.get(b)!);
      const next = ready.shift()!;
      order.push(next);
      for (const child of children.get(next)!) {
        const left = pending.get(child)! - 1;
        pending.set(child, left);
        if (left === 0) ready.push(child);
      }
    }
    return order;
  }

  private problem(path: KeyPath, message: string, hint?: string, key = false): void {
    this.problems.push({ message, ...(hint ? { hint } : {}), at: this.source.locate(path, { key }) });
  }
}

/** Message and hint for a second user of something that takes one (a device, a mkfs, a mount). */
function alreadyUsed(consumer: ModelNode, target: string, previous: ModelNode): [string, string] {
  switch (consumer.kind) {
    case "mount":
      return [
        `file system "${target}" is already mounted by "${previous.name}"`,
        "mount each file system once",
      ];
    case "fstab":
      return [
        `mount "${target}" already has the fstab entry "${previous.name}"`,
        "keep one fstab entry per mount",
      ];
    default:
      return [
        `"${target}" is already used by ${previous.kind} "${previous.name}"; a block device can hold only one thing`,
        "build one of them on another device, or stack them (e.g. mkfs on the LV, not on its PV)",
      ];
  }
}

function valueAt(values: unknown, path: (string | number)[]): unknown {
  let current = values;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function utf16Length(text: string): number {
  return text.length;
}

function formatPath(path: (string | number)[]): string {
  return path.join(".");
}

/** Keys a strict object schema allows at a path (for "did you mean" and "allowed keys"). */
function keysAt(schema: z.ZodType, path: (string | number)[]): string[] {
  let current: unknown = schema;
  for (const segment of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject) current = current.shape[segment as string];
    else if (current instanceof z.ZodArray) current = current.element;
    else return [];
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
  return current;
}
