// The Assembler's clip list and its settings, read the way studio/assembly/sequence.py's
// compile_sequence reads them (pure: no Svelte, no DOM; tests/widgets/test_assembler_clips.py
// runs this module under Node against the Python compiler). The shapes and limits come
// generated from the Python models (../../lib/assembly.ts).
import {
  AUDIO_TRACKS,
  FRAME_RATES,
  HANDLES,
  LEVEL_DB,
  OVERLAY_POSITIONS,
  OVERLAY_STYLES,
  POST_NODE_TYPES,
  TRANSITION_FRAMES,
  TRANSITION_KINDS,
  type ClipSettings,
  type MusicSettings,
} from "../../lib/assembly";
import type { GraphJSON, GraphNode } from "../../lib/types";

/** The Assembler's inputs for clips and for a ready EDL, and a post node's input (sequence.py). */
export const CLIPS_SOCKET = "clips";
export const SEQUENCE_SOCKET = "sequence";
export const MUSIC_SOCKET = "music";
const AUDIO = "Audio";
const POST_INPUT = "input";
const SHOT = "Shot";
const SCENE_GROUP = "SceneGroup";

export type FrameValue = number | string;
export type Overlay = NonNullable<ClipSettings["overlay"]>;
export type Transition = NonNullable<ClipSettings["transition"]>;

/** One clip of the edit: the node whose `clip_settings` apply, and where it comes from. */
export interface ClipEntry {
  /** The `clip_settings` key: the node connected to Clips, or a scene group's shot's own id
   * (or its last post node's inside the group). */
  key: string;
  /** What `order` lists: the node connected to Clips (a scene group for its members). */
  orderId: string;
  /** The Shot the clip's picture comes from (null when the chain does not reach one). */
  shotId: string | null;
  scene: unknown;
  shot: unknown;
  /** The post node types between the Shot and the Assembler, upstream first. */
  posts: string[];
  /** Why this entry will not compile (a post node with nothing upstream...), or null. */
  problem: string | null;
}

/** One row of the list the user orders: a node connected to Clips and its clips (a scene
 * group has one per shot, in scene/shot order; anything else has one). */
export interface ClipGroup {
  orderId: string;
  type: string;
  entries: ClipEntry[];
}

const isPost = (type: string): boolean => (POST_NODE_TYPES as readonly string[]).includes(type);

function nodesById(graph: GraphJSON): Map<string, GraphNode> {
  return new Map(graph.nodes.map((node) => [node.id, node]));
}

/** The nodes connected to the Assembler's Clips, in the order the edges were made. */
export function connectedClips(graph: GraphJSON, assemblerId: string): string[] {
  const sources = graph.edges
    .filter((e) => e.target === assemblerId && e.targetHandle === CLIPS_SOCKET)
    .map((e) => e.source);
  return [...new Set(sources)];
}

/** `order`'s connected ids first, then the connected ones it does not list (as made). */
export function orderedClips(connected: string[], order: unknown): string[] {
  const listed = (Array.isArray(order) ? order : []).filter(
    (id, index, all): id is string =>
      typeof id === "string" && connected.includes(id) && all.indexOf(id) === index,
  );
  return [...listed, ...connected.filter((id) => !listed.includes(id))];
}

/** Ids `order` lists that are no longer connected (the compiler ignores them, with a warning). */
export function staleOrder(connected: string[], order: unknown): string[] {
  return (Array.isArray(order) ? order : []).filter(
    (id): id is string => typeof id === "string" && !connected.includes(id),
  );
}

function number(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) ? value : 0;
}

function descendants(graph: GraphJSON, groupId: string): GraphNode[] {
  const found: GraphNode[] = [];
  const pending = [groupId];
  const seen = new Set(pending);
  while (pending.length) {
    const current = pending.pop();
    for (const node of graph.nodes) {
      if (node.parentId === current && !seen.has(node.id)) {
        seen.add(node.id);
        found.push(node);
        pending.push(node.id);
      }
    }
  }
  return found;
}

/** From the node connected to Clips up through post nodes to its Shot. */
function chain(graph: GraphJSON, nodes: Map<string, GraphNode>, end: GraphNode): ClipEntry {
  const posts: string[] = [];
  const seen = new Set<string>();
  let node: GraphNode | undefined = end;
  let problem: string | null = null;
  while (node && isPost(node.type)) {
    if (seen.has(node.id)) {
      problem = "its post chain is a cycle";
      break;
    }
    seen.add(node.id);
    posts.unshift(node.type);
    const upstream = graph.edges.find((e) => e.target === node?.id && e.targetHandle === POST_INPUT);
    if (!upstream) {
      problem = `${node.type} ${node.id} has nothing upstream: connect a Shot to its Input`;
      node = undefined;
      break;
    }
    node = nodes.get(upstream.source);
  }
  const shot = node && node.type === SHOT ? node : null;
  if (!problem && !shot) problem = "a clip comes from a Shot (or a post node after one)";
  return {
    key: end.id,
    orderId: end.id,
    shotId: shot?.id ?? null,
    scene: shot?.data.scene,
    shot: shot?.data.shot,
    posts,
    problem,
  };
}

/** A scene group's shot, through the post nodes after it inside the group. */
function member(graph: GraphJSON, nodes: Map<string, GraphNode>, groupId: string, shot: GraphNode,
                inside: Set<string>): ClipEntry {
  const posts: string[] = [];
  let current = shot;
  let problem: string | null = null;
  const seen = new Set([shot.id]);
  for (;;) {
    const after = graph.edges
      .filter((e) => e.source === current.id && e.targetHandle === POST_INPUT && inside.has(e.target))
      .map((e) => nodes.get(e.target))
      .filter((n): n is GraphNode => n !== undefined && isPost(n.type));
    if (after.length === 0) break;
    if (after.length > 1) {
      problem = `it feeds ${after.length} post nodes in its scene: connect the one you want directly`;
      break;
    }
    current = after[0];
    if (seen.has(current.id)) {
      problem = "its post chain is a cycle";
      break;
    }
    seen.add(current.id);
    posts.push(current.type);
  }
  return {
    key: current.id,
    orderId: groupId,
    shotId: shot.id,
    scene: shot.data.scene,
    shot: shot.data.shot,
    posts,
    problem,
  };
}

/** The Assembler's clips in edit order, grouped by the node connected to Clips. */
export function clipGroups(graph: GraphJSON, assemblerId: string, order: unknown): ClipGroup[] {
  const nodes = nodesById(graph);
  return orderedClips(connectedClips(graph, assemblerId), order).flatMap((id): ClipGroup[] => {
    const node = nodes.get(id);
    if (!node) return [];
    if (node.type !== SCENE_GROUP) return [{ orderId: id, type: node.type, entries: [chain(graph, nodes, node)] }];
    const all = descendants(graph, id);
    const inside = new Set(all.map((n) => n.id));
    const shots = all
      .filter((n) => n.type === SHOT)
      .sort((a, b) =>
        number(a.data.scene) - number(b.data.scene) ||
        number(a.data.shot) - number(b.data.shot) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    return [{ orderId: id, type: node.type, entries: shots.map((s) => member(graph, nodes, id, s, inside)) }];
  });
}

/** `ids` with the one at `from` moved to `to` (both clamped). */
export function moved(ids: string[], from: number, to: number): string[] {
  const next = [...ids];
  if (from < 0 || from >= next.length) return next;
  const [item] = next.splice(from, 1);
  next.splice(Math.max(0, Math.min(to, next.length)), 0, item);
  return next;
}

/** How the studio names a shot: `SHOT-010` (takes are `SHOT-010_v01_take03`). */
export function shotName(shot: unknown): string {
  return typeof shot === "number" && Number.isInteger(shot) && shot >= 0
    ? `SHOT-${String(shot).padStart(3, "0")}`
    : "SHOT-???";
}

// --- frames and timecode (studio/assembly/timecode.py FrameRate.frames) ----------------------

const TIMECODE = /^(\d{2}):(\d{2}):(\d{2})([:;.])(\d{2})$/;

export interface Rate {
  label: string;
  nominal: number;
  dropFrame: boolean;
}

export type Checked<T> = { value: T; error: null } | { value: null; error: string };

/** The sequence rate called `label` (the Assembler's `frame_rate`). */
export function rateOf(label: unknown): Checked<Rate> {
  const known = FRAME_RATES as Record<string, { nominal: number; drop_frame: boolean }>;
  const rate = typeof label === "string" ? known[label] : undefined;
  if (!rate) return { value: null, error: `unknown frame rate ${JSON.stringify(label)}: use one of ${Object.keys(known).join(", ")}` };
  return { value: { label: label as string, nominal: rate.nominal, dropFrame: rate.drop_frame }, error: null };
}

function example(rate: Rate): string {
  return `00:00:02${rate.dropFrame ? ";" : ":"}00`;
}

/** A frame count given as frames (`48`) or timecode (`00:00:02:00`), as the compiler counts
 * it; the error says what is wrong, in the compiler's words. */
export function frameCount(value: unknown, rate: Rate, what: string): Checked<number> {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return { value: null, error: `${what}: expects frames or timecode, not ${value}` };
    if (value < 0) return { value: null, error: `${what}: frames cannot be negative (${value})` };
    return { value, error: null };
  }
  if (typeof value !== "string") return { value: null, error: `${what}: expects frames or timecode, not ${JSON.stringify(value)}` };
  const text = value.trim();
  if (/^\d+$/.test(text)) return { value: parseInt(text, 10), error: null };
  const match = TIMECODE.exec(text);
  if (!match) {
    return {
      value: null,
      error: `${what}: ${JSON.stringify(value)} is neither frames nor timecode HH:MM:SS:FF (for example 48 or ${example(rate)})`,
    };
  }
  const [hh, mm, ss, ff] = [match[1], match[2], match[3], match[5]].map((part) => parseInt(part, 10));
  if (mm > 59 || ss > 59 || ff >= rate.nominal) {
    return {
      value: null,
      error: `${what}: ${JSON.stringify(value)} does not exist at ${rate.label} fps (minutes and seconds 0-59, frames 0-${rate.nominal - 1})`,
    };
  }
  const minutes = hh * 60 + mm;
  if (rate.dropFrame && ss === 0 && ff < 2 && mm % 10 !== 0) {
    return {
      value: null,
      error: `${what}: ${JSON.stringify(value)} is a frame number drop-frame timecode skips (the next one is ${match[1]}:${match[2]}:${match[3]};02)`,
    };
  }
  const dropped = rate.dropFrame ? 2 * (minutes - Math.floor(minutes / 10)) : 0;
  return { value: (minutes * 60 + ss) * rate.nominal + ff - dropped, error: null };
}

/** What the user typed into a frames-or-timecode field, as the setting to store: frames as a
 * number, timecode as typed; empty is null (unset). */
export function frameInput(text: string, rate: Rate, what: string): Checked<FrameValue | null> {
  const trimmed = text.trim();
  if (trimmed === "") return { value: null, error: null };
  const counted = frameCount(trimmed, rate, what);
  if (counted.error !== null) return counted;
  return { value: /^\d+$/.test(trimmed) ? counted.value : trimmed, error: null };
}

// --- one clip's settings, checked as compile_sequence checks them ---------------------------

const CLIP_KEYS = ["trim_in", "trim_out", "duration", "handles", "overlay", "transition"];
const OVERLAY_KEYS = ["text", "style", "position", "start", "duration"];
const TRANSITION_KEYS = ["kind", "frames"];

function unknownKeys(value: Record<string, unknown>, known: string[], where: string): string[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => `${where}${key}: is not a setting (known: ${known.join(", ")})`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function integerIn(value: unknown, limits: { minimum: number; maximum: number }, what: string): string | null {
  if (typeof value !== "number" || !Number.isInteger(value)) return `${what}: a whole number, not ${JSON.stringify(value)}`;
  if (value < limits.minimum || value > limits.maximum) return `${what}: ${value} is not within ${limits.minimum}-${limits.maximum}`;
  return null;
}

/** The clip's length in frames when its settings say it (trim out or a duration). */
export function clipLength(settings: ClipSettings, rate: Rate): number | null {
  const start = settings.trim_in == null ? 0 : frameCount(settings.trim_in, rate, "trim_in").value;
  if (start === null) return null;
  if (settings.trim_out != null) {
    const end = frameCount(settings.trim_out, rate, "trim_out").value;
    return end === null ? null : end - start;
  }
  if (settings.duration != null) return frameCount(settings.duration, rate, "duration").value;
  return null;
}

/** Every reason `settings` would not compile (empty: it reads). Facts only the project knows
 * (the media's length, the next clip's) are the render's to check. */
export function clipProblems(settings: unknown, rate: Rate): string[] {
  if (settings === undefined || settings === null) return [];
  if (!isObject(settings)) return [`the settings are not an object: ${JSON.stringify(settings)}`];
  const problems = unknownKeys(settings, CLIP_KEYS, "");
  const frames = (value: unknown, what: string): number | null => {
    if (value === undefined || value === null) return null;
    const counted = frameCount(value, rate, what);
    if (counted.error !== null) problems.push(counted.error);
    return counted.value;
  };
  const start = frames(settings.trim_in, "trim in") ?? 0;
  const end = frames(settings.trim_out, "trim out");
  const duration = frames(settings.duration, "duration");
  if (settings.trim_out != null && settings.duration != null) problems.push("give trim out or duration, not both");
  const out = end ?? (duration === null ? null : start + duration);
  if (out !== null && out <= start) {
    problems.push(`nothing is left between its in point (${start}) and out point (${out}): move the in point earlier or the out point later`);
  }
  if (settings.handles !== undefined) {
    const problem = integerIn(settings.handles, HANDLES, "handles");
    if (problem) problems.push(problem);
  }
  const length = out === null ? null : out - start;
  const overlay = settings.overlay;
  if (overlay !== undefined && overlay !== null) {
    if (!isObject(overlay)) {
      problems.push("overlay: not an object");
    } else {
      problems.push(...unknownKeys(overlay, OVERLAY_KEYS, "overlay "));
      if (typeof overlay.text !== "string" || overlay.text.length === 0) problems.push("overlay: the text is empty (write it, or remove the overlay)");
      if (overlay.style !== undefined && !(OVERLAY_STYLES as readonly unknown[]).includes(overlay.style)) {
        problems.push(`overlay style: ${JSON.stringify(overlay.style)} is not one of ${OVERLAY_STYLES.join(", ")}`);
      }
      if (overlay.position != null && !(OVERLAY_POSITIONS as readonly unknown[]).includes(overlay.position)) {
        problems.push(`overlay position: ${JSON.stringify(overlay.position)} is not one of ${OVERLAY_POSITIONS.join(", ")}`);
      }
      const at = frames(overlay.start ?? 0, "overlay start");
      const lasts = frames(overlay.duration, "overlay duration");
      if (at !== null && length !== null) {
        const shown = lasts ?? length - at;
        if (at >= length || shown <= 0 || at + shown > length) {
          problems.push(`its overlay (${at} + ${shown} frames) does not fit in the clip (${length} frames): start it earlier or make it shorter`);
        }
      } else if (lasts !== null && lasts <= 0) {
        problems.push("overlay duration: at least 1 frame");
      }
    }
  }
  const transition = settings.transition;
  if (transition !== undefined && transition !== null) {
    if (!isObject(transition)) {
      problems.push("transition: not an object");
    } else {
      problems.push(...unknownKeys(transition, TRANSITION_KEYS, "transition "));
      if (transition.kind !== undefined && !(TRANSITION_KINDS as readonly unknown[]).includes(transition.kind)) {
        problems.push(`transition: ${JSON.stringify(transition.kind)} is not one of ${TRANSITION_KINDS.join(", ")}`);
      }
      if (transition.frames !== undefined) {
        const problem = integerIn(transition.frames, TRANSITION_FRAMES, "dissolve frames");
        if (problem) problems.push(problem);
      }
    }
  }
  return problems;
}

/** A dissolve's length in frames, or 0 for a cut (or no transition). */
export function dissolveFrames(settings: ClipSettings | null | undefined): number {
  const transition = settings?.transition;
  if (!transition || transition.kind !== "dissolve") return 0;
  return typeof transition.frames === "number" ? transition.frames : TRANSITION_FRAMES.default;
}

/** What the clips' order makes of their transitions, by entry key: a dissolve into a next
 * clip shorter than it (the compiler refuses it), and (`warnings`) a dissolve out of the last
 * clip (ignored, with a warning). */
export function transitionProblems(keys: string[], settings: Record<string, ClipSettings | null | undefined>,
                                   rate: Rate): { problems: Record<string, string[]>; warnings: Record<string, string[]> } {
  const problems: Record<string, string[]> = {};
  const warnings: Record<string, string[]> = {};
  keys.forEach((key, index) => {
    const frames = dissolveFrames(settings[key]);
    if (!frames) return;
    const next = keys[index + 1];
    if (next === undefined) {
      warnings[key] = ["the last clip: its dissolve into the next is ignored"];
      return;
    }
    const nextSettings = settings[next];
    const length = nextSettings ? clipLength(nextSettings, rate) : null;
    if (length !== null && frames > length) {
      problems[key] = [`its ${frames}-frame dissolve is longer than the next clip (${length} frames): shorten the dissolve`];
    }
  });
  return { problems, warnings };
}

/** `settings` with `key` set to `value` (null or undefined removes it: the default). */
export function withSetting<T extends object>(settings: T | null | undefined, key: string, value: unknown): T {
  const next: Record<string, unknown> = { ...(settings ?? {}) };
  if (value === null || value === undefined) delete next[key];
  else next[key] = value;
  return next as T;
}

// --- music beds (the Music input, `music_settings[node id]`) ---------------------------------

export interface MusicBed {
  id: string;
  /** The file's name, or the node id. */
  name: string;
  /** Why it cannot be a bed (not an Audio node), or null. */
  problem: string | null;
}

/** The nodes on the Assembler's Music input, in the order they were connected. */
export function musicBeds(graph: GraphJSON, assemblerId: string): MusicBed[] {
  const nodes = nodesById(graph);
  const ids = graph.edges.filter((e) => e.target === assemblerId && e.targetHandle === MUSIC_SOCKET).map((e) => e.source);
  return [...new Set(ids)].map((id) => {
    const node = nodes.get(id);
    const file = node?.data.file;
    return {
      id,
      name: typeof file === "string" && file ? (file.split("/").pop() ?? file) : id,
      problem: node?.type === AUDIO ? null : `${node?.type ?? id} cannot be a music bed: connect an Audio node`,
    };
  });
}

const MUSIC_KEYS = ["track", "level_db", "start", "trim_in", "duration"];

/** Every reason a bed's settings would not compile (facts of the file and of the edit's
 * length are the render's to check). */
export function musicProblems(settings: unknown, rate: Rate): string[] {
  if (settings === undefined || settings === null) return [];
  if (!isObject(settings)) return [`the settings are not an object: ${JSON.stringify(settings)}`];
  const problems = unknownKeys(settings, MUSIC_KEYS, "");
  if (settings.track != null && !(AUDIO_TRACKS as readonly unknown[]).includes(settings.track)) {
    problems.push(`track: ${JSON.stringify(settings.track)} is not one of ${AUDIO_TRACKS.join(", ")}`);
  }
  const level = settings.level_db;
  if (level !== undefined && (typeof level !== "number" || !Number.isFinite(level) || level < LEVEL_DB.minimum || level > LEVEL_DB.maximum)) {
    problems.push(`level: ${JSON.stringify(level)} dB is not within ${LEVEL_DB.minimum} to ${LEVEL_DB.maximum}`);
  }
  for (const [key, what] of [["start", "start"], ["trim_in", "trim in"]] as const) {
    if (settings[key] === undefined) continue;
    const counted = frameCount(settings[key], rate, what);
    if (counted.error !== null) problems.push(counted.error);
  }
  if (settings.duration != null) {
    const counted = frameCount(settings.duration, rate, "length");
    if (counted.error !== null) problems.push(counted.error);
    else if (counted.value === 0) problems.push("length: at least 1 frame (or empty: to the end)");
  }
  return problems;
}

// --- optimistic edits ------------------------------------------------------------------------

/** JSON with sorted keys: the same value reads the same whichever way it travelled. */
export function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** A field edited optimistically: the canonical values sent and not yet echoed, oldest
 * first; the last value Python sent; and the whole-graph revision it came with. */
export interface Echoes {
  inFlight: string[];
  last: string | null;
  whole: number;
}

export function sent(echoes: Echoes, value: unknown): Echoes {
  return { ...echoes, inFlight: [...echoes.inFlight, canonical(value)] };
}

/** After Python's value `incoming` (with the canvas at whole-graph revision `whole`): the
 * echoes left, and whether the local edits are settled (show Python's value again). The
 * echo of an earlier edit leaves the later ones in flight; a whole graph (a refusal answers
 * with one) or a value none of them is (an edit from elsewhere) is the truth; a patch of the
 * node's other fields changes nothing. */
export function echoed(echoes: Echoes, incoming: unknown, whole: number): { echoes: Echoes; settled: boolean } {
  const text = canonical(incoming);
  if (whole !== echoes.whole) return { echoes: { inFlight: [], last: text, whole }, settled: true };
  if (text === echoes.last) return { echoes, settled: echoes.inFlight.length === 0 };
  const at = echoes.inFlight.indexOf(text);
  const inFlight = at === -1 ? [] : echoes.inFlight.slice(at + 1);
  return { echoes: { inFlight, last: text, whole }, settled: inFlight.length === 0 };
}
