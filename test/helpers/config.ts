/** Small helpers for tests that load configs from strings. */
import assert from "node:assert/strict";
import { loadConfigText, type LoadedConfig } from "../../src/config/load.js";
import { ConfigError, LayoutError, type Problem } from "../../src/core/errors.js";
import { planLayout, type PlanOptions } from "../../src/plan/planner.js";
import type { Plan } from "../../src/plan/types.js";

export function load(text: string): LoadedConfig {
  return loadConfigText(text, "test.yaml");
}

export function planOf(text: string, options: PlanOptions = { imageSize: "4GiB" }): Plan {
  return planLayout(load(text).model, options);
}

/** Asserts that loading fails with a ConfigError and returns its problems. */
export function configProblems(text: string): Problem[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

export function layoutProblems(text: string, options: PlanOptions = { imageSize: "4GiB" }): Problem[] {
  const { model } = load(text);
  try {
    planLayout(model, options);
  } catch (error) {
    if (error instanceof LayoutError) return error.problems;
    throw error;
  }
  assert.fail("expected a LayoutError");
}

/** Asserts exactly one problem whose message matches, and returns it. */
export function oneProblem(problems: Problem[], pattern: RegExp): Problem {
  const matching = problems.filter((p) => pattern.test(p.message));
  assert.equal(
    matching.length,
    1,
    `expected one problem matching ${pattern}, got:\n${problems.map((p) => p.message).join("\n")}`,
  );
  return matching[0]!;
}
