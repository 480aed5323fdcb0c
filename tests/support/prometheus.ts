/**
 * A strict parser of Prometheus' text exposition format 0.0.4, for the tests of /metrics: it
 * throws, naming the line, on anything a Prometheus server would refuse or misread (a bad
 * name or escape, a TYPE after its samples or twice, a family's samples interleaved with
 * another's, a duplicate series, a histogram whose buckets are not cumulative or lack +Inf,
 * a negative counter, no final newline).
 */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: ${JSON.stringify(text)} is not a sample value`);
  return Number(text);
}

/** name{a="b",c="d"} value [timestamp] */
function parseSample(line: string, where: string): ParsedSample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`${where}: no metric name`);
  const name = line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      const eq = line.indexOf("=", i);
      if (eq < 0) throw new Error(`${where}: a label without =`);
      const label = line.slice(i, eq);
      if (!LABEL_NAME.test(label)) throw new Error(`${where}: bad label name ${JSON.stringify(label)}`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      if (line[eq + 1] !== '"') throw new Error(`${where}: label ${label}'s value is not quoted`);
      let value = "";
      let j = eq + 2;
      for (;; j++) {
        if (j >= line.length) throw new Error(`${where}: label ${label}'s value never ends`);
        const c = line[j];
        if (c === '"') break;
        if (c === "\\") {
          const next = line[++j];
          if (next === "\\") value += "\\";
          else if (next === '"') value += '"';
          else if (next === "n") value += "\n";
          else throw new Error(`${where}: bad escape \\${next} in label ${label}`);
        } else value += c;
      }
      labels[label] = value;
      i = j + 1;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new Error(`${where}: expected , or } after label ${label}`);
    }
    i++;
  }
  if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`);
  const rest = line.slice(i + 1).split(" ");
  if (rest.length > 2 || rest.some((r) => r === "")) throw new Error(`${where}: expected a value and at most a timestamp`);
  if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1])) throw new Error(`${where}: bad timestamp ${rest[1]}`);
  return { name, labels, value: parseValue(rest[0], where) };
}

const familyOf = (sample: string, families: Map<string, ParsedFamily>) => {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = sample.endsWith(suffix) ? sample.slice(0, -suffix.length) : undefined;
    if (base && ["histogram", "summary"].includes(families.get(base)?.type ?? "")) return base;
  }
  return sample;
};

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a newline");
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  let current: string | undefined;
  const seriesSeen = new Set<string>();
  const enter = (name: string, where: string) => {
    if (current !== name) {
      if (current) closed.add(current);
      if (closed.has(name)) throw new Error(`${where}: family ${name} continues after another family`);
      current = name;
    }
  };
  text.slice(0, -1).split("\n").forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      enter(name, where);
      const family = families.get(name) ?? { name, type: "untyped" as const, samples: [] };
      families.set(name, family);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if ((family as { typed?: boolean }).typed) throw new Error(`${where}: TYPE of ${name} twice`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE of ${name} after its samples`);
        family.type = rest as ParsedFamily["type"];
        (family as { typed?: boolean }).typed = true;
      } else {
        if (family.help !== undefined) throw new Error(`${where}: HELP of ${name} twice`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${where}: bad escape in HELP`);
        family.help = rest.replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
      }
      return;
    }
    const sample = parseSample(line, where);
    const name = familyOf(sample.name, families);
    enter(name, where);
    const family = families.get(name) ?? { name, type: "untyped" as const, samples: [] };
    families.set(name, family);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seriesSeen.has(key)) throw new Error(`${where}: series ${key} twice`);
    seriesSeen.add(key);
    if (family.type === "counter" && !(sample.value >= 0)) throw new Error(`${where}: counter ${name} is ${sample.value}`);
    if (family.type === "histogram" && sample.name === `${name}_bucket` && !("le" in sample.labels)) throw new Error(`${where}: a bucket without le`);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of family.samples) {
    const { le: _, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (!samples.some((s) => s.name === `${family.name}_sum`) || !count) throw new Error(`${family.name}${key}: no _sum or _count`);
    const inf = buckets.find((b) => b.labels.le === "+Inf");
    if (!inf) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (inf.value !== count.value) throw new Error(`${family.name}${key}: +Inf bucket ${inf.value} is not _count ${count.value}`);
    const sorted = [...buckets].sort((a, b) => parseValue(a.labels.le, "le") - parseValue(b.labels.le, "le"));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].value < sorted[i - 1].value) throw new Error(`${family.name}${key}: buckets are not cumulative at le=${sorted[i].labels.le}`);
    }
  }
}

/** One sample's value by name and labels (all of them given), or undefined. */
export function valueOf(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const found = family.samples.find((s) => s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (found) return found.value;
  }
  return undefined;
}
