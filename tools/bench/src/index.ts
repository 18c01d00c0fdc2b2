// Measurement helpers shared by the benchmarks in this folder.
export { measureAsync, measureInterleaved, measureSync, median, summarize, TARGET_RATIO_VS_FLOOR, TARGET_RATIO_VS_PECULIAR } from './measure.js';
export type { InterleavedScenario, MeasureOptions, ScenarioResult, Summary } from './measure.js';
