import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  compareMountPoints,
  isBelow,
  mountPointProblem,
  sortMountPoints,
} from "../../../src/config/mount-order.js";

const component = fc.constantFrom(
  "var",
  "log",
  "audit",
  "home",
  "boot",
  "efi",
  "tmp",
  "var2",
  "v",
  "srv",
  "data",
);
const mountPoint = fc.array(component, { maxLength: 4 }).map((parts) => `/${parts.join("/")}`);

describe("mount order", () => {
  it("puts parents before children whatever the input order (DIB's comparator does not)", () => {
    const sorted = sortMountPoints(
      ["/var/log/audit", "/var/log", "/", "/var2", "/var", "/boot/efi", "/boot"],
      (m) => m,
    );
    assert.deepEqual(sorted, ["/", "/boot", "/boot/efi", "/var", "/var/log", "/var/log/audit", "/var2"]);
  });
  it("is a total order: antisymmetric and transitive, parents first", () => {
    fc.assert(
      fc.property(mountPoint, mountPoint, mountPoint, (a, b, c) => {
        assert.ok(Math.sign(compareMountPoints(a, b)) === -Math.sign(compareMountPoints(b, a)));
        if (compareMountPoints(a, b) <= 0 && compareMountPoints(b, c) <= 0)
          assert.ok(compareMountPoints(a, c) <= 0);
        if (isBelow(b, a)) assert.ok(compareMountPoints(a, b) < 0);
      }),
    );
  });
  it("sorting any permutation gives the same order with every parent first", () => {
    fc.assert(
      fc.property(fc.uniqueArray(mountPoint, { maxLength: 12 }), (points) => {
        const sorted = sortMountPoints(points, (m) => m);
        assert.deepEqual(
          sortMountPoints([...points].reverse(), (m) => m),
          sorted,
        );
        sorted.forEach((point, index) => {
          for (const later of sorted.slice(index + 1))
            assert.ok(!isBelow(point, later), `${point} before its parent ${later}`);
        });
      }),
    );
  });
  it("treats /var2 as a sibling of /var, not a child (DIB uses a string prefix)", () => {
    assert.equal(isBelow("/var2", "/var"), false);
    assert.equal(isBelow("/var/log", "/var"), true);
    assert.equal(isBelow("/anything", "/"), true);
  });
  it("refuses relative paths, dot components, doubled slashes", () => {
    assert.match(mountPointProblem("var")?.message ?? "", /not absolute/);
    assert.match(mountPointProblem("/var/../etc")?.message ?? "", /"\.\."/);
    assert.equal(mountPointProblem("/var//log")?.hint, 'write "/var/log"');
    assert.ok(mountPointProblem("/var/"));
    assert.equal(mountPointProblem("/"), undefined);
    assert.equal(mountPointProblem("/var/log"), undefined);
  });
});
