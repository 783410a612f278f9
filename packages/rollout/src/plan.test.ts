import { describe, expect, it } from "vitest";
import { cutoverWeights, planBatches } from "./plan.js";

const regions = ["us-east", "eu-west", "ap-south", "sa-east", "af-south"];

describe("planBatches", () => {
  it("rolling takes parallelism regions at a time, in order", () => {
    expect(planBatches({ strategy: "rolling", parallelism: 1 }, regions.slice(0, 3))).toEqual([["us-east"], ["eu-west"], ["ap-south"]]);
    expect(planBatches({ strategy: "rolling", parallelism: 2 }, regions)).toEqual([
      ["us-east", "eu-west"],
      ["ap-south", "sa-east"],
      ["af-south"],
    ]);
  });

  it("canary takes the first region alone, then parallelism at a time", () => {
    expect(planBatches({ strategy: "canary", parallelism: 2 }, regions)).toEqual([
      ["us-east"],
      ["eu-west", "ap-south"],
      ["sa-east", "af-south"],
    ]);
    expect(planBatches({ strategy: "canary", parallelism: 1 }, ["us-east"])).toEqual([["us-east"]]);
  });

  it("blue-green is one batch of every region; no regions, no batches", () => {
    expect(planBatches({ strategy: "blue_green", parallelism: 1 }, regions)).toEqual([regions]);
    expect(planBatches({ strategy: "rolling", parallelism: 1 }, [])).toEqual([]);
  });
});

describe("cutoverWeights", () => {
  it("goes through each canary step, then 100", () => {
    expect(cutoverWeights({ canarySteps: [] })).toEqual([{ weight: 100, pauseMs: 0 }]);
    expect(cutoverWeights({ canarySteps: [{ weight: 10, pauseMs: 60_000 }] })).toEqual([
      { weight: 10, pauseMs: 60_000 },
      { weight: 100, pauseMs: 0 },
    ]);
  });
});
