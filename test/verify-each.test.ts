// The suite runs with ADGEN_VERIFY=1 (vitest.config.ts): every Program is verified as it is built
// (issue 10 item 6: "the verifier runs after every transformation"). This checks the switch is on
// and catches a malformed program at construction.

import { describe, expect, it } from "vitest";
import { ShapedArray } from "../src/core/aval.js";
import { InternalError } from "../src/core/errors.js";
import { Program, Var } from "../src/ir/program.js";
import "../src/index.js";

describe("ADGEN_VERIFY", () => {
  it("is set for the test suite", () => expect(process.env.ADGEN_VERIFY).toBe("1"));

  it("a program using a variable it never defines is refused when it is built", () => {
    const v = new Var(new ShapedArray([2], "float32"));
    expect(() => new Program([], [], [], [], [v])).toThrow(InternalError);
    expect(() => new Program([v], [], [], [], [v])).not.toThrow();
  });
});
