// The renderer of docs/timeline.png (scripts/timeline-screenshot.ts, scripts/timeline-layout.ts)
// on a real trace: the screenshot script's own workload writes a trace-event file here, and the
// layout must draw one bar per complete event, in the trace's order, with the trace's names, one
// marker per instant event, each on its category's row and inside the plot; the esbuild-compiled
// copy the page inlines must lay it out identically. No Chromium needed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { config } from "../src/index.js";
import { clearTimeline } from "../src/jit/timeline.js";
import { layoutTimeline, type TimelineLayout, type TraceEventLike } from "../scripts/timeline-layout.js";
import { inlineLayoutSource, pageHtml, writeTrace } from "../scripts/timeline-screenshot.js";

let dir = "";
let doc: { traceEvents: TraceEventLike[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "adgen-timeline-render-"));
  clearTimeline();
  doc = (await writeTrace(join(dir, "trace.json"))) as typeof doc;
}, 120_000);

afterAll(() => {
  config.update({ traceFile: null });
  clearTimeline();
  rmSync(dir, { recursive: true, force: true });
});

describe("timeline renderer layout", () => {
  it("draws one bar per complete event, in order, with its name, on its category's row", () => {
    const complete = doc.traceEvents.filter((e) => e.ph === "X");
    const instants = doc.traceEvents.filter((e) => e.ph === "i");
    // the workload's trace has every kind of span the picture is meant to show
    const kinds = complete.map((e) => e.name.split(" ")[0]);
    for (const k of ["trace", "optimize", "codegen", "run", "kernel"]) expect(kinds).toContain(k);
    expect(complete.filter((e) => e.name === "codegen jit(mlpStep)")).toHaveLength(2); // first call and the new shape
    expect(instants.map((e) => e.name)).toContain("cache miss jit(mlpStep)");
    expect(instants.map((e) => e.name)).toContain("cache hit jit(mlpStep)");

    const L = layoutTimeline(doc, { width: 1200, height: 600 });
    expect(L.bars).toHaveLength(complete.length);
    expect(L.bars.map((b) => b.name)).toEqual(complete.map((e) => e.name));
    expect(L.bars.map((b) => doc.traceEvents[b.index])).toEqual(complete);
    expect(L.markers.map((m) => m.name)).toEqual(instants.map((e) => e.name));
    expect(L.rows.map((r) => r.cat)).toEqual([...new Set(doc.traceEvents.map((e) => e.cat))]);
    for (const b of L.bars) {
      const row = L.rows.find((r) => r.cat === b.cat)!;
      expect(b.y).toBeGreaterThanOrEqual(row.y);
      expect(b.y + b.h).toBeLessThanOrEqual(row.y + row.h);
      expect(b.w).toBeGreaterThan(0);
      expect(b.x).toBeGreaterThanOrEqual(L.plot.x);
      expect(b.x + b.w).toBeLessThanOrEqual(L.plot.x + L.plot.w + 2);
      expect(b.durMs).toBeCloseTo((doc.traceEvents[b.index]!.dur ?? 0) / 1000, 9);
    }
    // time runs left to right: bars in one row never go backwards
    for (const r of L.rows) {
      const xs = L.bars.filter((b) => b.cat === r.cat).map((b) => b.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
    // labels never overflow their bar (whether a real span is wide enough to be labeled depends
    // on the machine's timing, so labeling itself is checked on the synthetic trace below)
    for (const b of L.bars) if (b.label !== "") expect(b.label.length * 5.7 + 5).toBeLessThanOrEqual(b.w);
    // marker labels never run into the next marker (which ones fit depends on timing: the
    // reason a miss carries is checked on the synthetic trace below)
    L.markers.forEach((m, i) => {
      const next = L.markers.slice(i + 1).find((n) => n.cat === m.cat);
      if (m.label !== "" && next) expect(m.x + m.label.length * 5.7).toBeLessThanOrEqual(next.x);
    });
    expect(L.ticks.length).toBeGreaterThan(2);
  });

  it("the page inlines the layout compiled by esbuild, which lays the trace out the same", async () => {
    const js = await inlineLayoutSource();
    const sandbox: { TimelineLayout?: { layoutTimeline: typeof layoutTimeline } } = {};
    runInNewContext(`${js}\nthis.TimelineLayout = TimelineLayout;`, sandbox);
    const inPage = sandbox.TimelineLayout!.layoutTimeline(JSON.parse(JSON.stringify(doc)), { width: 1200, height: 600 }) as TimelineLayout;
    expect(JSON.parse(JSON.stringify(inPage))).toEqual(JSON.parse(JSON.stringify(layoutTimeline(doc, { width: 1200, height: 600 }))));
    const html = pageHtml(doc, js, "t");
    expect(html).toContain(js);
    expect(html).toContain('"traceEvents"');
    expect(html).not.toMatch(/<script[^>]+src=|<link /); // self-contained
  });

  it("a span wide enough for its name is labeled with it; a narrow one gets a shorter label or none", () => {
    const L = layoutTimeline({
      traceEvents: [
        { name: "codegen jit(step)", cat: "compile", ph: "X", ts: 0, dur: 90_000 },
        { name: "kernel 3 map", cat: "run", ph: "X", ts: 90_000, dur: 10 },
      ],
    }, { width: 1200, height: 600 });
    expect(L.bars[0]!.label.startsWith("codegen")).toBe(true);
    expect(L.bars[1]!.label.length).toBeLessThan("kernel 3 map".length);
    const M = layoutTimeline({
      traceEvents: [
        { name: "cache miss jit(step)", cat: "cache", ph: "i", ts: 0, args: { reason: "first call" } },
        { name: "codegen jit(step)", cat: "compile", ph: "X", ts: 10, dur: 50_000 },
        { name: "cache hit jit(step)", cat: "cache", ph: "i", ts: 90_000 },
      ],
    }, { width: 1200, height: 600 });
    expect(M.markers.map((m) => m.label)).toEqual(["miss: first call", "hit"]);
  });

  it("an empty trace lays out to nothing (and does not throw)", () => {
    const L = layoutTimeline({ traceEvents: [] });
    expect(L.bars).toEqual([]);
    expect(L.markers).toEqual([]);
  });
});
