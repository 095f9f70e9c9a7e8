/** The published JSON Schema of the config format, generated from the same zod schemas that validate it. */
import { z } from "zod";
import { NODE_TYPES } from "./nodes/registry.js";

export function configJsonSchema(): Record<string, unknown> {
  // A config is a list of single-key entries; nested plugin keys (tree form) are allowed inside entries,
  // so the per-entry schemas describe the graph form and the tree form is described in the text.
  const entry = z.union(
    Object.entries(NODE_TYPES).map(([kind, type]) =>
      z.strictObject({ [kind]: type.schema }).describe(`${kind}: ${type.summary}`),
    ) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
  );
  const schema = z
    .array(entry)
    .describe(
      "blocksmith / diskimage-builder block-device config (graph form). The tree form nests entries under their base entry, e.g. `mkfs:` inside a partition.",
    );
  return z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as Record<string, unknown>;
}
