import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runGroup, type BenchGroup, type BenchResult } from "./harness.js";

/** A suite builds its groups; `quick` asks for the smaller sizes only where a full run would be long. */
export type Suite = (options: { quick: boolean }) => BenchGroup[];

// Each suite module is added here; they run in this order.
const SUITES: Array<() => Promise<{ suite: Suite }>> = [
  () => import("./suites/otp.js"),
  () => import("./suites/seedframe.js"),
  () => import("./suites/find.js"),
];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    filter: { type: "string" },
  },
});

const quick = values.quick ?? false;
const results: BenchResult[] = [];
console.log(`otpbridge bench (${quick ? "quick" : "full"}), node ${process.version}, ${new Date().toISOString()}`);
console.log("ratio = rate / rate of the node:crypto baseline measured in the same group, same run");
for (const load of SUITES) {
  const { suite } = await load();
  for (const group of suite({ quick })) {
    if (values.filter && !group.cases.some((c) => c.name.includes(values.filter!))) continue;
    results.push(...runGroup(group, { quick }));
  }
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ node: process.version, quick, results }, null, 2)}\n`);
  console.log(`\nwrote ${results.length} results to ${values.json}`);
}
